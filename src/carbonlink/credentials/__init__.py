"""carbonlink.credentials: W3C Verifiable Credentials 2.0 with EdDSA Data Integrity proofs.

Organisations sign with Ed25519 keys published as ``did:web`` (served by carbonlink) or
``did:key`` (offline) identifiers; credentials carry an ``eddsa-rdfc-2022`` proof over the
RDF Dataset Canonicalization (RDFC-1.0) of the JSON-LD document. Contexts are read from the
local copies bundled with the package: verification never fetches anything.
"""
