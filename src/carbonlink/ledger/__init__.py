"""carbonlink.ledger."""
