"""The platform on the running replica as its users reach it: MLflow's registry as admin,
Airflow's REST API, the model API with a key; and what it holds, counted."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property

import httpx
import psycopg2
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from psycopg2 import sql

from local import config, secrets
from local.clients import AirflowApi

MODEL = "wine-cultivar"  # the demo's registered model (ansible/group_vars: model_api)
_VERSION_LINE = re.compile(r'^model_api_model_version\{pid="(\d+)"\} (\S+)$', re.MULTILINE)
# Where MLflow's basic-auth app keeps its users (roles/mlflow: mlflow_auth_db_schema).
AUTH_SCHEMA = "mlflow_auth"
_WOKE_LINE = re.compile(r'^model_api_webhooks_total\{result="woke"\} (\S+)$', re.MULTILINE)


@dataclass
class Platform:
    replica: config.Replica

    def ip(self, name: str) -> str:
        (host,) = [host for host in self.replica.hosts if host.name == name]
        return self.replica.ip(host)

    @cached_property
    def secrets(self) -> dict[str, str]:
        return secrets.load(self.replica.secrets_file)

    @property
    def api_key(self) -> str:
        return self.secrets["secret_model_api_key"]

    @cached_property
    def registry(self) -> MlflowClient:
        os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
        os.environ["MLFLOW_TRACKING_PASSWORD"] = self.secrets["secret_mlflow_admin_password"]
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        return MlflowClient(tracking_uri=f"http://{self.ip('mlflow')}:5000")

    @cached_property
    def airflow(self) -> AirflowApi:
        base = f"http://{self.ip('airflow')}:8080"
        return AirflowApi.login(base, "admin", self.secrets["secret_airflow_admin_password"])

    @cached_property
    def model_api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://{self.ip('app')}:8000",
            headers={"X-API-Key": self.api_key},
            timeout=10,
            # uvicorn closes a connection idle 5 s, httpx's default expiry: a connection reused
            # at that moment is closed under it ("Server disconnected", seen under load)
            limits=httpx.Limits(keepalive_expiry=2),
        )

    def champion(self, model: str = MODEL) -> str | None:
        """The version the champion alias points to; None before the first training."""
        try:
            return str(self.registry.get_model_version_by_alias(model, "champion").version)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise

    def worker_versions(self) -> dict[str, str]:
        """The model version each live uvicorn worker serves (its /metrics gauge), by pid."""
        text = self.model_api.get("/metrics").text
        return {pid: str(int(float(value))) for pid, value in _VERSION_LINE.findall(text)}

    def webhook_wakes(self) -> float:
        """How many MLflow webhook deliveries woke the API's workers (model_api_webhooks_total)."""
        match = _WOKE_LINE.search(self.model_api.get("/metrics").text)
        return float(match.group(1)) if match else 0.0

    def counts(self) -> dict[str, int]:
        """What a drill must not lose: experiments, runs, model versions, DAG runs."""
        experiments = _all(self.registry.search_experiments, view_type=ViewType.ALL)
        ids = [experiment.experiment_id for experiment in experiments]
        runs = _all(self.registry.search_runs, ids, run_view_type=ViewType.ALL) if ids else []
        versions = _all(self.registry.search_model_versions)
        dag_runs = self.airflow("GET", "/api/v2/dags/~/dagRuns?limit=1")["total_entries"]
        return {
            "experiments": len(experiments),
            "runs": len(runs),
            "model_versions": len(versions),
            "dag_runs": dag_runs,
            **self.auth_counts(),
        }

    def auth_counts(self) -> dict[str, int]:
        """MLflow's users and their grants (MLflow 3.17 keeps a grant as a role of the user),
        every table of the auth store's schema but Alembic's, read as its own role."""
        connection = self.database("mlflow", options=f"-csearch_path={AUTH_SCHEMA}")
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " AND table_name <> 'alembic_version_auth' ORDER BY table_name",
                (AUTH_SCHEMA,),
            )
            found = {}
            for (table,) in cursor.fetchall():
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                found[f"mlflow_{table}"] = cursor.fetchone()[0]
        connection.close()
        return found

    def database(self, role: str, **options) -> psycopg2.extensions.connection:
        """A connection to the platform's database as a service role, TLS verified."""
        return psycopg2.connect(
            host=self.ip("rds"),
            dbname="mlops",
            user=role,
            password=self.secrets[f"secret_db_password_{role}"],
            connect_timeout=5,
            sslmode="verify-full",
            sslrootcert=str(self.replica.tls_dir / "ca.crt"),
            **options,
        )


def _all(search, *args, **kwargs) -> list:
    """Every page of an MLflow search."""
    items, token = [], None
    while True:
        page = search(*args, page_token=token, **kwargs)
        items.extend(page)
        token = page.token
        if not token:
            return items
