"""Bad input: each role stops before touching the host, naming the variable at fault."""

import json
import sys

import pytest

from tests.conftest import REPO, VENV_BIN, run


def pem(label: str) -> str:
    """A PEM block of that label around a body that is no key or certificate: the preflights
    check the shape only, and no key material belongs in git."""
    return f"-----BEGIN {label}-----\nbm90IGEga2V5\n-----END {label}-----\n"


GOOD = {
    "postgresql": {
        "postgresql_allowed_cidrs": ["10.0.0.0/24"],
        "postgresql_master_password": "m" * 24,
    },
    "postgresql/schemas": {
        "postgresql_login_host": "db.internal",
        "postgresql_login_password": "m" * 24,
        "postgresql_login_ca_cert": "/etc/ssl/mlops/database.pem",
        "postgresql_service_roles": [{"name": "mlflow", "password": "x" * 24}],
    },
    "object_store": {
        "object_store_access_key": "A" * 20,
        "object_store_secret_key": "s" * 30,
        "object_store_buckets": ["mlflow-artifacts"],
    },
    "common": {},
    "mlflow": {
        "mlflow_db_host": "db.internal",
        "mlflow_db_password": "d" * 20,
        "mlflow_db_ca_file": "/etc/ssl/mlops/database.pem",
        "mlflow_admin_password": "a" * 16,
        "mlflow_flask_secret_key": "f" * 32,
    },
    "airflow": {
        "airflow_db_host": "db.internal",
        "airflow_db_password": "d" * 20,
        "airflow_db_ca_file": "/etc/ssl/mlops/database.pem",
        "airflow_fernet_key": "8Jm9-7w9mZbqvB8a0C8kHc3Q0tq4qQyq3y1aQ6fKkVg=",
        "airflow_jwt_secret": "j" * 40,
        "airflow_api_secret_key": "k" * 30,
        "airflow_admin_password": "a" * 16,
    },
    "model_api": {
        "model_api_source": str(REPO / "api" / "model_api"),
        "model_api_keys": ["k" * 24],
        "model_api_mlflow_url": "http://mlflow.internal:5000",
        "model_api_mlflow_username": "reader",
        "model_api_mlflow_password": "r" * 16,
    },
    "dashboard": {
        "dashboard_source": str(REPO / "api" / "dashboard"),
        "dashboard_password": "p" * 16,
        "dashboard_mlflow_url": "http://mlflow.internal:5000",
        "dashboard_mlflow_username": "reader",
        "dashboard_mlflow_password": "r" * 16,
        "dashboard_airflow_url": "http://airflow.internal:8080",
        "dashboard_airflow_username": "dashboard",
        "dashboard_airflow_password": "a" * 16,
        "dashboard_model_api_url": "http://127.0.0.1:8000",
        "dashboard_model_api_key": "k" * 24,
    },
    "broker": {
        "broker_auth_token": "t-" * 12,
        "broker_tls_cert": pem("CERTIFICATE"),
        "broker_tls_key": pem("PRIVATE KEY"),
    },
    "load_balancer": {
        "load_balancer_domain": "mlops.example.org",
        "load_balancer_services": [
            {"name": "api", "port": 8000, "health_path": "/health", "backends": ["10.0.1.10"]}
        ],
        "load_balancer_tls_cert": pem("CERTIFICATE"),
        "load_balancer_tls_key": pem("PRIVATE KEY"),
    },
    "python_service": {
        "python_service_name": "demo",
        "python_service_lock_dir": str(REPO / "roles/python_service/molecule/default"),
    },
}


def hooks(url: str, secret: str) -> dict:
    return {"mlflow_webhooks": [{"name": "api", "url": url, "secret": secret}]}


CASES = [
    ("postgresql", {"postgresql_master_password": None}, "postgresql_master_password"),
    ("postgresql", {"postgresql_master_password": "short"}, "postgresql_master_password"),
    ("postgresql", {"postgresql_master_user": "postgres"}, "postgresql_master_user"),
    ("postgresql", {"postgresql_allowed_cidrs": ["0.0.0.0/0"]}, "postgresql_allowed_cidrs"),
    ("postgresql", {"postgresql_allowed_cidrs": ["not-a-cidr"]}, "postgresql_allowed_cidrs"),
    ("postgresql", {"postgresql_ssl_cert": "-----BEGIN CERTIFICATE-----"}, "postgresql_ssl_cert"),
    ("postgresql", {"postgresql_auth_method": "trust"}, "postgresql_auth_method"),
    ("postgresql", {"postgresql_log_statement": "everything"}, "postgresql_log_statement"),
    ("postgresql/schemas", {"postgresql_service_roles": None}, "postgresql_service_roles"),
    (
        "postgresql/schemas",
        {"postgresql_service_roles": [{"name": "mlflow", "password": "short"}]},
        "postgresql_service_roles",
    ),
    (
        "postgresql/schemas",
        {"postgresql_extra_schemas": [{"name": "mlflow_auth", "owner": "nobody"}]},
        "postgresql_extra_schemas",
    ),
    ("postgresql/schemas", {"postgresql_login_host": ""}, "postgresql_login_host"),
    ("postgresql/schemas", {"postgresql_login_ca_cert": ""}, "postgresql_login_ca_cert"),
    ("postgresql/schemas", {"postgresql_login_ssl_mode": "prefer"}, "postgresql_login_ssl_mode"),
    ("object_store", {"object_store_access_key": None}, "object_store_access_key"),
    ("object_store", {"object_store_buckets": ["Bad_Bucket"]}, "object_store_buckets"),
    ("object_store", {"object_store_s3_port": 80}, "object_store_s3_port"),
    (
        "object_store",
        {
            "object_store_identities": [
                {"name": "up", "access_key": "B" * 20, "secret_key": "t" * 30, "actions": ["Put"]}
            ]
        },
        "object_store_identities",
    ),
    ("common", {"common_timezone": "Not a zone!"}, "common_timezone"),
    ("common", {"common_ca_bundles": {"database": "not a certificate"}}, "common_ca_bundles"),
    ("common", {"common_journald_system_max_use": "lots"}, "common_journald_system_max_use"),
    ("mlflow", {"mlflow_admin_password": "password1234"}, "mlflow_admin_password"),
    ("mlflow", {"mlflow_artifacts_destination": "file:///tmp"}, "mlflow_artifacts_destination"),
    ("mlflow", {"mlflow_workers": 0}, "mlflow_workers"),
    ("mlflow", {"mlflow_db_sslmode": "disable"}, "mlflow_db_sslmode"),
    ("mlflow", {"mlflow_db_ca_file": ""}, "mlflow_db_ca_file"),
    (
        "mlflow",
        {"mlflow_cors_allowed_origins": ["https://mlflow.example.org/"]},
        "mlflow_cors_allowed_origins",
    ),
    ("mlflow", {"mlflow_cors_allowed_origins": ["*"]}, "mlflow_cors_allowed_origins"),
    ("airflow", {"airflow_fernet_key": "not-a-fernet-key"}, "airflow_fernet_key"),
    ("airflow", {"airflow_executor": "KubernetesExecutor"}, "airflow_executor"),
    ("airflow", {"airflow_db_ca_file": "relative/ca.pem"}, "airflow_db_ca_file"),
    ("airflow", {"airflow_dags_bucket": "Bad_Bucket"}, "airflow_dags_bucket"),
    (
        "airflow",
        {"airflow_users": [{"username": "dash", "role": "User", "password": "short"}]},
        "airflow_users",
    ),
    (
        "airflow",
        {"airflow_users": [{"username": "dash", "role": "Root", "password": "p" * 16}]},
        "airflow_users",
    ),
    ("mlflow", {"mlflow_users": [{"username": "reader", "password": "short"}]}, "mlflow_users"),
    ("mlflow", {"mlflow_users": [{"username": "admin", "password": "p" * 16}]}, "mlflow_users"),
    (
        "mlflow",
        hooks("http://10.0.0.5:8000/hook", "s" * 40),
        "mlflow_webhook_allowed_schemes",  # only https unless allowed
    ),
    (
        "mlflow",
        hooks("https://api.internal/hook", "short"),
        "mlflow_webhooks",
    ),
    (
        "mlflow",
        hooks("https://api.internal/hook", "s" * 40),
        "mlflow_webhook_encryption_key",  # none given
    ),
    ("mlflow", {"mlflow_auth_cache_ttl_seconds": -1}, "mlflow_auth_cache_ttl_seconds"),
    ("mlflow", {"mlflow_auth_db_schema": "Auth-Store"}, "mlflow_auth_db_schema"),
    ("model_api", {"model_api_webhook_secret": "short"}, "model_api_webhook_secret"),
    ("model_api", {"model_api_keys": None}, "model_api_keys"),
    ("model_api", {"model_api_keys": ["short"]}, "model_api_keys"),
    ("model_api", {"model_api_mlflow_url": "mlflow:5000"}, "model_api_mlflow_url"),
    ("model_api", {"model_api_workers": 0}, "model_api_workers"),
    ("model_api", {"model_api_batch_max_rows": 0}, "model_api_batch_max_rows"),
    ("model_api", {"model_api_batch_max_wait_ms": 5000}, "model_api_batch_max_wait_ms"),
    ("model_api", {"model_api_cache_max_models": 0}, "model_api_cache_max_models"),
    ("model_api", {"model_api_cache_max_mb": 0}, "model_api_cache_max_mb"),
    ("model_api", {"model_api_source": str(REPO / "api" / "missing")}, "model_api_source"),
    ("dashboard", {"dashboard_password": "short"}, "dashboard_password"),
    ("dashboard", {"dashboard_airflow_url": ""}, "dashboard_airflow_url"),
    ("dashboard", {"dashboard_port": 80}, "dashboard_port"),
    ("dashboard", {"dashboard_source": ""}, "dashboard_source"),
    ("dashboard", {"dashboard_data_bucket": "Data_Bucket"}, "dashboard_data_bucket"),
    ("dashboard", {"dashboard_upload_max_mb": 500}, "dashboard_upload_max_mb"),
    ("dashboard", {"dashboard_s3_access_key": "AKIA"}, "dashboard_s3_access_key"),
    ("python_service", {"python_service_lock_dir": "/nonexistent"}, "python_service_lock_dir"),
    ("python_service", {"python_service_name": "Bad Name"}, "python_service_name"),
    (
        "airflow",
        {"airflow_components": ["scheduler", "celery-worker"]},  # LocalExecutor
        "airflow_components",
    ),
    (
        "airflow",
        {"airflow_executor": "CeleryExecutor", "airflow_celery_broker_password": "b" * 32},
        "airflow_celery_broker_host",
    ),
    (
        "airflow",
        {
            "airflow_executor": "CeleryExecutor",
            "airflow_celery_broker_host": "broker.internal",
            "airflow_celery_broker_password": "short",
        },
        "airflow_celery_broker_password",
    ),
    (
        "airflow",
        {"airflow_execution_api_url": "http://airflow.internal:8080/"},
        "airflow_execution_api_url",
    ),
    (
        "python_service",
        {
            "python_service_migration_package": "not-in-the-lock",
            "python_service_migration_commands": [["true"]],
        },
        "python_service_migration_package",
    ),
    ("broker", {"broker_auth_token": None}, "broker_auth_token"),
    ("broker", {"broker_auth_token": "Short-token-012"}, "broker_auth_token"),  # 15
    ("broker", {"broker_auth_token": "t" * 129}, "broker_auth_token"),
    ("broker", {"broker_auth_token": "Broker-token@0123456789"}, "broker_auth_token"),
    ("broker", {"broker_tls_cert": "not a certificate"}, "broker_tls_cert"),
    ("broker", {"broker_tls_key": pem("ENCRYPTED PRIVATE KEY")}, "broker_tls_key"),
    ("broker", {"broker_bind_address": "everywhere"}, "broker_bind_address"),
    ("broker", {"broker_port": 80}, "broker_port"),
    ("broker", {"broker_port": 70000}, "broker_port"),
    ("broker", {"broker_maxmemory_mb": 0}, "broker_maxmemory_mb"),
    (
        "load_balancer",
        {"load_balancer_services": [{"name": "api", "port": 8000, "backends": []}]},
        "load_balancer_services",  # no backends
    ),
    (
        "load_balancer",
        {
            "load_balancer_services": [
                {"name": "api", "host": "api_1", "port": 80, "backends": ["a"]}
            ]
        },
        "load_balancer_services",  # not a DNS label
    ),
    (
        "load_balancer",
        {
            "load_balancer_services": [
                {"name": "api", "port": 80, "health_path": "health", "backends": ["a"]}
            ]
        },
        "load_balancer_services",
    ),
    (
        "load_balancer",
        {"load_balancer_services": [{"name": "api", "port": 80, "backends": ["a", "a:80"]}]},
        "load_balancer_services",  # the same backend twice
    ),
    (
        "load_balancer",
        {"load_balancer_services": [{"name": "api", "port": 80, "backends": ["a:99999"]}]},
        "load_balancer_services",
    ),
    (
        "load_balancer",
        {
            "load_balancer_services": [
                {"name": "api", "port": 8000, "backends": ["a"]},
                {"name": "api", "host": "model", "port": 8000, "backends": ["b"]},
            ]
        },
        "load_balancer_services",  # two of the same name
    ),
    (
        "load_balancer",
        {
            "load_balancer_services": [
                {"name": "api", "port": 8000, "backends": ["a"]},
                {"name": "model", "host": "api", "port": 8000, "backends": ["b"]},
            ]
        },
        "load_balancer_services",  # two of the same host
    ),
    ("load_balancer", {"load_balancer_domain": None}, "load_balancer_domain"),
    ("load_balancer", {"load_balancer_domain": "Example Org"}, "load_balancer_domain"),
    ("load_balancer", {"load_balancer_tls_cert": "not a certificate"}, "load_balancer_tls_cert"),
    (
        "load_balancer",
        {"load_balancer_tls_key": pem("ENCRYPTED PRIVATE KEY")},
        "load_balancer_tls_key",
    ),
    ("load_balancer", {"load_balancer_health_timeout": 15}, "load_balancer_health_timeout"),
    (
        "load_balancer",
        {"load_balancer_unhealthy_threshold": 1},
        "load_balancer_unhealthy_threshold",
    ),
    ("load_balancer", {"load_balancer_idle_timeout": 0}, "load_balancer_idle_timeout"),
    (
        "load_balancer",
        {"load_balancer_services": [{"name": "api", "port": 80, "backends": ["a"], "sticky": 2}]},
        "load_balancer_services",  # sticky is true or false
    ),
    ("load_balancer", {"load_balancer_sticky_duration": 0}, "load_balancer_sticky_duration"),
    ("load_balancer", {"load_balancer_sticky_duration": 604801}, "load_balancer_sticky_duration"),
]


@pytest.mark.parametrize(("role", "bad", "name"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_bad_input_fails_in_preflight_naming_the_variable(tmp_path, role, bad, name):
    """`role/entry` names another entry point, whose checks are in preflight_<entry>.yml."""
    variables = {**GOOD[role], **bad}
    role, _, entry = role.partition("/")
    checks = f"preflight_{entry}" if entry else "preflight"
    run_from = f"\n        tasks_from: {entry}" if entry else ""
    variables = {k: v for k, v in variables.items() if v is not None}
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: {role}\n"
        f"        tasks_from: {checks}\n      vars: {json.dumps(variables)}\n"
        # a role run through an entry point validates its argument spec first
        f"    - ansible.builtin.include_role:\n        name: {role}{run_from}\n"
        f"      vars: {json.dumps(variables)}\n"
        "    - ansible.builtin.fail:\n        msg: preflight let bad input through\n"
    )
    proc = run(
        [
            str(VENV_BIN / "ansible-playbook"),
            *("-i", "localhost,", "-c", "local", str(playbook)),
            # modules (python_service's fact gathering) run with the controller's Python
            *("-e", f"ansible_python_interpreter={sys.executable}"),
        ]
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "preflight let bad input through" not in out
    assert name in out
