"""roles/airflow's user helper, its check through the running API server: the users are
left alone only when every one logs in with its password and has its role only; any other
answer, or no server, sends the helper to Airflow's application (not imported here)."""

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO, free_port

_spec = importlib.util.spec_from_file_location(
    "ensure_user", REPO / "roles" / "airflow" / "files" / "ensure_user.py"
)
ensure_user = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ensure_user)

USERS = {
    "admin": {"password": "admin-password-1", "roles": ["Admin"], "active": True},
    "dashboard": {"password": "dashboard-password", "roles": ["User"], "active": True},
}


class FakeAirflow(BaseHTTPRequestHandler):
    """POST /auth/token and GET /auth/fab/v1/users/NAME as Airflow's FAB auth manager answers
    them; a token is "token-NAME"."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = USERS.get(body["username"])
        if self.path != "/auth/token" or not user or user["password"] != body["password"]:
            return self._answer(401, {"detail": "Invalid credentials"})
        return self._answer(201, {"access_token": f"token-{body['username']}"})

    def do_GET(self):
        name = self.path.removeprefix("/auth/fab/v1/users/")
        if self.headers.get("Authorization") != "Bearer token-admin":
            return self._answer(403, {"detail": "Forbidden"})
        if name not in USERS:
            return self._answer(404, {"detail": "not found"})
        user = USERS[name]
        roles = [{"name": role} for role in user["roles"]]
        return self._answer(200, {"username": name, "roles": roles, "active": user["active"]})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def wanted(**changes):
    users = {name: (user["roles"][0], user["password"]) for name, user in USERS.items()}
    users.update(changes)
    return [(name, role, password) for name, (role, password) in users.items()]


def test_users_in_line_are_left_alone(url):
    assert ensure_user.in_line(url, wanted())


@pytest.mark.parametrize(
    "changes",
    [
        {"dashboard": ("User", "a-new-password")},  # the password to set differs
        {"dashboard": ("Viewer", "dashboard-password")},  # the role to give differs
        {"admin": ("Admin", "a-new-admin-password")},  # no admin token: nothing is proven
        {"analyst": ("Viewer", "analyst-password")},  # a user to create
    ],
)
def test_any_difference_goes_to_the_application(url, changes):
    assert not ensure_user.in_line(url, wanted(**changes))


def test_an_inactive_user_goes_to_the_application(url, monkeypatch):
    monkeypatch.setitem(USERS, "dashboard", {**USERS["dashboard"], "active": False})
    assert not ensure_user.in_line(url, wanted())


def test_no_server_goes_to_the_application():
    assert not ensure_user.in_line(f"http://127.0.0.1:{free_port()}", wanted())


def test_the_api_url_comes_from_the_service_environment():
    assert ensure_user.api_url({}) == "http://127.0.0.1:8080"
    environment = {"AIRFLOW__API__HOST": "0.0.0.0", "AIRFLOW__API__PORT": "9090"}  # noqa: S104
    assert ensure_user.api_url(environment) == "http://127.0.0.1:9090"
    assert ensure_user.api_url({"AIRFLOW__API__HOST": "10.0.1.5"}) == "http://10.0.1.5:8080"
