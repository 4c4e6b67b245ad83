"""Audio production: speech, officials' recordings, assembly, loudness, MP3, the media store."""
