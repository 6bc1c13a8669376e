"""Alembic migrations for tts-router's database."""
