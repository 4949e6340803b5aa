"""MLflow on the replica, as a data scientist's client on the controller uses it."""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
import uuid

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature

from local import podman
from tests.replica.conftest import ip, s3, wait


class Doubler(mlflow.pyfunc.PythonModel):
    """A model small enough to need no ML library."""

    def predict(self, context, model_input, params=None):
        return model_input[["x"]] * 2


@pytest.fixture(scope="module")
def tracking(converged, secrets, monkeypatch_module):
    uri = f"http://{ip(converged, 'mlflow')}:5000"
    monkeypatch_module.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch_module.setenv("MLFLOW_TRACKING_PASSWORD", secrets["secret_mlflow_admin_password"])
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def status(url, auth=None):
    request = urllib.request.Request(url)  # noqa: S310 - http to our own host
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - own host
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_requests_without_credentials_are_refused(converged):
    url = f"http://{ip(converged, 'mlflow')}:5000/api/2.0/mlflow/experiments/search?max_results=1"
    assert status(url) == 401
    assert status(url, "admin:wrong-password") == 401


def test_log_register_alias_and_load_back(tracking, converged, secrets):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment("e2e")
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.9)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Doubler(),
            signature=infer_signature(frame, frame * 2),
            registered_model_name=name,
        )
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(name, "champion", info.registered_model_version)
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert model.predict(frame)["x"].tolist() == [2.0, 4.0, 6.0]
    assert model.metadata.run_id == run.info.run_id
    # The artifacts went through the proxy into the artifacts bucket.
    listing = s3(converged, secrets).list_objects_v2(Bucket="mlflow-artifacts")
    keys = [o["Key"] for o in listing.get("Contents", [])]
    assert any(k.endswith(f"{info.model_id}/artifacts/MLmodel") for k in keys), keys


def test_killed_server_is_back_within_30_s(converged):
    container = f"{converged.name}-mlflow"
    podman.exec_(container, ["systemctl", "kill", "-s", "KILL", "mlflow"])
    started = time.monotonic()
    health = f"http://{ip(converged, 'mlflow')}:5000/health"

    def healthy():
        assert status(health) == 200
        assert podman.exec_(container, ["systemctl", "is-active", "mlflow"]).strip() == "active"

    wait(healthy, timeout=30)
    print(f"mlflow healthy {time.monotonic() - started:.1f}s after SIGKILL")
