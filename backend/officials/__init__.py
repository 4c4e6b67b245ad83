"""Provincial and commune staff work: feedback queues, reports and the web console."""
