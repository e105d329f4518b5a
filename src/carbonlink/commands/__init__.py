"""Typer command groups, one module per area."""
