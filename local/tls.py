"""The replica's own certificate authority, standing in for the CAs AWS uses (RDS's, ACM's).

`make up` makes it once per replica in its state directory (`.replica/tls/`): a CA and one
server certificate per host, for the host's name and address. Clients verify them the way
they verify RDS on AWS (libpq's `sslmode=verify-full` against the CA's file). Keys are
mode 0600; a certificate whose CA, name or address changed, or that expires within 30 days,
is issued again; nothing else is ever replaced.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Server:
    """A host that serves TLS: its name and address go into the certificate's SANs."""

    name: str
    address: str
    # further DNS names, e.g. the service names a load balancer answers for
    aliases: tuple[str, ...] = ()


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def _key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SystemExit(f"{path}: not an EC private key; delete it to have a new one made")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, 0o600)
    return key


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def ca(directory: Path, label: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA's certificate and key, made once."""
    key = _key(directory / "ca.key")
    path = directory / "ca.crt"
    if path.exists():
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        if cert.public_key() == key.public_key() and _fresh(cert):
            return cert, key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{label} replica CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _sans(server: Server) -> list[x509.GeneralName]:
    return [
        x509.DNSName(server.name),
        *(x509.DNSName(alias) for alias in server.aliases),
        x509.IPAddress(ipaddress.ip_address(server.address)),
    ]


def _valid_for(cert: x509.Certificate, ca_cert: x509.Certificate, server: Server) -> bool:
    if cert.issuer != ca_cert.subject or not _fresh(cert):
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return set(names) == set(_sans(server))


def server_certificate(directory: Path, label: str, server: Server) -> Path:
    """`<name>.crt` and `<name>.key` for one server, issued by the CA; returns the .crt."""
    ca_cert, ca_key = ca(directory, label)
    key = _key(directory / f"{server.name}.key")
    path = directory / f"{server.name}.crt"
    if path.exists():
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        if cert.public_key() == key.public_key() and _valid_for(cert, ca_cert, server):
            return path
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server.name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_sans(server)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return path


def ensure(directory: Path, label: str, servers: list[Server]) -> Path:
    """The CA and a certificate for each server; returns the CA's certificate file."""
    for server in servers:
        server_certificate(directory, label, server)
    ca(directory, label)
    return directory / "ca.crt"
