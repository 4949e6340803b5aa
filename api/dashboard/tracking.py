"""Reads from MLflow's tracking server and model registry, as pandas tables; no Streamlit.

MLflow's client takes its URL and credentials from MLFLOW_TRACKING_URI,
MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.exceptions import MlflowException

CHAMPION_ALIAS = "champion"
# Version tags the training pipeline sets: shown first, in this order; the long `promotion`
# (why the version was or was not promoted) comes last.
FIRST_TAGS = ("holdout_score", "promotion_metric", "airflow_dag_run_id", "dataset", "target")
LAST_TAGS = ("promotion",)


@dataclass(frozen=True)
class RunTable:
    """An experiment's runs: one row per run, metric and parameter columns listed apart."""

    frame: pd.DataFrame
    metrics: list[str]
    params: list[str]


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    aliases: dict[str, str]  # alias -> version
    versions: pd.DataFrame  # newest first

    @property
    def champion(self) -> str | None:
        return self.aliases.get(CHAMPION_ALIAS)


def client(tracking_uri: str) -> MlflowClient:
    """A client that gives up quickly.

    MLflow retries a failing request for minutes by default, and a page should say at once
    that the server is down. An operator's own MLFLOW_HTTP_REQUEST_* settings win.
    """
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    return MlflowClient(tracking_uri)


def _timestamp(millis: int | None) -> pd.Timestamp | None:
    return pd.Timestamp(millis, unit="ms", tz="UTC") if millis else None


def experiments(client: MlflowClient) -> dict[str, str]:
    """Active experiments, name -> id, most recently updated first."""
    found = client.search_experiments(order_by=["last_update_time DESC"])
    return {experiment.name: experiment.experiment_id for experiment in found}


def runs_table(runs: list[Run]) -> RunTable:
    """Runs as rows: name, status, start, duration, then metrics and params (prefixed)."""
    metrics = sorted({key for run in runs for key in run.data.metrics})
    params = sorted({key for run in runs for key in run.data.params})
    rows = []
    for run in runs:
        info = run.info
        duration = (info.end_time - info.start_time) / 1000 if info.end_time else None
        rows.append(
            {
                "run_id": info.run_id,
                "run name": info.run_name,
                "status": info.status,
                "start": _timestamp(info.start_time),
                "duration (s)": duration,
                **{f"metrics.{key}": run.data.metrics.get(key) for key in metrics},
                **{f"params.{key}": run.data.params.get(key) for key in params},
            }
        )
    columns = ["run_id", "run name", "status", "start", "duration (s)"]
    columns += [f"metrics.{key}" for key in metrics] + [f"params.{key}" for key in params]
    return RunTable(pd.DataFrame(rows, columns=columns), metrics, params)


def experiment_runs(client: MlflowClient, experiment_id: str, limit: int = 200) -> RunTable:
    """The experiment's most recent runs."""
    runs = client.search_runs(
        [experiment_id], order_by=["attributes.start_time DESC"], max_results=limit
    )
    return runs_table(list(runs))


def metric_history(client: MlflowClient, run_id: str, key: str) -> pd.DataFrame:
    """Every value logged for one metric of one run, by step."""
    history = client.get_metric_history(run_id, key)
    return pd.DataFrame(
        [{"step": point.step, key: point.value} for point in history], columns=["step", key]
    )


def versions_table(versions: list, aliases: dict[str, str]) -> pd.DataFrame:
    """Model versions as rows, newest first: aliases, creation, status, run, then tags."""
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    found = {key for version in versions for key in version.tags}
    others = sorted(found - {*FIRST_TAGS, *LAST_TAGS})
    tags = [key for key in (*FIRST_TAGS, *others, *LAST_TAGS) if key in found]
    rows = [
        {
            "version": int(version.version),
            "aliases": ", ".join(sorted(by_version.get(str(version.version), []))),
            "created": _timestamp(version.creation_timestamp),
            "status": version.status,
            "run_id": version.run_id,
            **{key: version.tags.get(key) for key in tags},
        }
        for version in versions
    ]
    columns = ["version", "aliases", "created", "status", "run_id", *tags]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("version", ascending=False, ignore_index=True)


def registered_models(client: MlflowClient) -> list[RegisteredModel]:
    """Every registered model with all its versions."""
    models = []
    for model in client.search_registered_models(order_by=["name ASC"]):
        versions = client.search_model_versions(f"name = '{model.name}'")
        # The version search leaves aliases out; some stores give versions as numbers.
        aliases = {alias: str(version) for alias, version in (model.aliases or {}).items()}
        models.append(
            RegisteredModel(
                model.name, model.description or "", aliases, versions_table(versions, aliases)
            )
        )
    return models


def input_example(model_name: str, version: str) -> dict | None:
    """The logged input example of a model version (input_example.json), None without one."""
    with tempfile.TemporaryDirectory() as directory:
        try:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{model_name}/{version}/input_example.json",
                dst_path=directory,
            )
        except MlflowException:
            return None
        return json.loads(Path(path).read_text())
