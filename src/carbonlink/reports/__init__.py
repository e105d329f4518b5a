"""carbonlink.reports."""
