"""A station's week schedule (versioned) and its conflicts view."""
