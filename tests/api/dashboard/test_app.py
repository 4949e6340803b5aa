"""The Streamlit app itself, run headless by Streamlit's AppTest: the login gate, and every
page with its services down or empty (a message, never a traceback)."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import auth, services, tracking
from tests.api.dashboard.test_forms import TRAIN_MODEL_PARAMS
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
        ("GET", f"{dag}/details"): (200, {"is_paused": False, "params": TRAIN_MODEL_PARAMS}),
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


def widget(elements, label: str):
    return next(element for element in elements if element.label == label)


def test_pipelines_shows_runs_and_tasks(fake_airflow) -> None:
    app = page("pipelines")
    assert not app.exception
    assert ":green-badge[success: 1]" in texts(app)
    assert ":green-badge[train: success]" in texts(app)


def test_the_trigger_form_is_made_of_the_dags_params(fake_airflow) -> None:
    app = page("pipelines")
    labels = [
        element.label
        for element in [*app.text_input, *app.selectbox, *app.text_area, *app.number_input]
    ]
    assert sorted(labels) == sorted(
        [
            *("dataset", "target", "model_name", "promotion_metric", "task", "estimator"),
            *("param_grid (JSON)", "test_size", "random_seed", "Tasks of run"),
            *("max_null_fraction", "numeric_imputation", "categorical_imputation"),
        ]
    )
    assert widget(app.text_input, "dataset").value == "s3://mlops-data/demo/wine.csv"
    assert widget(app.text_input, "dataset").help == (
        "s3://bucket/key of a CSV file with a header row"
    )
    estimator = widget(app.selectbox, "estimator")
    assert (estimator.options, estimator.value) == (["random_forest", "linear"], "random_forest")
    test_size = widget(app.number_input, "test_size")
    assert (test_size.value, test_size.min, test_size.max) == (0.25, 0.05, 0.5)
    assert widget(app.number_input, "random_seed").value == 42
    assert widget(app.text_area, "param_grid (JSON)").value == "{}"


def test_a_bad_param_grid_is_not_sent(fake_airflow) -> None:
    app = page("pipelines")
    widget(app.text_area, "param_grid (JSON)").input('{"max_depth": 3')
    app = submit(app, "Trigger training")
    assert app.error[0].value.startswith("Nothing was sent: param_grid is not valid JSON")
    assert not fake_airflow.calls("POST", "/api/v2/dags/train_model/dagRuns")


def test_values_the_params_refuse_are_listed_and_not_sent(fake_airflow) -> None:
    app = page("pipelines")
    widget(app.text_input, "dataset").input("https://example.test/wine.csv")
    widget(app.text_input, "target").input("")
    widget(app.text_area, "param_grid (JSON)").input('{"max_depth": []}')
    app = submit(app, "Trigger training")
    [error] = app.error
    assert error.value.startswith("Nothing was sent:\n\n- dataset: 'https://example.test/wine.csv'")
    assert "\n- target: '' should be non-empty" in error.value
    assert "\n- param_grid.max_depth: [] should be non-empty" in error.value
    assert not fake_airflow.calls("POST", "/api/v2/dags/train_model/dagRuns")


def test_a_training_run_is_triggered_with_the_form_values(fake_airflow) -> None:
    app = page("pipelines")
    widget(app.text_area, "param_grid (JSON)").input('{"max_depth": [3, 6]}')
    widget(app.selectbox, "estimator").set_value("linear")
    widget(app.number_input, "test_size").set_value(0.3)
    app = submit(app, "Trigger training")
    assert not app.error
    assert "Triggered run `manual__2`" in texts(app)
    [request] = fake_airflow.calls("POST", "/api/v2/dags/train_model/dagRuns")
    assert request.body == {
        "logical_date": None,
        "conf": {
            "dataset": "s3://mlops-data/demo/wine.csv",
            "target": "cultivar",
            "model_name": "wine-cultivar",
            "promotion_metric": "auto",
            "task": "auto",
            "estimator": "linear",
            "param_grid": {"max_depth": [3, 6]},
            "test_size": 0.3,
            "random_seed": 42,
            "max_null_fraction": 0.5,
            "numeric_imputation": "median",
            "categorical_imputation": "most_frequent",
        },
    }


@pytest.mark.parametrize("details", [{"is_paused": False}, {"params": None}])
def test_without_params_there_is_no_form(fake_airflow, details) -> None:
    answer = (200, details)
    fake_airflow.route("GET", "/api/v2/dags/train_model/details", lambda request: answer)
    app = page("pipelines")
    assert not app.exception
    assert "Airflow did not list the params of train_model" in texts(app)
    assert not [button for button in app.button if button.label == "Trigger training"]
    assert ":green-badge[success: 1]" in texts(app)  # the runs are still shown


# As the model API publishes it: a float64, an int64 (beyond what the widget holds), a bool and
# an optional text.
RECORD = {
    "type": "object",
    "properties": {
        "alcohol": {
            "type": "number",
            "minimum": -1.7976931348623157e308,
            "maximum": 1.7976931348623157e308,
        },
        "magnesium": {
            "type": "integer",
            "minimum": -9223372036854775808,
            "maximum": 9223372036854775807,
        },
        "organic": {"type": "boolean"},
        "region": {"type": ["string", "null"]},
    },
    "required": ["alcohol", "magnesium", "organic"],
    "additionalProperties": False,
}


def openapi(record: dict) -> dict:
    """The model API's OpenAPI document, reduced to the request body of POST /predict."""
    records = {"type": "array", "items": record}
    request = {"type": "object", "properties": {"records": records}, "required": ["records"]}
    return {"openapi": "3.1.0", "components": {"schemas": {"PredictRequest": request}}}


@pytest.fixture
def fake_model_api(environment, fake_server, monkeypatch):
    monkeypatch.setenv("DASHBOARD_MODEL_API_URL", fake_server.url)
    model = {"name": "wine-cultivar", "alias": "champion", "version": "4", "run_id": "abc"}
    fake_server.route("GET", "/model", lambda request: (200, model))
    fake_server.route("GET", "/openapi.json", lambda request: (200, openapi(RECORD)))
    return fake_server


def test_predict_builds_the_form_and_shows_the_prediction(fake_model_api) -> None:
    answer = {"model_name": "wine-cultivar", "model_version": "4", "predictions": ["class_2"]}
    fake_model_api.route("POST", "/predict", lambda request: (200, answer))
    app = page("predict")
    assert not app.exception
    assert [field.label for field in app.number_input] == ["alcohol", "magnesium"]
    assert [field.help for field in app.number_input] == ["JSON type: number", "JSON type: integer"]
    magnesium = app.number_input[1]
    assert (magnesium.min, magnesium.max) == (-(2**53 - 1), 2**53 - 1)
    assert [field.label for field in app.checkbox] == ["organic"]
    assert [field.label for field in app.text_input] == ["region (optional)"]
    app.number_input[0].set_value(13.5)
    app.number_input[1].set_value(101)
    app = submit(app, "Predict")
    assert app.success[0].value == ("Prediction: **class_2** (model wine-cultivar version 4)")
    [request] = fake_model_api.calls("POST", "/predict")
    # the empty optional text is left out
    assert request.body == {"records": [{"alcohol": 13.5, "magnesium": 101, "organic": False}]}


def test_predict_shows_422_details_as_sentences(fake_model_api) -> None:
    detail = [{"type": "missing", "loc": ["body", "records", 0, "magnesium"], "msg": "is required"}]
    fake_model_api.route("POST", "/predict", lambda request: (422, {"detail": detail}))
    app = submit(page("predict"), "Predict")
    assert app.error[0].value == "The model API rejected the record:\n\n- magnesium: is required"


def test_predict_refuses_a_record_it_cannot_edit(fake_model_api) -> None:
    record = {"properties": {"image": {"type": "array", "items": {"type": "number"}}}}
    fake_model_api.route("GET", "/openapi.json", lambda request: (200, openapi(record)))
    app = page("predict")
    assert not app.exception
    assert app.error[0].value == (
        "This model cannot be used from a form: "
        "the form cannot edit input 'image' of JSON type 'array'"
    )
    assert not app.number_input


def test_predict_without_a_record_schema_says_no_model_is_loaded(fake_model_api) -> None:
    no_model = openapi({"type": "object", "additionalProperties": True})
    fake_model_api.route("GET", "/openapi.json", lambda request: (200, no_model))
    app = page("predict")
    assert app.info[0].value.startswith("The model API does not describe a record yet")
    assert not app.error


def test_a_new_champion_brings_its_own_form(fake_model_api) -> None:
    app = page("predict")
    assert [field.label for field in app.number_input] == ["alcohol", "magnesium"]
    champion = {"name": "wine-cultivar", "alias": "champion", "version": "5", "run_id": "def"}
    record = {"properties": {"tenure_months": {"type": "integer"}}, "required": ["tenure_months"]}
    fake_model_api.route("GET", "/model", lambda request: (200, champion))
    fake_model_api.route("GET", "/openapi.json", lambda request: (200, openapi(record)))
    services.served_model.clear()  # its 10 s are over; the schema's cache is kept
    app.run()
    assert "version **5**" in texts(app)
    assert [field.label for field in app.number_input] == ["tenure_months"]
    assert len(fake_model_api.calls("GET", "/openapi.json")) == 2


def test_the_record_schema_is_read_once_per_model_version(fake_model_api) -> None:
    app = page("predict")
    app.run()
    assert len(fake_model_api.calls("GET", "/model")) == 1
    assert len(fake_model_api.calls("GET", "/openapi.json")) == 1


def test_logging_out_goes_back_to_the_login_page(environment) -> None:
    app = log_in(AppTest.from_file(APP, default_timeout=30), "admin", PASSWORD)
    app.sidebar.button[0].click()
    app.run()
    assert [title.value for title in app.title] == ["MLOps platform"]
    assert "authenticated_user" not in app.session_state


def test_predict_lets_the_user_pick_any_model_with_a_champion(fake_model_api, monkeypatch) -> None:
    registry = [
        tracking.RegisteredModel("churn", "", {"champion": "7"}, None),
        tracking.RegisteredModel("draft", "", {}, None),  # no champion: not servable
        tracking.RegisteredModel("wine-cultivar", "", {"champion": "4"}, None),
    ]
    monkeypatch.setattr(tracking, "registered_models", lambda client: registry)
    churn = {"name": "churn", "alias": "champion", "version": "7", "run_id": "r7"}
    churn["record_schema"] = {
        "properties": {"tenure_months": {"type": "integer"}},
        "required": ["tenure_months"],
    }
    answer = {"model_name": "churn", "model_version": "7", "predictions": ["yes"]}
    fake_model_api.route("GET", "/models/churn", lambda request: (200, churn))
    fake_model_api.route("POST", "/models/churn/predict", lambda request: (200, answer))
    app = page("predict")
    assert app.selectbox[0].options == ["wine-cultivar", "churn"]  # the configured one first
    assert [field.label for field in app.number_input] == ["alcohol", "magnesium"]
    app = app.selectbox[0].select("churn").run()
    assert "Model **churn** @champion, version **7**" in texts(app)
    assert [field.label for field in app.number_input] == ["tenure_months"]
    app.number_input[0].set_value(12)
    app = submit(app, "Predict")
    assert app.success[0].value == "Prediction: **yes** (model churn version 7)"
    [request] = fake_model_api.calls("POST", "/models/churn/predict")
    assert request.body == {"records": [{"tenure_months": 12}]}
    assert not fake_model_api.calls("POST", "/predict")


def test_a_model_the_api_cannot_serve_says_why(fake_model_api, monkeypatch) -> None:
    registry = [tracking.RegisteredModel("churn", "", {"champion": "7"}, None)]
    monkeypatch.setattr(tracking, "registered_models", lambda client: registry)
    detail = {"detail": "loading churn v7 failed: no space left on device"}
    fake_model_api.route("GET", "/models/churn", lambda request: (503, detail))
    app = page("predict").selectbox[0].select("churn").run()
    assert not app.exception
    assert app.warning[0].value == (
        "The model API cannot serve churn now: loading churn v7 failed: no space left on device"
    )


# --- Train on your data: upload, preview, train, follow the run ----------------------------

CHURN = b"age,plan,monthly,churned\n34,basic,19.9,no\n,premium,,yes\n51,,42.0,no\n"
RUN_STARTED = "manual__2026-12-06T21:00:00+00:00"
RUN_PATH = "/api/v2/dags/train_model/dagRuns/manual__2026-12-06T21%3A00%3A00%2B00%3A00"


@pytest.fixture
def uploads_to(environment, fake_server, monkeypatch):
    """Airflow and the object store on the fake server; uploads on, for user ana."""
    for name, value in {
        "DASHBOARD_AIRFLOW_URL": fake_server.url,
        "DASHBOARD_DATA_BUCKET": "mlops-data",
        "DASHBOARD_S3_ENDPOINT_URL": fake_server.url,
        "DASHBOARD_UPLOAD_MAX_MB": "1",
        "AWS_ACCESS_KEY_ID": "UPLOADKEY0123456789",
        "AWS_SECRET_ACCESS_KEY": "upload-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    fake_server.route("POST", "/auth/token", lambda request: (201, {"access_token": "t"}))
    fake_server.route("PUT", "/mlops-data/*", lambda request: (200, ""))
    fake_server.runs = []  # the DAG's runs, newest first; a trigger adds one

    def trigger(request):
        run = {"dag_run_id": RUN_STARTED, "state": "queued", "conf": request.body["conf"]}
        fake_server.runs.insert(0, run)
        return 200, run

    fake_server.route("POST", "/api/v2/dags/train_model/dagRuns", trigger)
    fake_server.route(
        "GET",
        "/api/v2/dags/train_model/dagRuns",
        lambda request: (200, {"dag_runs": fake_server.runs}),
    )
    fake_server.route("GET", RUN_PATH, lambda request: (200, {"state": "queued"}))
    fake_server.route(
        "GET", f"{RUN_PATH}/taskInstances", lambda request: (200, {"task_instances": []})
    )
    return fake_server


def train_page(user: str = "ana") -> AppTest:
    app = AppTest.from_string(
        "from dashboard.views import train\ntrain.render()\n", default_timeout=30
    )
    app.session_state["authenticated_user"] = user
    return app.run()


def a_run(dataset: str, model: str = "churn", run_id: str = RUN_STARTED) -> dict:
    conf = {"dataset": dataset, "target": "churned", "model_name": model}
    return {"dag_run_id": run_id, "state": "success", "conf": conf}


def test_an_uploaded_file_is_previewed_then_stored_and_trained_on(uploads_to) -> None:
    app = train_page(user="Ana Maria")  # a name that is no safe key: stored as Ana_Maria
    assert "up to 1 MiB" in app.caption[0].value
    assert "s3://mlops-data/uploads/Ana_Maria/" in app.caption[0].value
    app.file_uploader[0].set_value(("Churn 2024.csv", CHURN, "text/csv"))
    app = app.run()
    assert not app.exception
    assert app.subheader[0].value == "Churn 2024.csv: 3 rows, 4 columns"
    preview, described = app.dataframe
    assert list(preview.value.columns) == ["age", "plan", "monthly", "churned"]
    assert described.value.set_index("column")["missing"].to_dict() == {
        "age": 1,
        "plan": 1,
        "monthly": 1,
        "churned": 0,
    }
    assert widget(app.selectbox, "Target").value == "churned"
    assert widget(app.text_input, "Model name").value == "churn-2024"
    widget(app.selectbox, "Task").set_value("classification")
    app = submit(app, "Upload and train")
    assert not app.error
    [put] = [r for r in uploads_to.requests if r.method == "PUT"]
    assert put.path.startswith("/mlops-data/uploads/Ana_Maria/")
    assert put.path.endswith("-Churn_2024.csv")
    assert put.body == CHURN
    [trigger] = uploads_to.calls("POST", "/api/v2/dags/train_model/dagRuns")
    assert trigger.body["conf"] == {
        "dataset": "s3:/" + put.path,
        "target": "churned",
        "model_name": "churn-2024",
        "task": "classification",
    }
    assert app.subheader[-1].value == "Your training runs"
    assert ":orange-badge[queued] training **churn-2024**" in texts(app)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n" + b"1,2\n" * 300_000, "big.csv has 1.1 MiB; files up to 1.0 MiB are accepted"),
        (b"only\n1\n", "big.csv has 1 column"),
    ],
)
def test_a_file_that_cannot_be_trained_on_is_not_stored(uploads_to, content, message) -> None:
    app = train_page()
    app.file_uploader[0].set_value(("big.csv", content, "text/csv"))
    app = app.run()
    assert app.error[0].value.startswith(message)
    assert app.error[0].value.endswith("Nothing was stored.")
    assert not [button for button in app.button if button.label == "Upload and train"]
    assert not [r for r in uploads_to.requests if r.method == "PUT"]


def test_a_refused_upload_starts_no_training(uploads_to) -> None:
    denied = "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>"
    uploads_to.route("PUT", "/mlops-data/*", lambda request: (403, denied))
    app = train_page()
    app.file_uploader[0].set_value(("churn.csv", CHURN, "text/csv"))
    app = submit(app.run(), "Upload and train")
    assert app.error[0].value.startswith("Nothing was trained: The object store refused")
    assert not uploads_to.calls("POST", "/api/v2/dags/train_model/dagRuns")


def test_a_finished_run_shows_its_metrics_and_the_promotion_reason(uploads_to) -> None:
    tasks = [
        {"task_id": name, "state": "success", "start_date": str(index)}
        for index, name in enumerate(("validate_dataset", "train", "promote"))
    ]
    results = {
        "validate_dataset": {"rows": 3, "task": "classification", "optional_features": ["age"]},
        "train": {"version": "4", "metrics": {"holdout_f1_macro": 0.875}},
        "promote": {"promoted": True, "reason": "f1_macro 0.8750 beats champion v3's 0.8000"},
    }
    uploads_to.route("GET", RUN_PATH, lambda request: (200, {"state": "success"}))
    uploads_to.route(
        "GET", f"{RUN_PATH}/taskInstances", lambda request: (200, {"task_instances": tasks})
    )
    for name, value in results.items():
        path = f"{RUN_PATH}/taskInstances/{name}/xcomEntries/return_value"
        uploads_to.route("GET", path, lambda request, value=value: (200, {"value": value}))
    uploads_to.runs.append(a_run("s3://mlops-data/uploads/ana/20261206T210000Z-churn.csv"))
    app = train_page()
    assert not app.exception
    assert app.success[0].value.startswith(
        "Version 4 of **churn** is its champion now: f1_macro 0.8750 beats champion v3's 0.8000"
    )
    assert "imputed: age" in app.caption[-1].value
    assert app.dataframe[0].value.to_dict("records") == [
        {"metric": "holdout_f1_macro", "value": 0.875}
    ]


def test_a_failed_run_shows_the_validation_messages(uploads_to) -> None:
    tasks = [{"task_id": "validate_dataset", "state": "failed", "try_number": 1}]
    problems = "the dataset failed validation:\n- column 'plan' is empty in 9 of 10 rows"
    log = [{"event": "Task failed with exception", "error_detail": [{"exc_value": problems}]}]
    uploads_to.route("GET", RUN_PATH, lambda request: (200, {"state": "failed"}))
    uploads_to.route(
        "GET", f"{RUN_PATH}/taskInstances", lambda request: (200, {"task_instances": tasks})
    )
    uploads_to.route(
        "GET",
        f"{RUN_PATH}/taskInstances/validate_dataset/logs/1",
        lambda request: (200, {"content": log}),
    )
    uploads_to.runs.append(a_run("s3://mlops-data/uploads/ana/20261206T210000Z-churn.csv"))
    app = train_page()
    assert app.error[0].value == f"The run failed in **validate_dataset**:\n\n{problems}"


def test_only_the_runs_on_the_users_own_uploads_are_listed(uploads_to) -> None:
    uploads_to.runs += [
        a_run("s3://mlops-data/demo/wine.csv", "wine-cultivar", "manual__demo"),
        a_run("s3://mlops-data/uploads/bob/20261206T200000Z-x.csv", "bobs", "manual__bob"),
        a_run("s3://mlops-data/uploads/ana/20261206T190000Z-y.csv", "anas", "manual__ana"),
    ]
    path = "/api/v2/dags/train_model/dagRuns/manual__ana"
    uploads_to.route("GET", path, lambda request: (200, {"state": "running"}))
    uploads_to.route("GET", f"{path}/taskInstances", lambda request: (200, {"task_instances": []}))
    app = train_page()
    assert widget(app.selectbox, "Run").options == ["anas — manual__ana"]
    assert ":blue-badge[running] training **anas**" in texts(app)


def test_without_a_data_bucket_uploads_are_off(environment) -> None:
    app = train_page()
    assert app.info[0].value.startswith("Uploads are off")
    assert not app.file_uploader
