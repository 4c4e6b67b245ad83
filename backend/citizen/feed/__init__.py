"""The citizen's notice feed: what is published for the areas they follow, offline-friendly."""
