"""Alembic migrations of carbonlink's store (run through `carbonlink.store.migrate`)."""
