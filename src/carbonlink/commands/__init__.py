"""Typer command groups of the `carbonlink` CLI, one module per area."""
