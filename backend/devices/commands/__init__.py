"""Commands to devices and their acknowledgements."""
