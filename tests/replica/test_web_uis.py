"""MLflow's and Airflow's own web UIs in a real browser (Chromium through Playwright), as
their users open them, after the workload tests have made runs, models and DAG runs.

Every response a page receives is recorded: none may be a 4xx/5xx except the login's. MLflow
is opened at the host's address and at its name, the two origins the inventory allows
(mlflow_cors_allowed_origins): MLflow 3.17 refuses a POST whose Origin it does not know, and
browsers send Origin on the UI's own POSTs (runs/search, ...). Full-page screenshots go to
docs/screenshots/ for the README.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.replica.browser import Responses, new_page, save
from tests.replica.conftest import ip, public

FOREIGN_ORIGIN = "http://evil.example"
# The training DAG's experiment and registered model; its runs are named "<model> <DAG run>".
MODEL = "wine-cultivar"
RUN_NAME = re.compile(rf"^{MODEL} (manual|scheduled)__")


def mlflow_origins(replica) -> dict[str, str]:
    """The origins a browser opens MLflow at: its address, its host name, and the public one
    (through the load balancer, https)."""
    return {
        "address": f"http://{ip(replica, 'mlflow')}:5000",
        "name": "http://mlflow:5000",
        "public": public(replica, "mlflow"),
    }


def post(url: str, body: dict, auth: str, origin: str | None) -> tuple[int, str]:
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
    }
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(  # noqa: S310 - http to our own host
        url, data=json.dumps(body).encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - own host
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def experiment_tags(base: str, auth: str) -> dict[str, str]:
    request = urllib.request.Request(  # noqa: S310 - http to our own host
        f"{base}/api/2.0/mlflow/experiments/get?experiment_id=0",
        headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - own host
        tags = json.load(response)["experiment"].get("tags", [])
    return {tag["key"]: tag["value"] for tag in tags}


def test_mlflow_refuses_a_foreign_origins_changes_and_accepts_its_own(converged, secrets):
    """A state-changing call (set a tag on the Default experiment) with a foreign Origin is
    refused and changes nothing; the same call from each configured origin succeeds."""
    origins = mlflow_origins(converged)
    base = origins["address"]
    auth = f"admin:{secrets['secret_mlflow_admin_password']}"
    url = f"{base}/api/2.0/mlflow/experiments/set-experiment-tag"
    key = f"e2e.origin.{uuid.uuid4().hex[:8]}"

    def tag(origin: str | None, value: str) -> tuple[int, str]:
        return post(url, {"experiment_id": "0", "key": key, "value": value}, auth, origin)

    assert tag(FOREIGN_ORIGIN, "foreign") == (403, "Cross-origin request blocked")
    assert key not in experiment_tags(base, auth)
    for kind, origin in origins.items():
        status, body = tag(origin, kind)
        assert status == 200, f"{origin}: {status} {body}"
        assert experiment_tags(base, auth)[key] == kind
    # the UI's own read through POST, from its origin, and from a foreign one
    search = f"{base}/ajax-api/2.0/mlflow/runs/search"
    assert post(search, {"experiment_ids": ["0"]}, auth, origins["name"])[0] == 200
    assert post(search, {"experiment_ids": ["0"]}, auth, FOREIGN_ORIGIN)[0] == 403
    delete = f"{base}/api/2.0/mlflow/experiments/delete-experiment-tag"
    assert post(delete, {"experiment_id": "0", "key": key}, auth, None)[0] == 200


def mlflow_page(browser: Browser, secrets):
    """A page that logs in to MLflow as the admin (HTTP basic auth) when challenged."""
    login = {"username": "admin", "password": secrets["secret_mlflow_admin_password"]}
    return new_page(browser, http_credentials=login)


def experiment_id(base: str, secrets) -> str:
    auth = f"admin:{secrets['secret_mlflow_admin_password']}"
    request = urllib.request.Request(  # noqa: S310 - http to our own host
        f"{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name={MODEL}",
        headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - own host
        return json.load(response)["experiment"]["experiment_id"]


def expect_runs(page: Page) -> None:
    """The runs table shows rows: a run's name links to it, and the count is not 0."""
    expect(page.get_by_role("link", name=RUN_NAME).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^[1-9]\d* matching runs?$"))).to_be_visible()


def test_mlflow_ui_at_its_public_origin_experiments_a_run_its_metrics_and_models(
    browser, converged, secrets
):
    """The whole journey at https://mlflow.<domain>, through the load balancer."""
    base = mlflow_origins(converged)["public"]
    with mlflow_page(browser, secrets) as page:
        responses = Responses(page)
        page.goto(f"{base}/#/experiments")
        page.get_by_text("Model training", exact=True).click()  # classic ML, not GenAI
        experiment = page.get_by_role("link", name=MODEL, exact=True)
        expect(experiment).to_be_visible()
        save(page, "mlflow-experiments")
        experiment.click()
        expect_runs(page)
        save(page, "mlflow-runs")
        page.get_by_role("link", name=RUN_NAME).first.click()
        page.get_by_text("Model metrics", exact=True).first.click()
        for metric in ("holdout_f1_macro", "holdout_accuracy", "cv_best_score"):
            expect(page.get_by_text(metric, exact=True).first).to_be_visible()
        save(page, "mlflow-run")
        page.get_by_role("link", name="Model registry").click()
        announcement = page.get_by_role("dialog")  # MLflow's note on its new registry UI
        expect(announcement).to_be_visible()
        announcement.get_by_role("button", name="Close").click()
        model = page.get_by_role("row").filter(has=page.get_by_role("link", name=MODEL, exact=True))
        expect(model).to_contain_text(re.compile(r"@\s*champion"))
        save(page, "mlflow-models")
    assert responses.failed() == []


def test_mlflow_ui_at_the_hosts_address_lists_runs(browser, converged, secrets):
    """A bookmarked runs page at http://<address>:5000: the rows come from POST runs/search."""
    base = mlflow_origins(converged)["address"]
    with mlflow_page(browser, secrets) as page:
        responses = Responses(page)
        page.goto(f"{base}/#/experiments/{experiment_id(base, secrets)}/runs")
        expect_runs(page)
    searches = [r for r in responses.seen if r.url.endswith("/ajax-api/2.0/mlflow/runs/search")]
    assert searches, "the runs page made no POST runs/search"
    assert responses.failed() == []


def test_airflow_ui_dags_a_run_and_a_task_log(browser, converged, secrets, airflow_api):
    """Log in through Airflow's login form (FAB auth manager), open the training DAG, its
    latest successful run and a task's log."""
    base = public(converged, "airflow")  # through the load balancer, as users reach it
    runs = airflow_api(
        "GET", "/api/v2/dags/train_model/dagRuns?state=success&order_by=-run_after&limit=1"
    )["dag_runs"]
    assert runs, "no successful run of train_model to show"
    run_path = f"/dags/train_model/runs/{runs[0]['dag_run_id']}"
    with new_page(browser) as page:
        responses = Responses(page)
        page.goto(f"{base}/")
        page.locator("input[name=username]").fill("admin")
        page.locator("input[name=password]").fill(secrets["secret_airflow_admin_password"])
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{base}/")
        responses.logged_in()
        page.get_by_role("link", name="Dags", exact=True).click()
        dag = page.get_by_role("link", name="train_model", exact=True)
        expect(dag).to_be_visible()
        save(page, "airflow-dags")
        dag.click()
        page.locator(f'a[href="{run_path}"]').first.click()
        expect(page.get_by_text(re.compile(r"^\d+ Task Instances?$"))).to_be_visible()
        save(page, "airflow-run")
        page.locator(f'a[href="{run_path}/tasks/validate_dataset"]').last.click()
        expect(page.get_by_text(re.compile(r"Done\. Returned value was")).first).to_be_visible()
        expect(page.get_by_text(re.compile(r"s3://\S+: \d+ rows, task")).first).to_be_visible()
        save(page, "airflow-task-log")
    assert responses.failed() == []
