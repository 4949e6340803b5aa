from local import image

CERT_A = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
CERT_B = b"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----"


def test_extra_cas_keeps_only_what_the_host_lacks():
    controller = CERT_A + b"\n" + CERT_B + b"\n"
    host = CERT_A.replace(b"\n", b"\r\n") + b"\n"  # same certificate, other line ends
    assert image.extra_cas(controller, host) == [CERT_B + b"\n"]


def test_extra_cas_deduplicates():
    assert image.extra_cas(CERT_B + CERT_B, b"") == [CERT_B + b"\n"]


def test_pip_conf_keeps_indexes_and_drops_local_paths():
    controller = (
        "[global]\ncert = /somewhere/ca.pem\nfind-links = /opt/wheels\n"
        "constraint = /etc/xdg/pip/constraints.txt\n"
        "extra-index-url = file:///opt/pypi/simple https://mirror.example/simple\n"
    )
    conf = image.pip_conf(controller, {"PIP_DEFAULT_TIMEOUT": "180"})
    assert "cert = /etc/ssl/certs/ca-certificates.crt" in conf
    assert "extra-index-url = https://mirror.example/simple" in conf
    assert "timeout = 180" in conf
    assert "find-links" not in conf
    assert "constraint" not in conf
    assert "file:" not in conf


def test_pip_conf_without_controller_settings():
    assert image.pip_conf("", {}) == "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"


def test_fingerprint_changes_with_any_input():
    base = {"a": b"1", "b": b"2"}
    assert image.fingerprint(base) == image.fingerprint(dict(reversed(base.items())))
    assert image.fingerprint(base) != image.fingerprint({**base, "b": b"3"})
    assert image.fingerprint(base) != image.fingerprint({**base, "c": b""})


def test_each_release_gets_its_own_sources_and_fingerprint():
    twelve, thirteen = image.inputs(12), image.inputs(13)
    assert b"bookworm-security" in twelve["etc/apt/sources.list"]
    assert b"trixie-security" in thirteen["etc/apt/sources.list"]
    assert image.fingerprint(twelve) != image.fingerprint(thirteen)
