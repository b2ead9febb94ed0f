"""Alembic migrations, shipped inside the wheel as the package app.migrations."""
