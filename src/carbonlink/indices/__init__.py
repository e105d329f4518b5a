"""carbonlink.indices."""
