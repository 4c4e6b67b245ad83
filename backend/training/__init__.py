"""Training library for commune officials: materials by topic and level, versions, completions, coverage."""
