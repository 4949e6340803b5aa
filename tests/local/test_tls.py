"""local/tls.py: the replica's CA and its hosts' certificates, verified as libpq verifies
them (the chain, the name or address), kept when still right and issued again when not."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from local import tls

RDS = tls.Server("rds", "10.1.2.21")


def sans(path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in names}


def test_server_certificate_verifies_against_the_ca_for_its_name_and_address(tmp_path):
    ca = tls.ensure(tmp_path, "t", [RDS])
    assert sans(tmp_path / "rds.crt") == {"rds", "10.1.2.21"}
    cert = x509.load_pem_x509_certificate((tmp_path / "rds.crt").read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))


def test_keys_are_private(tmp_path):
    tls.ensure(tmp_path, "t", [RDS])
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "rds.key").stat().st_mode & 0o777 == 0o600


def test_kept_when_right_issued_again_when_the_address_changes(tmp_path):
    tls.ensure(tmp_path, "t", [RDS])
    first = (tmp_path / "rds.crt").read_bytes()
    ca = (tmp_path / "ca.crt").read_bytes()
    tls.ensure(tmp_path, "t", [RDS])
    assert (tmp_path / "rds.crt").read_bytes() == first
    tls.ensure(tmp_path, "t", [tls.Server("rds", "10.1.3.21")])
    assert (tmp_path / "rds.crt").read_bytes() != first
    assert sans(tmp_path / "rds.crt") == {"rds", "10.1.3.21"}
    assert (tmp_path / "ca.crt").read_bytes() == ca  # the CA stays: clients keep trusting it


def test_a_new_ca_reissues_the_server_certificates(tmp_path):
    tls.ensure(tmp_path, "t", [RDS])
    first = (tmp_path / "rds.crt").read_bytes()
    (tmp_path / "ca.key").unlink()
    (tmp_path / "ca.crt").unlink()
    ca = tls.ensure(tmp_path, "t", [RDS])
    cert = x509.load_pem_x509_certificate((tmp_path / "rds.crt").read_bytes())
    assert cert.public_bytes(serialization.Encoding.PEM) != first
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.read_bytes()))


def test_a_load_balancer_certificate_carries_the_service_names(tmp_path):
    """The lb host terminates TLS for every service name, as the ALB's ACM certificate."""
    lb = tls.Server("lb", "10.1.2.23", ("api.mlops.test", "mlflow.mlops.test"))
    tls.ensure(tmp_path, "t", [lb])
    assert sans(tmp_path / "lb.crt") == {"lb", "api.mlops.test", "mlflow.mlops.test", "10.1.2.23"}
    first = (tmp_path / "lb.crt").read_bytes()
    tls.ensure(tmp_path, "t", [tls.Server("lb", "10.1.2.23", ("api.mlops.test",))])
    assert (tmp_path / "lb.crt").read_bytes() != first  # a name less: issued again
