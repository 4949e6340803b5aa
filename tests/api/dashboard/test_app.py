"""The Streamlit app itself, run headless by Streamlit's AppTest: the login gate, and every
page with its services down or empty (a message, never a traceback)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import auth
from tests.ml import REPO

APP = str(REPO / "api" / "dashboard" / "app.py")
PASSWORD = "correct horse battery"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, closed_port_url: str) -> dict[str, str]:
    """A configuration whose every service is unreachable."""
    env = {
        "MLFLOW_TRACKING_URI": closed_port_url,
        "MLFLOW_TRACKING_USERNAME": "reader",
        "MLFLOW_TRACKING_PASSWORD": "mlflow-password",
        "DASHBOARD_AIRFLOW_URL": closed_port_url,
        "DASHBOARD_AIRFLOW_USERNAME": "dashboard",
        "DASHBOARD_AIRFLOW_PASSWORD": "airflow-password",
        "DASHBOARD_MODEL_API_URL": closed_port_url,
        "DASHBOARD_MODEL_API_KEY": "api-key",
        "DASHBOARD_PASSWORD": PASSWORD,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield env
    st.cache_data.clear()
    st.cache_resource.clear()


def log_in(app: AppTest, username: str, password: str) -> AppTest:
    app.run()
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click()
    return app.run()


def page(name: str) -> AppTest:
    """One page alone (AppTest cannot switch to pages that are functions)."""
    script = f"from dashboard.views import {name}\n{name}.render()\n"
    return AppTest.from_string(script, default_timeout=30).run()


def texts(app: AppTest) -> str:
    elements = [*app.title, *app.markdown, *app.error, *app.warning, *app.info, *app.success]
    return "\n".join(str(element.value) for element in elements)


def test_only_the_login_page_exists_before_logging_in(environment) -> None:
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert [title.value for title in app.title] == ["MLOps platform"]
    assert [field.label for field in app.text_input] == ["Username", "Password"]
    assert not app.exception


def test_a_wrong_password_shows_an_error_and_no_page(environment) -> None:
    app = log_in(AppTest.from_file(APP, default_timeout=30), "admin", PASSWORD + "!")
    assert [error.value for error in app.error] == ["Wrong username or password."]
    assert [title.value for title in app.title] == ["MLOps platform"]
    assert "authenticated_user" not in app.session_state


def test_the_right_password_opens_the_health_page(environment) -> None:
    app = log_in(AppTest.from_file(APP, default_timeout=30), "admin", PASSWORD)
    assert [title.value for title in app.title] == ["Platform health"]
    assert app.session_state["authenticated_user"] == "admin"
    assert [error.value for error in app.error] == ["0 of 3 services up"]
    assert not app.exception


def test_a_missing_variable_is_named_on_the_page(environment, monkeypatch) -> None:
    monkeypatch.delenv("DASHBOARD_AIRFLOW_URL")
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert len(app.error) == 1
    assert "DASHBOARD_AIRFLOW_URL" in app.error[0].value
    assert not app.text_input  # no login form without a configuration


@pytest.mark.parametrize(
    ("view", "title", "message"),
    [
        ("experiments", "Experiments", "Could not read the experiments from MLflow"),
        ("models", "Models", "Could not read the model registry"),
        ("pipelines", "Pipelines", "Could not read the DAG train_model from Airflow"),
        ("predict", "Predict", "The model API is not available"),
    ],
)
def test_pages_explain_an_unreachable_service(environment, view, title, message) -> None:
    app = page(view)
    assert not app.exception
    assert app.title[0].value == title
    assert message in texts(app)


def test_pipelines_says_when_the_dag_is_missing(environment, fake_server, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_AIRFLOW_URL", fake_server.url)
    fake_server.route("POST", "/auth/token", lambda request: (201, {"access_token": "t"}))
    app = page("pipelines")
    assert "Airflow has no DAG train_model" in texts(app)


def test_predict_asks_for_training_when_no_model_is_served(
    environment, fake_server, monkeypatch
) -> None:
    monkeypatch.setenv("DASHBOARD_MODEL_API_URL", fake_server.url)
    fake_server.route(
        "GET", "/model", lambda request: (503, {"detail": "no model is being served: no alias"})
    )
    app = page("predict")
    assert app.info[0].value.startswith("No model is being served yet")
    assert not app.error


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("admin", PASSWORD, True),
        ("admin", PASSWORD[:-1], False),
        ("Admin", PASSWORD, False),
        ("", "", False),
        ("admin", "ça ne marche pas", False),  # non-ASCII input is compared, not an error
    ],
)
def test_credentials_match(username: str, password: str, expected: bool) -> None:
    assert auth.credentials_match(username, password, "admin", PASSWORD) is expected


@pytest.fixture
def fake_airflow(environment, fake_server, monkeypatch):
    """Airflow with the training DAG, one successful run, and a trigger endpoint."""
    monkeypatch.setenv("DASHBOARD_AIRFLOW_URL", fake_server.url)
    dag = "/api/v2/dags/train_model"
    run = {"dag_run_id": "manual__1", "state": "success", "conf": {}, "duration": 36.2}
    task = {"task_id": "train", "state": "success", "try_number": 1}
    routes = {
        ("POST", "/auth/token"): (201, {"access_token": "token"}),
        ("GET", f"{dag}/details"): (
            200,
            {"is_paused": False, "params": {"dataset": {"value": "s3://data/wine.csv"}}},
        ),
        ("GET", f"{dag}/dagRuns"): (200, {"dag_runs": [run]}),
        ("GET", f"{dag}/dagRuns/manual__1/taskInstances"): (200, {"task_instances": [task]}),
        ("POST", f"{dag}/dagRuns"): (200, {"dag_run_id": "manual__2", "state": "queued"}),
    }
    for (method, path), answer in routes.items():
        fake_server.route(method, path, lambda request, answer=answer: answer)
    return fake_server


def submit(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click()
    return app.run()


def test_pipelines_shows_runs_and_tasks(fake_airflow) -> None:
    app = page("pipelines")
    assert not app.exception
    assert ":green-badge[success: 1]" in texts(app)
    assert ":green-badge[train: success]" in texts(app)
    assert app.text_input[0].value == "s3://data/wine.csv"  # the DAG's own default


def test_a_bad_param_grid_is_not_sent(fake_airflow) -> None:
    app = page("pipelines")
    app.text_area[0].input('{"max_depth": 3')
    app = submit(app, "Trigger training")
    assert app.error[0].value.startswith("Nothing was sent: param_grid is not valid JSON")
    assert not fake_airflow.calls("POST", "/api/v2/dags/train_model/dagRuns")


def test_a_training_run_is_triggered_with_the_form_values(fake_airflow) -> None:
    app = page("pipelines")
    app.text_area[0].input('{"max_depth": [3, 6]}')
    app = submit(app, "Trigger training")
    assert not app.error
    assert "Triggered run `manual__2`" in texts(app)
    [request] = fake_airflow.calls("POST", "/api/v2/dags/train_model/dagRuns")
    assert request.body == {
        "logical_date": None,
        "conf": {
            "dataset": "s3://data/wine.csv",
            "target": "cultivar",
            "model_name": "wine-cultivar",
            "promotion_metric": "f1_macro",
            "estimator": "random_forest",
            "param_grid": {"max_depth": [3, 6]},
        },
    }


SIGNATURE = {
    "inputs": '[{"type": "double", "name": "alcohol", "required": true}, '
    '{"type": "long", "name": "magnesium", "required": true}]',
    "outputs": '[{"type": "string", "required": true}]',
    "params": None,
}


@pytest.fixture
def fake_model_api(environment, fake_server, monkeypatch):
    monkeypatch.setenv("DASHBOARD_MODEL_API_URL", fake_server.url)
    model = {"name": "wine-cultivar", "alias": "champion", "version": "4", "run_id": "abc"}
    fake_server.route("GET", "/model", lambda request: (200, {**model, "signature": SIGNATURE}))
    return fake_server


def test_predict_builds_the_form_and_shows_the_prediction(fake_model_api) -> None:
    answer = {"model_name": "wine-cultivar", "model_version": "4", "predictions": ["class_2"]}
    fake_model_api.route("POST", "/predict", lambda request: (200, answer))
    app = page("predict")
    assert [field.label for field in app.number_input] == ["alcohol", "magnesium"]
    app.number_input[0].set_value(13.5)
    app.number_input[1].set_value(101)
    app = submit(app, "Predict")
    assert app.success[0].value == ("Prediction: **class_2** (model wine-cultivar version 4)")
    [request] = fake_model_api.calls("POST", "/predict")
    assert request.body == {"records": [{"alcohol": 13.5, "magnesium": 101}]}


def test_predict_shows_422_details_as_sentences(fake_model_api) -> None:
    detail = [{"type": "missing", "loc": ["body", "records", 0, "magnesium"], "msg": "is required"}]
    fake_model_api.route("POST", "/predict", lambda request: (422, {"detail": detail}))
    app = submit(page("predict"), "Predict")
    assert app.error[0].value == "The model API rejected the record:\n\n- magnesium: is required"


def test_logging_out_goes_back_to_the_login_page(environment) -> None:
    app = log_in(AppTest.from_file(APP, default_timeout=30), "admin", PASSWORD)
    app.sidebar.button[0].click()
    app.run()
    assert [title.value for title in app.title] == ["MLOps platform"]
    assert "authenticated_user" not in app.session_state
