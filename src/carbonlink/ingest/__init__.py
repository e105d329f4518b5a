"""carbonlink.ingest."""
