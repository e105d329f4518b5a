"""The accounting core: pure computation on plain data and arrays (no I/O imports)."""
