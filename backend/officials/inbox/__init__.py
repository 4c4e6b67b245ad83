"""The staff inbox: what Kẻng tells one staff account (a loudspeaker cluster off the air, a notice
the programme moved or could not place), kept for the console and the API and pushed to the
account's phones through the ``staffinbox`` outbox channel. Producers (devices, broadcast) write
through its services; it imports neither of them."""
