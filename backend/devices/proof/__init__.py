"""Proof of play and manifest acknowledgements from devices, and what they add up to: a notice's
coverage (targeted clusters and boards versus those that confirmed playing it) and, for an
emergency, which targeted devices have and have not acknowledged it."""
