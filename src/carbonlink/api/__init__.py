"""carbonlink.api."""
