"""carbonlink.exchange."""
