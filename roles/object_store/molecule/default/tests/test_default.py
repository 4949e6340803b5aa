"""The object_store role: SeaweedFS as a hardened service with an S3 gateway and buckets."""

testinfra_hosts = ["all"]


def test_service_running_enabled_and_hardened(host):
    service = host.service("seaweedfs")
    assert service.is_running
    assert service.is_enabled
    props = host.run(
        "systemctl show seaweedfs -p User -p NoNewPrivileges -p ProtectSystem -p PrivateTmp"
        " -p LimitNOFILE -p TimeoutStopUSec"
    ).stdout
    assert "User=seaweedfs" in props
    assert "LimitNOFILE=65536" in props
    assert "TimeoutStopUSec=30s" in props
    assert "NoNewPrivileges=yes" in props
    assert "ProtectSystem=strict" in props
    assert "PrivateTmp=yes" in props


def test_no_telemetry(host):
    unit = host.file("/etc/systemd/system/seaweedfs.service").content_string
    assert "-master.telemetry=false" in unit


def test_only_s3_faces_the_network(host):
    assert host.socket("tcp://0.0.0.0:8333").is_listening
    for port in (9333, 18080, 8888):
        assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
    # No Iceberg (8181) or Lance (9101) catalog servers.
    listening = host.socket.get_listening_sockets()
    assert not [s for s in listening if s.endswith((":8181", ":9101"))], listening


def test_service_user_has_no_shell(host):
    assert host.user("seaweedfs").shell == "/usr/sbin/nologin"


def test_identities_file_private(host):
    conf = host.file("/etc/seaweedfs/s3.json")
    assert conf.user == "root"
    assert conf.group == "seaweedfs"
    assert conf.mode == 0o640
    assert "MOLECULEACCESSKEY0123" in conf.content_string


def test_data_dir_owned_by_service(host):
    data = host.file("/var/lib/seaweedfs")
    assert data.user == "seaweedfs"
    assert data.mode == 0o750


def test_buckets_exist(host):
    out = host.run(
        "echo s3.bucket.list | /opt/seaweedfs/venv/bin/weed shell -master=127.0.0.1:9333"
    )
    assert out.rc == 0
    assert "mlflow-artifacts" in out.stdout
    assert "airflow-dags" in out.stdout


def test_anonymous_refused(host):
    out = host.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8333/mlflow-artifacts/")
    assert out.stdout == "403"


def signed(host, method: str, path: str, key: str, secret: str) -> str:
    """The status of a SigV4-signed request to the S3 gateway (curl 7.88 signs a body only
    as UNSIGNED-PAYLOAD)."""
    return host.run(
        f"curl -s -o /dev/null -w '%{{http_code}}' --aws-sigv4 aws:amz:us-east-1:s3 "
        f"--user {key}:{secret} -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -X {method} "
        f"{'--data-binary a,b ' if method == 'PUT' else ''}http://127.0.0.1:8333/{path}"
    ).stdout


def test_a_limited_identity_may_only_do_its_actions(host):
    """As an IAM role on AWS: the uploads key writes under its prefix and nothing else (but
    SeaweedFS's Write also deletes there, which PutObject alone does not on AWS)."""
    limited = ("MOLECULEUPLOADKEY0123", "molecule-upload-secret-0123456789")
    platform = ("MOLECULEACCESSKEY0123", "molecule-secret-key-0123456789")
    assert signed(host, "PUT", "airflow-dags/uploads/ana/a.csv", *limited) == "200"
    assert signed(host, "GET", "airflow-dags/uploads/ana/a.csv", *platform) == "200"
    assert signed(host, "PUT", "airflow-dags/train_model.py", *limited) == "403"
    assert signed(host, "PUT", "mlflow-artifacts/uploads/a.csv", *limited) == "403"
    assert signed(host, "GET", "airflow-dags/uploads/ana/a.csv", *limited) == "403"
    assert signed(host, "DELETE", "airflow-dags/train_model.py", *limited) == "403"


def test_a_wildcard_in_the_middle_of_a_key_spans_slashes_as_in_iam(host):
    """Airflow's key writes only the scoring DAG's outputs, `*.scored/*/summary.json`: `*`
    stands for any characters, `/` included, anywhere in the key (as in an IAM resource)."""
    scores = ("MOLECULESCORESKEY0123", "molecule-scores-secret-0123456789")
    for key in ("a.scored/r/summary.json", "in/deep/b.scored/run/1/summary.json"):
        assert signed(host, "PUT", f"mlflow-artifacts/{key}", *scores) == "200", key
        assert signed(host, "GET", f"mlflow-artifacts/{key}", *scores) == "200", key
    for key in ("a.scored/r/predictions.csv", "ascored/r/summary.json", "summary.json"):
        assert signed(host, "PUT", f"mlflow-artifacts/{key}", *scores) == "403", key
    assert signed(host, "PUT", "airflow-dags/a.scored/r/summary.json", *scores) == "403"
