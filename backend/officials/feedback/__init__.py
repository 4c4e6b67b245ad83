"""Staff handling of citizen feedback: routing, queues, deadlines, duplicates, answers."""
