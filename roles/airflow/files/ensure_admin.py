"""Create the Airflow admin user, or bring its password and role in line; idempotent.

Usage: ensure_admin.py USERNAME EMAIL PASSWORD_FILE. Prints a line starting with "changed"
when it changed something, so Ansible reports it; the password never is an argument.
"""

import sys
from pathlib import Path

from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder


def main(username: str, email: str, password_file: str) -> int:
    password = Path(password_file).read_text().strip()
    if len(password) < 12:
        sys.exit(f"{password_file}: the admin password must have 12 characters or more")
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        admin = sm.find_role("Admin")
        user = sm.find_user(username=username)
        if user is None:
            if not sm.add_user(username, "Platform", "Admin", email, admin, password):
                sys.exit(f"could not create user {username}")
            print(f"changed: created {username}")
            return 0
        if not sm.check_password(username, password):
            sm.reset_password(user.id, password)
            print(f"changed: password of {username}")
        if admin not in user.roles:
            user.roles.append(admin)
            sm.update_user(user)
            print(f"changed: {username} is Admin")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
