"""Schema migrations, applied in name order by ``backend.lib.migrations``."""
