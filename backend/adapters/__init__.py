"""Every external system behind a small interface, each with a real and a fake implementation."""
