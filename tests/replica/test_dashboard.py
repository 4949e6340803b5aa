"""The dashboard in a real browser (Chromium through Playwright), against a running platform.

Each test logs in, opens one page through the navigation, checks what it shows and saves a
full-page screenshot to docs/screenshots/ for the README. The `dashboard` fixture (url,
username, password) and the `browser` come from this directory's conftest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ml import churn
from tests.replica.browser import VIEWPORT, new_page, save
from tests.replica.conftest import ip


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as page:
        yield page


def settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script and drawing its output."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)


def screenshot(page: Page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the viewport grows to it."""
    settle(page)
    height = page.get_by_test_id("stMain").evaluate("main => main.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
    page.wait_for_timeout(300)  # the charts redraw at the new size
    save(page, name)


def log_in(page: Page, dashboard, password: str | None = None, path: str = "") -> None:
    """Open the dashboard (at a page's address, if given) and log in."""
    page.goto(f"{dashboard.url}/{path}")
    settle(page)
    page.get_by_label("Username").fill(dashboard.username)
    page.get_by_label("Password", exact=True).fill(password or dashboard.password)
    page.get_by_role("button", name="Log in").click()


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a select box as a keyboard user does: type it, then Enter. A click on
    the option failed when Streamlit drew the list outside the viewport (CI, 2026-12-07)."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.press_sequentially(option)
    expect(page.get_by_role("option", name=option, exact=True)).to_be_attached()
    box.press("Enter")
    expect(box).to_have_value(option)


def open_page(page: Page, dashboard, title: str) -> None:
    """Log in, then open a page from the sidebar's navigation."""
    log_in(page, dashboard)
    navigation = page.get_by_test_id("stSidebarNav")
    navigation.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    settle(page)


def upload(page: Page, name: str, content: bytes) -> None:
    """Choose a file in the page's file uploader, as a user does."""
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )


def test_a_wrong_password_shows_an_error_and_nothing_else(page: Page, dashboard) -> None:
    log_in(page, dashboard, password=dashboard.password + "-wrong")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    settle(page)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_role("heading", name="Platform health")).to_have_count(0)
    screenshot(page, "login")


def test_platform_health_shows_every_service_up(page: Page, dashboard) -> None:
    log_in(page, dashboard)  # the default page
    expect(page.get_by_role("heading", name="Platform health", level=1)).to_be_visible()
    table = page.get_by_test_id("stTable")
    for service, detail in [
        ("MLflow", "HTTP 200: OK"),
        ("Airflow", "metadatabase healthy, scheduler healthy, triggerer healthy"),
        ("Model API", re.compile(r"ready, serving wine-cultivar@champion v\d+")),
    ]:
        row = table.get_by_role("row", name=re.compile(f"^{service} "))
        expect(row).to_contain_text("up")
        expect(row).to_contain_text(detail)
    expect(page.get_by_text("3 of 3 services up")).to_be_visible()
    # Viewer toolbar: no developer "Deploy" button offered to the platform's users.
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    screenshot(page, "health")


def test_experiments_shows_runs_and_a_chart(page: Page, dashboard) -> None:
    open_page(page, dashboard, "Experiments")
    expect(page.get_by_role("combobox", name="Experiment")).to_have_value("wine-cultivar")
    expect(
        page.get_by_role("heading", name=re.compile(r"^\d+ runs?, newest first"))
    ).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Highest holdout_f1_macro: \d\.\d{4} in run"))
    ).to_be_visible()
    chart = page.get_by_test_id("stVegaLiteChart")
    expect(chart).to_be_visible()
    expect(chart.locator("svg, canvas").first).to_be_visible()
    screenshot(page, "experiments")


def test_models_shows_the_champion(page: Page, dashboard) -> None:
    open_page(page, dashboard, "Models")
    expect(page.get_by_role("heading", name="wine-cultivar", exact=True)).to_be_visible()
    champion = page.get_by_test_id("stMarkdown").filter(has_text="champion").first
    expect(champion).to_contain_text(re.compile(r"champion → version \d+"))
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    screenshot(page, "models")


def test_pipelines_shows_successful_training_runs(page: Page, dashboard) -> None:
    open_page(page, dashboard, "Pipelines")
    expect(page.get_by_role("heading", name="Recent runs of train_model")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^success: \d+$"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    tasks = page.get_by_text(
        re.compile(r"^validate_dataset: success train: success promote: success$")
    )
    expect(tasks).to_be_visible()  # the task states of the selected (latest) run
    # the trigger form is made of the DAG's params, as Airflow lists them
    expect(page.get_by_role("textbox", name="dataset")).to_have_value(
        "s3://mlops-data/demo/wine.csv"
    )
    expect(page.get_by_role("combobox", name="estimator")).to_have_value("random_forest")
    screenshot(page, "pipelines")


def test_pipelines_refuses_a_bad_param_grid(page: Page, dashboard) -> None:
    open_page(page, dashboard, "Pipelines")
    page.get_by_role("textbox", name="param_grid (JSON)").fill('{"max_depth": 3')
    page.get_by_role("button", name="Trigger training").click()
    expect(page.get_by_text("Nothing was sent: param_grid is not valid JSON")).to_be_visible()
    settle(page)
    expect(page.get_by_text("Triggered run")).to_have_count(0)


def test_a_bookmarked_page_opens_after_logging_in(page: Page, dashboard) -> None:
    log_in(page, dashboard, path="models")
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()


def test_a_user_trains_on_a_csv_with_gaps_and_the_api_serves_it(
    page: Page, dashboard, converged, secrets
) -> None:
    """A user's file of another schema, with missing numbers and categories and rows without
    a target: uploaded from the dashboard, previewed, trained under its own name while the
    page follows the run, then served by the API by that name with no redeploy: null is
    accepted for the features that had gaps and refused, naming the field, for the others."""
    open_page(page, dashboard, "Train on your data")
    content = churn().to_csv(index=False).encode()
    upload(page, "churn.csv", content)
    expect(page.get_by_text("churn.csv: 240 rows, 4 columns")).to_be_visible()
    choose(page, "Target", "churned")
    page.get_by_role("textbox", name="Model name").fill("churn")
    page.get_by_role("button", name="Upload and train").click()
    started = re.compile(r"training churn on s3://mlops-data/uploads/admin/\S+-churn\.csv")
    expect(page.get_by_text(started)).to_be_visible()
    promoted = page.get_by_test_id("stAlertContentSuccess")
    expect(promoted).to_contain_text("of churn is its champion now", timeout=240_000)
    version = re.search(r"Version (\d+) of churn", promoted.inner_text()).group(1)
    expect(page.get_by_text("imputed: plan, support_tickets")).to_be_visible()
    screenshot(page, "train")
    with httpx.Client(
        base_url=f"http://{ip(converged, 'app')}:8000",
        headers={"X-API-Key": secrets["secret_model_api_key"]},
        timeout=60,
    ) as api:
        described = api.get("/models/churn")
        assert described.status_code == 200, described.text
        assert described.json()["version"] == version
        record = {"tenure_months": 3, "plan": "basic", "support_tickets": 4}
        gaps = [{**record, "plan": None}, {"tenure_months": 30}]
        answer = api.post("/models/churn/predict", json={"records": [record, *gaps]})
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["predictions"]) <= {"yes", "no"}
        required = api.post(
            "/models/churn/predict", json={"records": [{**record, "tenure_months": None}]}
        )
        assert required.status_code == 422
        assert f"'tenure_months' is required by churn v{version}" in required.text
        # the configured model is served as before, beside it
        assert api.get("/model").json()["name"] == "wine-cultivar"


def test_a_dataset_that_fails_validation_shows_every_problem(
    page: Page, dashboard, airflow_api
) -> None:
    """Stored and handed to the training DAG, which refuses it before any training, at once
    (bad data is not retried): the page shows the validation's problems from the task."""
    open_page(page, dashboard, "Train on your data")
    frame = pd.DataFrame({"a": [1, None, None] * 10, "label": ["x"] * 30})
    upload(page, "bad.csv", frame.to_csv(index=False).encode())
    page.get_by_role("button", name="Upload and train").click()
    failed = page.get_by_test_id("stAlertContentError")
    expect(failed).to_contain_text("The run failed in validate_dataset", timeout=120_000)
    expect(failed).to_contain_text(
        "'a' is empty in 20 of 30 rows (more than max_null_fraction=0.5)"
    )
    expect(failed).to_contain_text("target 'label' has 1 class; at least 2 are needed")
    run_id = re.search(r"run (manual__\S+)", page.get_by_text("training bad on").inner_text())
    path = f"/api/v2/dags/train_model/dagRuns/{quote(run_id.group(1), safe='')}/taskInstances"
    tasks = {t["task_id"]: t for t in airflow_api("GET", path)["task_instances"]}
    assert tasks["validate_dataset"]["try_number"] == 1  # not retried
    assert tasks["train"]["state"] == "upstream_failed"
    screenshot(page, "train-failed")


def test_a_file_that_is_no_csv_is_refused_before_anything_is_stored(page: Page, dashboard) -> None:
    open_page(page, dashboard, "Train on your data")
    upload(page, "notes.csv", b"customer,churned\n")
    expect(
        page.get_by_text("notes.csv has a header row and no data. Nothing was stored.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Upload and train")).to_have_count(0)


def test_predict_answers_with_the_model_picked(page: Page, dashboard) -> None:
    """The form follows the picked model's signature: the configured wine-cultivar first,
    then the churn model the test above trained on a user's CSV under its own name
    (tenure_months, plan, support_tickets), which the API serves by its name."""
    open_page(page, dashboard, "Predict")
    expect(page.get_by_role("combobox", name="Model")).to_have_value("wine-cultivar")
    expect(
        page.get_by_text(re.compile(r"Model wine-cultivar @champion, version \d+"))
    ).to_be_visible()
    expect(page.get_by_role("spinbutton", name="alcohol", exact=True)).not_to_have_value("")
    choose(page, "Model", "churn")
    expect(page.get_by_text(re.compile(r"Model churn @champion, version \d+"))).to_be_visible()
    expect(page.get_by_role("spinbutton", name="tenure_months", exact=True)).not_to_have_value("")
    page.get_by_role("button", name="Predict").click()
    result = page.get_by_test_id("stAlertContentSuccess")
    expect(result).to_contain_text(re.compile(r"Prediction: (yes|no) \(model churn version \d+\)"))
    screenshot(page, "predict")
