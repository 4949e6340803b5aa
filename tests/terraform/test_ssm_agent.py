"""The first-boot script that installs the SSM agent (modules/compute/ssm_agent.sh.tftpl),
run here with stand-ins for curl, dpkg, systemctl, sleep and date on PATH.

Defect 3 of issue 11: at first boot the NAT route or the S3 endpoint may not carry traffic
yet. `curl --retry` does not retry a refused or timed-out connection, and under `set -eu`
the first failure ended the script: the host never got its agent, and Ansible (which
connects through SSM) could never reach it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

TEMPLATE = REPO / "terraform" / "modules" / "compute" / "ssm_agent.sh.tftpl"
REGION = "eu-west-1"


def render(region: str = REGION) -> str:
    """What templatefile() makes of it: ${region} replaced, $${ and %%{ unescaped."""
    return (
        TEMPLATE.read_text().replace("${region}", region).replace("$${", "${").replace("%%{", "%{")
    )


def stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def host(tmp_path: Path):
    """A PATH of stand-ins. curl fails with exit code 7 (connection refused) as many times as
    the file `refusals` says, then writes the package; every call is logged; the clock moves
    on by a minute at each `date +%s`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    (tmp_path / "refusals").write_text("0")
    (tmp_path / "clock").write_text("1000000")
    stub(
        bin_dir,
        "curl",
        f"""echo "curl $*" >> {log}
left=$(cat {tmp_path}/refusals)
if [ "$left" -gt 0 ]; then
  echo $((left - 1)) > {tmp_path}/refusals
  echo "curl: (7) Failed to connect: Connection refused" >&2
  exit 7
fi
while [ $# -gt 0 ]; do
  if [ "$1" = "--output" ] || [ "$1" = "-o" ]; then echo deb > "$2"; fi
  shift
done
""",
    )
    stub(bin_dir, "dpkg", f'echo "dpkg $*" >> {log}\n')
    stub(bin_dir, "systemctl", f'echo "systemctl $*" >> {log}\n')
    stub(bin_dir, "sleep", f'echo "sleep $*" >> {log}\n')
    stub(
        bin_dir,
        "date",
        f"""if [ "$1" = "+%s" ]; then
  now=$(( $(cat {tmp_path}/clock) + 60 )); echo $now > {tmp_path}/clock; echo $now
else /bin/date "$@"; fi
""",
    )
    script = tmp_path / "ssm_agent.sh"
    script.write_text(render())

    def run(refusals: int) -> tuple[subprocess.CompletedProcess[str], str]:
        (tmp_path / "refusals").write_text(str(refusals))
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path),
        }
        proc = subprocess.run(
            ["/bin/sh", str(script)], env=env, capture_output=True, text=True, timeout=60
        )
        return proc, log.read_text() if log.exists() else ""

    return run


def test_the_script_is_valid_posix_sh():
    proc = subprocess.run(["/bin/sh", "-n"], input=render(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_download_comes_from_the_regions_bucket():
    assert f"https://s3.{REGION}.amazonaws.com/amazon-ssm-{REGION}/latest/debian_amd64/" in (
        render()
    )


def test_refused_connections_are_retried_until_the_agent_is_installed(host):
    proc, calls = host(refusals=3)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls.count("curl ") == 4
    assert "dpkg -i" in calls
    assert "systemctl enable --now amazon-ssm-agent" in calls


def test_curl_itself_retries_every_error():
    assert "--retry-all-errors" in render()
    assert "--connect-timeout" in render()


def test_a_network_that_never_comes_gives_up_at_a_deadline(host):
    proc, calls = host(refusals=10_000)
    assert proc.returncode != 0
    assert "dpkg" not in calls
    # one minute per `date` call in the stand-in: a bounded number of attempts, then an error
    assert 2 <= calls.count("curl ") < 100
    assert "giving up" in proc.stderr


def test_an_installed_agent_is_only_started(host, tmp_path: Path):
    """Run at every boot: once the agent is there, nothing is downloaded again."""
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "amazon-ssm-agent", "exit 0\n")
    proc, calls = host(refusals=0)
    assert proc.returncode == 0, proc.stderr
    assert "curl" not in calls
    assert "systemctl enable --now amazon-ssm-agent" in calls
