"""The load_balancer role: HAProxy as the ALB of terraform/modules/alb. TLS 1.2+ on 443 with a
certificate from a CA, a backend per Host name, the ALB's 404 for any other host, its
X-Forwarded-* headers and health checks; stopped, killed and drained backends and reloads
cost no request. Three echo backends run on the instance (molecule/default/echo_backend.py):
api on 18001 and 18002, dashboard (sticky, as its target group) on 18003 and 18004."""

import json
import shlex
import time

import pytest

testinfra_hosts = ["all"]
DOMAIN = "molecule.test"
CURL = (
    "curl -sS --cacert /etc/ssl/molecule-lb-ca.pem --max-time 10"
    " --resolve {host}:443:127.0.0.1 https://{host}{path}"
)
ADMIN = "/run/haproxy/admin.sock"


def get(host, name: str, path: str = "/", *options: str) -> dict:
    """A request through the load balancer, verified against the CA: what the backend saw."""
    cmd = host.run(
        " ".join([CURL.format(host=f"{name}.{DOMAIN}", path=path), *options]) + " --fail"
    )
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def statuses(host, name: str, count: int, path: str = "/") -> list[str]:
    """The status codes of `count` requests made one after another, as one shell loop."""
    curl = CURL.format(host=f"{name}.{DOMAIN}", path=path)
    out = host.check_output(
        f"for i in $(seq {count}); do {curl} -o /dev/null -w '%{{http_code}}\\n'; done"
    )
    return out.split()


def runtime_api(host, command: str) -> str:
    return host.check_output(f"echo '{command}' | socat stdio {ADMIN}")


def server_status(host, backend: str, server: str) -> str:
    """UP, DOWN, DRAIN, ... from the runtime API's statistics."""
    for line in runtime_api(host, "show stat").splitlines():
        fields = line.split(",")
        if fields[:2] == [backend, server]:
            return fields[17]
    raise AssertionError(f"no server {backend}/{server}")


def wait_for_status(host, backend: str, server: str, wanted: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while (status := server_status(host, backend, server)) != wanted:
        assert time.monotonic() < deadline, f"{backend}/{server} is {status}, not {wanted}"
        time.sleep(0.5)


@pytest.fixture
def backend_18002(host):
    """Bring api's second backend back, and back in, whatever the test did to it."""
    yield "127.0.0.1:18002"
    host.run("systemctl start echo-backend@18002")
    runtime_api(host, "set server api/127.0.0.1:18002 state ready")
    wait_for_status(host, "api", "127.0.0.1:18002", "UP")


def test_haproxy_running_enabled_and_hardened(host):
    service = host.service("haproxy")
    assert service.is_running
    assert service.is_enabled
    assert host.package("haproxy").version.startswith("2.6.")
    props = host.check_output(
        "systemctl show haproxy -p NoNewPrivileges -p ProtectSystem -p PrivateTmp"
        " -p ReadWritePaths -p BindReadOnlyPaths"
    )
    assert "NoNewPrivileges=yes" in props
    assert "ProtectSystem=strict" in props
    assert "PrivateTmp=yes" in props
    assert "ReadWritePaths=/run/haproxy" in props
    assert "BindReadOnlyPaths=\n" in props + "\n"


def test_workers_run_as_haproxy_without_a_shell(host):
    users = host.check_output("ps -o user= -C haproxy").split()
    assert set(users) == {"root", "haproxy"}  # the master, its worker
    assert host.user("haproxy").shell == "/usr/sbin/nologin"


def test_only_https_listens(host):
    """As the ALB: one HTTPS listener, nothing in clear text (no port 80)."""
    assert host.socket("tcp://0.0.0.0:443").is_listening
    assert not host.socket("tcp://0.0.0.0:80").is_listening
    listening = set(host.check_output("ss -Htln | awk '{print $4}'").split())
    others = {
        "0.0.0.0:22",
        "[::]:22",
        *(f"127.0.0.1:{port}" for port in (18001, 18002, 18003, 18004)),
    }
    assert listening - others == {"0.0.0.0:443"}  # sshd and the echo backends aside


def test_certificate_and_key_readable_by_root_only(host):
    pem = host.file("/etc/haproxy/certs/load_balancer.pem")
    assert (pem.user, pem.group, pem.mode) == ("root", "root", 0o600)
    assert host.file("/etc/haproxy/certs").mode == 0o700


@pytest.mark.parametrize(
    ("name", "ports", "path"),
    [("api", {18001, 18002}, "/health"), ("dashboard", {18003, 18004}, "/_stcore/health")],
)
def test_each_host_reaches_its_service_with_the_host_header_unchanged(host, name, ports, path):
    seen = get(host, name, path)
    assert seen["port"] in ports
    assert seen["path"] == path
    assert seen["headers"]["host"] == [f"{name}.{DOMAIN}"]


def test_host_names_match_as_the_alb_does(host):
    """Case does not matter, a port in the Host header neither. (Over HTTP/2, HAProxy drops
    the scheme's default port from the authority; over HTTP/1.1 the header stays as sent.)"""
    seen = get(host, "api", "/", "--http1.1", "-H", f"'Host: API.{DOMAIN.upper()}:443'")
    assert seen["port"] in {18001, 18002}
    assert seen["headers"]["host"] == [f"API.{DOMAIN.upper()}:443"]


def test_forwarded_headers_as_the_alb_sets_them(host):
    seen = get(host, "api", "/", "-H", "'X-Forwarded-For: 203.0.113.7'")
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == ["203.0.113.7, 127.0.0.1"]
    assert headers["x-forwarded-proto"] == ["https"]
    assert headers["x-forwarded-port"] == ["443"]
    alone = get(host, "api", "/", "-H", "'X-Forwarded-Proto: http'", "-H", "'X-Forwarded-Port: 80'")
    assert alone["headers"]["x-forwarded-for"] == ["127.0.0.1"]
    assert alone["headers"]["x-forwarded-proto"] == ["https"]
    assert alone["headers"]["x-forwarded-port"] == ["443"]


@pytest.mark.parametrize("name", ["mlflow", "unknown"])
def test_any_other_host_gets_the_default_action(host, name):
    """The listener's default action: 404, text/plain, "Not found"."""
    cmd = host.run(
        CURL.format(host=f"{name}.{DOMAIN}", path="/")
        + " -o /dev/stderr -w '%{http_code} %{content_type}'"
    )
    assert cmd.stdout == "404 text/plain"
    assert cmd.stderr == "Not found"


def test_no_host_name_gets_the_default_action(host):
    code = host.check_output("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/")
    assert code == "404"


def test_http2_and_http1_are_offered(host):
    for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
        got = host.check_output(
            CURL.format(host=f"api.{DOMAIN}", path="/")
            + f" {flag} -o /dev/null -w '%{{http_version}}'"
        )
        assert got == version


def test_requests_spread_over_both_backends(host):
    ports = [get(host, "api")["port"] for _ in range(4)]
    assert sorted(ports) == [18001, 18001, 18002, 18002]  # round robin


def test_a_sticky_service_keeps_a_browser_on_one_backend(host):
    """The dashboard is sticky, as its target group (lb_cookie): the first answer sets the load
    balancer's cookie (Secure, HttpOnly, no backend address in it); requests that send it back
    stay on that backend, which never sees the cookie; requests without it are spread. The
    api is not sticky: no cookie."""
    jar = "/tmp/molecule-lb-cookies"  # noqa: S108 - on the instance
    first = get(host, "dashboard", "/", "-c", jar)["port"]
    stayed = [get(host, "dashboard", "/", "-b", jar) for _ in range(4)]
    assert [seen["port"] for seen in stayed] == [first] * 4
    assert all("MLOPSLB" not in str(seen["headers"].get("cookie")) for seen in stayed)
    assert {get(host, "dashboard")["port"] for _ in range(4)} == {18003, 18004}
    headers = {
        name: host.check_output(
            CURL.format(host=f"{name}.{DOMAIN}", path="/")
            + " -o /dev/null -D - | grep -i '^set-cookie:' || true"
        )
        for name in ("dashboard", "api")
    }
    assert headers["dashboard"].lower().startswith("set-cookie: mlopslb="), headers
    assert "Secure" in headers["dashboard"]
    assert "HttpOnly" in headers["dashboard"]
    assert "127.0.0.1" not in headers["dashboard"]
    assert headers["api"] == ""
    host.run(f"rm -f {jar}")


def test_health_checks_as_the_alb_sends_them(host):
    """GET of the service's health path with the target's address as Host, every 2 s here."""
    checks = {
        18001: "/health",
        18002: "/health",
        18003: "/_stcore/health",
        18004: "/_stcore/health",
    }
    for port, path in checks.items():
        log = host.check_output(f"journalctl -u echo-backend@{port} -n 50 --no-pager -o cat")
        assert f"GET {path} host=127.0.0.1:{port}" in log.splitlines()
    config = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "default-server check inter 2s rise 2 fall 3" in config
    assert "http-check expect status 200" in config


def python_tls(host, version: str) -> str:
    """Offer exactly one TLS version to the listener (the client allows even the old ones)."""
    script = (
        "import socket, ssl\n"
        "ctx = ssl.create_default_context(cafile='/etc/ssl/molecule-lb-ca.pem')\n"
        "ctx.set_ciphers('DEFAULT:@SECLEVEL=0')\n"
        f"ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.{version}\n"
        "try:\n"
        "    with ctx.wrap_socket(socket.create_connection(('127.0.0.1', 443)),"
        " server_hostname='api.molecule.test') as s:\n"
        "        print(s.version())\n"
        "except ssl.SSLError as e:\n"
        "    print(e.reason)\n"
    )
    return host.check_output(f"python3 -c {shlex.quote(script)}")


def test_tls_1_1_refused_by_the_server_1_2_and_1_3_accepted(host):
    assert python_tls(host, "TLSv1_1") == "TLSV1_ALERT_PROTOCOL_VERSION"
    assert python_tls(host, "TLSv1_2") == "TLSv1.2"
    assert python_tls(host, "TLSv1_3") == "TLSv1.3"


def test_weak_tls_1_2_ciphers_refused(host):
    """ELBSecurityPolicy-TLS13-1-2-2021-06 has no SHA-1 and no RSA key exchange."""
    for cipher in ("ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256"):
        cmd = host.run(
            CURL.format(host=f"api.{DOMAIN}", path="/") + f" --tls-max 1.2 --ciphers {cipher}"
        )
        assert cmd.rc == 35, cmd.stderr  # the handshake failed


def test_websocket_passes(host):
    """Streamlit's socket: the upgrade reaches the dashboard and the tunnel carries bytes."""
    script = (
        "import socket, ssl\n"
        "ctx = ssl.create_default_context(cafile='/etc/ssl/molecule-lb-ca.pem')\n"
        "ctx.set_alpn_protocols(['http/1.1'])\n"
        "s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', 443)),"
        " server_hostname='dashboard.molecule.test')\n"
        "s.sendall(b'GET /_stcore/stream HTTP/1.1\\r\\nHost: dashboard.molecule.test\\r\\n"
        "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n')\n"
        "print(s.recv(4096).split(b'\\r\\n')[0].decode())\n"
        "s.sendall(b'through the tunnel')\n"
        "print(s.recv(4096).decode())\n"
    )
    status, echoed = host.check_output(f"python3 -c {shlex.quote(script)}").splitlines()
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert echoed == "through the tunnel"
    config = host.file("/etc/haproxy/haproxy.cfg").content_string
    assert "timeout tunnel 300s" in config  # the ALB's idle timeout


def test_a_stopped_backend_is_taken_out_and_costs_no_request(host, backend_18002):
    host.run_expect([0], "systemctl stop echo-backend@18002")
    codes = []
    deadline = time.monotonic() + 20
    while server_status(host, "api", backend_18002) != "DOWN":
        assert time.monotonic() < deadline, "the health check did not take the backend out"
        codes += statuses(host, "api", 4)
    codes += statuses(host, "api", 4)
    assert set(codes) == {"200"}, codes
    assert len(codes) >= 8


def test_a_killed_backend_costs_no_request_that_was_not_in_flight(host, backend_18002):
    host.run_expect([0], "systemctl kill -s KILL echo-backend@18002")
    assert set(statuses(host, "api", 10)) == {"200"}


def test_draining_through_the_runtime_api_survives_a_reload(host, backend_18002):
    """What a drill does: drain a backend, reload, still drained; then back to ready."""
    assert runtime_api(host, f"set server api/{backend_18002} state drain") == ""
    host.run_expect([0], "systemctl reload haproxy")
    wait_for_status(host, "api", backend_18002, "DRAIN")
    assert {get(host, "api")["port"] for _ in range(4)} == {18001}
    runtime_api(host, f"set server api/{backend_18002} state ready")
    assert {get(host, "api")["port"] for _ in range(4)} == {18001, 18002}


def test_reloads_drop_no_connection(host):
    """A slow request in flight and a stream of new ones across two reloads: all answered."""
    slow = CURL.format(host=f"api.{DOMAIN}", path="/slow") + " -o /dev/null -w '%{http_code}\\n'"
    fast = CURL.format(host=f"api.{DOMAIN}", path="/") + " -o /dev/null -w '%{http_code}\\n'"
    out = host.check_output(
        f"({slow}) & (for i in $(seq 40); do {fast}; done) & "
        "sleep 0.3; systemctl reload haproxy; sleep 0.3; systemctl reload haproxy; wait"
    )
    codes = out.split()
    assert len(codes) == 41
    assert set(codes) == {"200"}, codes
    # old workers leave once their connections are done
    deadline = time.monotonic() + 10
    while len(host.check_output("ps -o pid= -C haproxy").split()) != 2:
        assert time.monotonic() < deadline, "an old worker stayed"
        time.sleep(0.5)
