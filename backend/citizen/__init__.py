"""Citizens: anonymous registration today; subscriptions, feed, push and feedback build on it."""
