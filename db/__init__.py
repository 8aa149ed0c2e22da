"""Persistence: SQLAlchemy models, the engine and sessions."""
