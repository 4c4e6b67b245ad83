"""What each citizen follows: areas (and the categories they care about)."""
