"""carbonlink.monitor."""
