"""roles/postgresql's `postgresql_scram_sha256` filter: the verifier PostgreSQL itself makes."""

import base64
import importlib.util

import pytest
from ansible.errors import AnsibleFilterError

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location(
    "scram", REPO / "roles" / "postgresql" / "filter_plugins" / "scram.py"
)
scram = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scram)

# Made by PostgreSQL 15 (CREATE ROLE ... PASSWORD 'correct horse battery staple', then
# SELECT rolpassword FROM pg_authid).
POSTGRES_VERIFIER = (
    "SCRAM-SHA-256$4096:AHrlMVa1S8Tkpf1kLQt/sw==$MzGfx+TQhctfvLAuQYQ11015m7EUw+Dw0CyIpsV5AIg="
    ":uXTNQZwuKPyCy6Qgk0H3e9gqGPFkIBpZ25TCbU0TPHo="
)


def test_same_verifier_as_postgresql_for_the_same_salt():
    salt = base64.b64decode("AHrlMVa1S8Tkpf1kLQt/sw==")
    assert scram.scram_sha256("correct horse battery staple", salt=salt) == POSTGRES_VERIFIER


def test_a_new_salt_each_time_and_no_plain_text():
    password = "g3nerated-Secret_value-0123456789"
    first, second = scram.scram_sha256(password), scram.scram_sha256(password)
    assert first != second
    assert first.startswith("SCRAM-SHA-256$4096:")
    assert password not in first


@pytest.mark.parametrize("bad", ["", "pässword-with-umlaut", "tab\tinside", None])
def test_refuses_what_it_cannot_hash_as_postgresql_would(bad):
    with pytest.raises(AnsibleFilterError):
        scram.scram_sha256(bad)


def test_registered_under_its_name():
    assert scram.FilterModule().filters()["postgresql_scram_sha256"] is scram.scram_sha256
