"""carbonlink.store."""
