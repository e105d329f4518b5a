"""Typer commands, one module per area, registered in `carbonlink.cli`."""
