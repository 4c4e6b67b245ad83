"""Presence, reported and desired state, alarms and the staff notified about them."""
