"""Loudspeaker clusters, e-boards and receivers over MQTT."""
