"""Reference client for Kẻng: a typed API client today; the offline store and simulators build on it."""
