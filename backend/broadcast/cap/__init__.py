"""CAP 1.2: every published notice as a CAP alert message, and an Atom index of current alerts."""

from backend.broadcast.cap.channel import handle as cap_channel_handler

__all__ = ["cap_channel_handler"]
