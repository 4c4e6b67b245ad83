"""SMS: citizens opt in with a phone number; emergencies (and, for those who ask, every notice)
go out through an SMS gateway, in UCS-2 or in GSM-7 without diacritics, with per-message status,
retries and cost."""

from backend.citizen.sms.channel import SmsChannel

__all__ = ["SmsChannel"]
