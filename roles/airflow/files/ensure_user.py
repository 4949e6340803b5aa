"""Create Airflow (FAB) users, or bring their passwords and roles in line; idempotent.

Usage: ensure_user.py USERNAME EMAIL ROLE PASSWORD_FILE [USERNAME EMAIL ROLE PASSWORD_FILE ...]
(an empty EMAIL stands for USERNAME@example.invalid; the first user must be an Admin)
One process for every user: building Airflow's application costs seconds, a user a few
milliseconds. When the API server already runs (every run after the first), each user is
first checked through it: each logs in with its password (POST /auth/token) and has its role
only (read with the admin's token). Only when a check fails, or the server does not answer,
is the application built. Prints a line starting with "changed" for each change, so Ansible
reports it; a password never is an argument.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

FIELDS = 4
API_TIMEOUT = 10


def main(args: list[str]) -> int:
    if not args or len(args) % FIELDS:
        sys.exit(f"usage: {__doc__.splitlines()[2].removeprefix('Usage: ')}")
    users = [args[i : i + FIELDS] for i in range(0, len(args), FIELDS)]
    passwords = {username: Path(file).read_text().strip() for username, _, _, file in users}
    for (username, _, _, file), password in zip(users, passwords.values(), strict=True):
        if len(password) < 12:
            sys.exit(f"{file}: the password of {username} must have 12 characters or more")
    wanted = [(username, role, passwords[username]) for username, _, role, _ in users]
    if in_line(api_url(os.environ), wanted):
        return 0
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        for username, email, role_name, _ in users:
            email = email or f"{username}@example.invalid"
            ensure(appbuilder.sm, username, email, role_name, passwords[username])
    return 0


def api_url(environ: dict[str, str]) -> str:
    """The API server of this host, from the service's own environment file."""
    host = environ.get("AIRFLOW__API__HOST", "127.0.0.1")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a bind address, read here
        host = "127.0.0.1"
    return f"http://{host}:{environ.get('AIRFLOW__API__PORT', '8080')}"


def in_line(url: str, users: list[tuple[str, str, str]]) -> bool:
    """True when the running API server proves every (username, role, password): each logs in,
    and the first user's (an admin's) token reads each one's roles as [role]. False when any
    check fails or the server does not answer: the application then decides."""
    try:
        tokens = {username: token(url, username, password) for username, _, password in users}
        admin = tokens[users[0][0]]
        return all(roles(url, admin, username) == [role] for username, role, _ in users)
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError):
        return False


def token(url: str, username: str, password: str) -> str:
    return _json(f"{url}/auth/token", {"username": username, "password": password})["access_token"]


def roles(url: str, admin_token: str, username: str) -> list[str]:
    user = _json(f"{url}/auth/fab/v1/users/{urllib.parse.quote(username)}", token=admin_token)
    return [role["name"] for role in user["roles"]] if user.get("active") else []


def _json(url: str, body: dict | None = None, token: str | None = None) -> dict:
    """GET (or POST `body`) a JSON API call of the local API server; its answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - http URL
    with urllib.request.urlopen(request, timeout=API_TIMEOUT) as answer:  # noqa: S310
        return json.load(answer)


def ensure(sm, username: str, email: str, role_name: str, password: str) -> None:
    role = sm.find_role(role_name)
    if role is None:
        sys.exit(f"{username}: there is no role {role_name!r} (Admin, Op, User, Viewer, ...)")
    user = sm.find_user(username=username)
    if user is None:
        if not sm.add_user(username, "Platform", username, email, role, password):
            sys.exit(f"could not create user {username}")
        print(f"changed: created {username} ({role_name})")
        return
    if not sm.check_password(username, password):
        sm.reset_password(user.id, password)
        print(f"changed: password of {username}")
    if [r.name for r in user.roles] != [role_name]:
        user.roles = [role]
        sm.update_user(user)
        print(f"changed: {username} has the role {role_name} only")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
