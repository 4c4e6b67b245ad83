"""The e-board player page (``/boards/{id}/player``) for browser-based boards: the current signed
playlist and emergencies over HTTP, a service worker that keeps everything for offline play, and
proof of play by HTTP."""
