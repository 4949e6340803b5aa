"""Create an Airflow (FAB) user, or bring its password and role in line; idempotent.

Usage: ensure_user.py USERNAME EMAIL ROLE PASSWORD_FILE. Prints a line starting with
"changed" when it changed something, so Ansible reports it; the password never is an
argument.
"""

import sys
from pathlib import Path

from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder


def main(username: str, email: str, role_name: str, password_file: str) -> int:
    password = Path(password_file).read_text().strip()
    if len(password) < 12:
        sys.exit(f"{password_file}: the password of {username} must have 12 characters or more")
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        role = sm.find_role(role_name)
        if role is None:
            sys.exit(f"{username}: there is no role {role_name!r} (Admin, Op, User, Viewer, ...)")
        user = sm.find_user(username=username)
        if user is None:
            if not sm.add_user(username, "Platform", username, email, role, password):
                sys.exit(f"could not create user {username}")
            print(f"changed: created {username} ({role_name})")
            return 0
        if not sm.check_password(username, password):
            sm.reset_password(user.id, password)
            print(f"changed: password of {username}")
        if [r.name for r in user.roles] != [role_name]:
            user.roles = [role]
            sm.update_user(user)
            print(f"changed: {username} has the role {role_name} only")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
