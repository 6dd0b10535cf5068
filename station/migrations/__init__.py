"""Alembic migrations of the station database (run at open, after a backup)."""
