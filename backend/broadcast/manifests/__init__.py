"""Signed manifests: the envelope, the versioned store, and what a group or an area holds now."""
