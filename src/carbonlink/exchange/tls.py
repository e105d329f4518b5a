"""A self-signed TLS certificate for a development PACT host (PACT requires HTTPS).

The certificate is its own CA (basic constraints CA:TRUE, path length 0), so a client trusts it by
giving its path as the CA bundle (``httpx.Client(verify=ssl_context(cert))``). Not for production:
there a certificate from a public or enterprise CA belongs in front of the host.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "pact-dev-cert.pem"
KEY_FILE = "pact-dev-key.pem"


def make_dev_certificate(
    directory: Path,
    hosts: Sequence[str] = ("localhost", "127.0.0.1", "::1"),
    *,
    days: int = 365,
    now: datetime | None = None,
) -> tuple[Path, Path]:
    """Write a self-signed certificate and its P-256 key into ``directory``; returns their paths.

    ``hosts`` become the subject alternative names (IP addresses as IP entries). The key file is
    readable by its owner only.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "carbonlink development"),
        ]
    )
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / CERT_FILE
    key_path = directory / KEY_FILE
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.chmod(0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def trust(certificate: Path) -> ssl.SSLContext:
    """A client TLS context that trusts exactly this certificate (and checks the host name)."""
    return ssl.create_default_context(cafile=str(certificate))
