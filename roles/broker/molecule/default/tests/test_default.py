"""The broker role: Redis as ElastiCache runs a node with transit encryption and an AUTH
token (TLS only, the token required, its restricted commands unknown), with an append-only
file and no eviction, as Celery's broker needs."""

import time
import urllib.parse

import pytest

testinfra_hosts = ["all"]
TOKEN = "molecule-Broker-token!&#$^<>0123"
CA = "/etc/ssl/mlops/broker.pem"
PORT = "6379"
RESTRICTED = [
    "BGREWRITEAOF",
    "BGSAVE",
    "CONFIG GET maxmemory",
    "DEBUG SLEEP 0",
    "MIGRATE 127.0.0.1 6380 k 0 1000",
    "REPLICAOF 127.0.0.1 6380",
    "SAVE",
    "SLAVEOF 127.0.0.1 6380",
    "SHUTDOWN NOSAVE",
    "SYNC",
]


def cli(host, *command, token=TOKEN, tls=True, stdin=None):
    """redis-cli on the instance, verifying the server against the CA as a client host does;
    the token travels in REDISCLI_AUTH, off the command line."""
    args = ["--tls", "--cacert", CA] if tls else []
    base = "REDISCLI_AUTH=%s timeout 10 redis-cli -h 127.0.0.1 -p %s " + " ".join(
        ["%s"] * (len(args) + len(command))
    )
    if stdin is not None:
        base = "printf %s " + "| " + base
        return host.run(base, stdin, token, PORT, *args, *command)
    return host.run(base, token, PORT, *args, *command)


def test_service_running_enabled_and_hardened(host):
    service = host.service("redis-server")
    assert service.is_running
    assert service.is_enabled
    props = host.check_output(
        "systemctl show redis-server -p User -p NoNewPrivileges -p ProtectSystem -p PrivateTmp"
        " -p ProtectHome -p CapabilityBoundingSet -p ExecStart -p Restart"
    )
    assert "User=redis" in props
    assert "NoNewPrivileges=yes" in props
    assert "ProtectSystem=strict" in props
    assert "PrivateTmp=yes" in props
    assert "ProtectHome=yes" in props
    assert "CapabilityBoundingSet=\n" in props + "\n"
    assert "/etc/redis/broker.conf" in props


def test_service_user_has_no_shell(host):
    assert host.user("redis").shell == "/usr/sbin/nologin"


def test_listens_on_the_tls_port_only(host):
    assert host.socket(f"tcp://0.0.0.0:{PORT}").is_listening
    redis = [
        line.split()[3]
        for line in host.check_output("ss -Hltnp").splitlines()
        if "redis-server" in line
    ]
    assert redis == [f"0.0.0.0:{PORT}"]


def test_secrets_are_private_and_out_of_the_configuration(host):
    for path in ("/etc/redis/broker-auth.conf", "/etc/redis/tls/server.key"):
        secret = host.file(path)
        assert (secret.user, secret.group, secret.mode) == ("root", "redis", 0o640), path
    assert TOKEN in host.file("/etc/redis/broker-auth.conf").content_string
    assert TOKEN not in host.file("/etc/redis/broker.conf").content_string
    logs = host.run("journalctl --no-pager -u redis-server").stdout
    assert "Ready to accept connections" in logs
    # nowhere in the journal (Ansible logs a module's input there) or Redis's own log
    everything = host.run("journalctl --no-pager; cat /var/log/redis/*").stdout
    assert TOKEN not in everything


def test_ping_over_tls_verified_with_the_token(host):
    out = host.run(
        "redis-cli --tls --cacert %s -h 127.0.0.1 -p %s -a %s --no-auth-warning PING",
        CA,
        PORT,
        TOKEN,
    )
    assert out.stdout.strip() == "PONG", out.stderr


# What redis-py does with Celery's broker URL: the password percent-decoded and sent alone
# (AUTH <token>), the CA from ssl_ca_certs, and with ssl_cert_reqs=required the certificate
# checked against the CA and its names against the host connected to.
CLIENT = r"""
import socket, ssl, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
query = dict(urllib.parse.parse_qsl(url.query))
assert url.scheme == "rediss" and query["ssl_cert_reqs"] == "required"
ctx = ssl.create_default_context(cafile=query["ssl_ca_certs"])
def command(*args):
    return f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname=url.hostname) as tls:
        tls.sendall(command("AUTH", urllib.parse.unquote(url.password))
                    + command("SELECT", url.path.lstrip("/")) + command("PING"))
        replies = tls.makefile("rb")
        print(" ".join(replies.readline().decode().strip() for _ in range(3)))
"""


def broker_url(host_name):
    """The URL the airflow role writes, with the token percent-encoded."""
    token = urllib.parse.quote(TOKEN, safe="")
    return f"rediss://:{token}@{host_name}:{PORT}/0?ssl_cert_reqs=required&ssl_ca_certs={CA}"


def test_the_url_airflow_uses(host):
    out = host.run("python3 -c %s %s", CLIENT, broker_url("127.0.0.1"))
    assert out.stdout.strip() == "+OK +OK +PONG", out.stdout + out.stderr


def test_the_certificate_names_are_verified(host):
    """It names the instance and 127.0.0.1, not localhost: a client refuses it there."""
    out = host.run("python3 -c %s %s", CLIENT, broker_url("localhost"))
    assert out.rc != 0
    assert "CERTIFICATE_VERIFY_FAILED" in out.stderr, out.stderr


def test_wrong_or_missing_token_refused(host):
    wrong = cli(host, "PING", token="molecule-wrong-token-0123")
    assert "WRONGPASS" in wrong.stdout + wrong.stderr
    assert "PONG" not in wrong.stdout
    missing = host.run("redis-cli --tls --cacert %s -h 127.0.0.1 -p %s PING", CA, PORT)
    assert "NOAUTH" in missing.stdout + missing.stderr
    assert "PONG" not in missing.stdout


def test_plain_text_refused(host):
    out = cli(host, "PING", tls=False)
    assert "PONG" not in out.stdout
    assert out.rc != 0 or "error" in (out.stdout + out.stderr).lower()


@pytest.mark.parametrize("command", RESTRICTED, ids=[c.split()[0] for c in RESTRICTED])
def test_restricted_commands_unknown(host, command):
    out = cli(host, *command.split())
    # redis-cli reports a refused SYNC on stderr
    assert "ERR unknown command" in out.stdout + out.stderr, out.stdout + out.stderr


def test_what_celery_uses_works(host):
    """kombu's Redis transport: lists with BRPOP, the unacked hash and index, a Lua lock,
    fan-out with PUBLISH, the binding set, MULTI/EXEC, a client name, INFO."""
    commands = (
        "CLIENT SETNAME molecule\nSELECT 0\nLPUSH celery m1\nBRPOP celery 1\n"
        "SADD _kombu.binding.celery x\nSMEMBERS _kombu.binding.celery\n"
        "HSET unacked t1 m1\nZADD unacked_index 1 t1\nZREVRANGEBYSCORE unacked_index 2 0\n"
        "SET unacked_mutex tok NX PX 5000\n"
        "EVAL \"return redis.call('del', KEYS[1])\" 1 unacked_mutex\n"
        "MULTI\nHDEL unacked t1\nZREM unacked_index t1\nEXEC\n"
        "PUBLISH /0.celery.pidbox hello\nINFO server\n"
        "DEL _kombu.binding.celery\n"
    )
    out = cli(host, stdin=commands)
    assert out.rc == 0, out.stderr
    assert "ERR" not in out.stdout, out.stdout
    assert "m1" in out.stdout


def test_no_eviction_at_the_memory_limit(host):
    info = cli(host, "INFO", "memory").stdout
    assert "maxmemory:268435456" in info
    assert "maxmemory_policy:noeviction" in info


def test_queued_messages_survive_a_restart(host):
    """Append-only file, synced every second; a restart (SIGTERM) syncs it."""
    assert "aof_enabled:1" in cli(host, "INFO", "persistence").stdout
    value = str(time.time_ns())
    assert cli(host, "LPUSH", "molecule-queue", value).rc == 0
    host.run_expect([0], "systemctl restart redis-server")
    assert cli(host, "RPOP", "molecule-queue").stdout.strip() == value
    aof = host.file("/var/lib/redis/appendonlydir")
    assert aof.is_directory
    assert aof.user == "redis"
