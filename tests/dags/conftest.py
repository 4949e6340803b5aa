"""The DAG bundle as the dag-processor sees it, parsed once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ml import REPO

DAGS = REPO / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    patch = pytest.MonkeyPatch()
    patch.setenv("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    from airflow.dag_processing.dagbag import DagBag

    yield DagBag(dag_folder=DAGS, safe_mode=True, bundle_path=Path(DAGS), bundle_name="tests")
    patch.undo()
