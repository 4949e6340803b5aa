"""`postgresql_scram_sha256`: a password as PostgreSQL's SCRAM-SHA-256 verifier.

A role's password is sent to the server as its verifier, never in plain text: the server
logs DDL (`log_statement = ddl`, as the RDS parameter group does), and `CREATE/ALTER ROLE
... PASSWORD '<plain>'` is DDL. PostgreSQL stores a verifier it is given as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ansible.errors import AnsibleFilterError

ITERATIONS = 4096  # PostgreSQL's scram_iterations default


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def scram_sha256(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802, RFC 7677).

    A new random salt each call unless one is given. Only printable ASCII passwords are
    accepted: PostgreSQL runs others through SASLprep first, which this does not do.
    """
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("postgresql_scram_sha256: the password must be a non-empty string")
    if not (password.isascii() and password.isprintable()):
        raise AnsibleFilterError(
            "postgresql_scram_sha256: use a printable ASCII password (generated secrets are)"
        )
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


class FilterModule:
    def filters(self):
        return {"postgresql_scram_sha256": scram_sha256}
