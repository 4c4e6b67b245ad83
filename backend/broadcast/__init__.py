"""Station schedules, programmes, audio, e-board playlists, signed manifests and CAP."""
