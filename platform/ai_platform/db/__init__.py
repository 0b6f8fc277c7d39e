"""Persistence: async engine and sessions, ORM models, Alembic migrations."""
