"""Create Airflow (FAB) users, or bring their passwords and roles in line; idempotent.

Usage: ensure_user.py USERNAME EMAIL ROLE PASSWORD_FILE [USERNAME EMAIL ROLE PASSWORD_FILE ...]
(an empty EMAIL stands for USERNAME@example.invalid)
One process for every user: building Airflow's application costs seconds, a user a few
milliseconds. Prints a line starting with "changed" for each change, so Ansible reports it;
a password never is an argument.
"""

import sys
from pathlib import Path

from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

FIELDS = 4


def main(args: list[str]) -> int:
    if not args or len(args) % FIELDS:
        sys.exit(f"usage: {__doc__.splitlines()[2].removeprefix('Usage: ')}")
    users = [args[i : i + FIELDS] for i in range(0, len(args), FIELDS)]
    passwords = {username: Path(file).read_text().strip() for username, _, _, file in users}
    for (username, _, _, file), password in zip(users, passwords.values(), strict=True):
        if len(password) < 12:
            sys.exit(f"{file}: the password of {username} must have 12 characters or more")
    with get_application_builder() as appbuilder:
        for username, email, role_name, _ in users:
            email = email or f"{username}@example.invalid"
            ensure(appbuilder.sm, username, email, role_name, passwords[username])
    return 0


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
