"""Commands on the replica's hosts, as root, through podman (the hosts are containers)."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass

from local import config, podman


@dataclass(frozen=True)
class OnHost:
    """One host of a replica: run a command there, write a file there, wait for a URL."""

    replica: config.Replica
    host: config.Host

    @classmethod
    def named(cls, replica: config.Replica, name: str) -> OnHost:
        (host,) = [host for host in replica.hosts if host.name == name]
        return cls(replica, host)

    @property
    def container(self) -> str:
        return self.replica.container(self.host)

    @property
    def ip(self) -> str:
        return self.replica.ip(self.host)

    def sh(self, script: str, input: bytes | None = None) -> str:
        return podman.exec_(self.container, ["sh", "-ec", script], input=input)

    def write(self, path: str, content: str, mode: str = "0600") -> None:
        self.sh(
            f"umask 077; cat > {shlex.quote(path)}; chmod {mode} {shlex.quote(path)}",
            input=content.encode(),
        )

    def status(self, url: str, timeout: float = 5) -> int | None:
        """The HTTP status a GET of `url` gets on the host, None when nothing answers."""
        probe = (
            "import sys, urllib.request, urllib.error\n"
            "try:\n"
            f"    print(urllib.request.urlopen(sys.argv[1], timeout={timeout}).status)\n"
            "except urllib.error.HTTPError as error:\n"
            "    print(error.code)\n"
            "except OSError:\n"
            "    print('none')\n"
        )
        out = podman.exec_(self.container, ["python3", "-c", probe, url]).strip()
        return None if out == "none" else int(out)

    def wait_until_ok(self, url: str, timeout: float, unit: str | None = None) -> float:
        """Seconds until `url` answers 200 on the host; TimeoutError after `timeout`, or
        RuntimeError with its log as soon as `unit` (the server's) has failed."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.status(url) == 200:
                return time.monotonic() - started
            if unit and self.sh(f"systemctl is-failed {unit} || true").strip() == "failed":
                log = self.sh(f"journalctl -u {unit} -n 20 --no-pager || true")
                raise RuntimeError(f"{unit} on {self.host.name} failed:\n{log}")
            time.sleep(0.5)
        raise TimeoutError(f"{url} on {self.host.name} did not answer 200 in {timeout:.0f} s")

    def post_json(self, url: str, body: dict, headers: dict[str, str]) -> dict:
        """POST a JSON body on the host and return the JSON answer (it must be a 200)."""
        probe = (
            "import json, sys, urllib.request\n"
            "request = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(),"
            " headers=json.loads(sys.argv[2]), method='POST')\n"
            "print(urllib.request.urlopen(request, timeout=60).read().decode())\n"
        )
        all_headers = json.dumps({"Content-Type": "application/json", **headers})
        out = podman.exec_(
            self.container,
            ["python3", "-c", probe, url, all_headers],
            input=json.dumps(body).encode(),
        )
        return json.loads(out)
