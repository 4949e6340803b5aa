"""Train on your data: upload a CSV file, look at it, pick the target, train; then follow the
run until it ends with the new version's metrics and the promotion decision, or the reasons
it failed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, runs, services, uploads
from dashboard.clients import ServiceError
from dashboard.views.common import badge

STARTED_KEY = "started_training_run"  # the run this session started last
REFRESH_SECONDS = 3
TASKS = ("auto", "classification", "regression")


def render() -> None:
    st.title("Train on your data")
    config = services.settings()
    if config.data_bucket is None:
        st.info(
            "Uploads are off: the dashboard has no data bucket (DASHBOARD_DATA_BUCKET). "
            "Train from the Pipelines page on a dataset already in the object store.",
            icon=":material/info:",
        )
        return
    mine = uploads.user_prefix(config.upload_prefix, auth.current_user())
    st.caption(
        f"A CSV file with a header row, up to {config.upload_max_mb} MiB. It is stored as is "
        f"under s3://{config.data_bucket}/{mine}, and "
        f"{config.training_dag} trains on it: missing values are imputed, rows without a "
        "target are left out, and the new version becomes its model's champion if it wins."
    )
    file = st.file_uploader("CSV file", type=["csv"], max_upload_size=config.upload_max_mb)
    if file is not None:
        upload_section(file, config.upload_max_mb * 2**20)
    runs_section(config.training_dag)


def upload_section(file, max_bytes: int) -> None:
    try:
        upload = uploads.read(file.name, file.getvalue(), max_bytes)
    except uploads.UploadError as error:
        st.error(f"{error}. Nothing was stored.", icon=":material/error:")
        return
    frame = upload.frame
    st.subheader(f"{upload.filename}: {len(frame)} rows, {len(frame.columns)} columns")
    st.dataframe(frame.head(uploads.PREVIEW_ROWS), hide_index=True)
    st.caption(f"The first {min(len(frame), uploads.PREVIEW_ROWS)} rows; the columns as read:")
    st.dataframe(
        uploads.describe(frame),
        hide_index=True,
        column_config={"missing (%)": st.column_config.NumberColumn(format="%.1f")},
    )
    with st.form("train-upload"):
        left, middle, right = st.columns(3)
        columns = upload.columns
        target = left.selectbox(
            "Target",
            columns,
            index=columns.index(uploads.default_target(columns)),
            help="The column to predict; every other column is a feature.",
        )
        name = middle.text_input(
            "Model name",
            uploads.model_name(upload.filename),
            help="The registered model the new version joins (a new one if it does not exist).",
        )
        task = right.selectbox(
            "Task",
            TASKS,
            help="auto: classification for text, boolean or few integer values, regression "
            "for other numbers.",
        )
        submitted = st.form_submit_button("Upload and train", type="primary")
    if submitted:
        start(upload, target, name.strip(), task)


def start(upload: uploads.Upload, target: str, name: str, task: str) -> None:
    """Store the file, trigger the training on it; the run then shows below."""
    config = services.settings()
    try:
        uploads.check_model_name(name)
        dataset = services.upload(auth.current_user(), upload)
    except (uploads.UploadError, ServiceError) as error:
        st.error(f"Nothing was trained: {error}", icon=":material/error:")
        return
    conf = {"dataset": dataset, "target": target, "model_name": name, "task": task}
    try:
        run = services.trigger(config.training_dag, conf)
    except ServiceError as error:
        st.error(
            f"{dataset} is stored, but Airflow did not start the training. {error}",
            icon=":material/error:",
        )
        return
    st.session_state[STARTED_KEY] = run["dag_run_id"]


def runs_section(dag_id: str) -> None:
    """The recent runs of the training DAG on this user's uploads, the newest first."""
    config = services.settings()
    prefix = uploads.user_prefix(config.upload_prefix, auth.current_user())
    mine = f"s3://{config.data_bucket}/{prefix}"
    try:
        recent = services.dag_runs(dag_id)
    except ServiceError as error:
        st.error(f"Could not read the runs of {dag_id}. {error}", icon=":material/error:")
        return
    confs = {run["dag_run_id"]: run.get("conf") or {} for run in recent}
    by_id = {
        run_id: {
            "run_id": run_id,
            "model_name": conf.get("model_name", "?"),
            "dataset": conf.get("dataset", ""),
        }
        for run_id, conf in confs.items()
        if str(conf.get("dataset", "")).startswith(mine)
    }
    started = st.session_state.get(STARTED_KEY)
    if not by_id:
        if started:
            st.info(f"Run {started} started; Airflow does not list it yet.")
        return
    st.subheader("Your training runs")
    run_id = st.selectbox(
        "Run",
        list(by_id),
        index=list(by_id).index(started) if started in by_id else 0,
        format_func=lambda run: f"{by_id[run]['model_name']} — {run}",
        label_visibility="collapsed",
    )
    follow(dag_id, by_id[run_id])


def follow(dag_id: str, run: dict) -> None:
    """The run's progress, refreshed every few seconds until it has finished."""
    try:
        outcome = services.run_outcome(dag_id, run["run_id"])
    except ServiceError as error:
        st.error(f"Could not read the run {run['run_id']}. {error}", icon=":material/error:")
        return
    if outcome.finished:
        show(run, outcome)
    else:
        st.fragment(progress, run_every=REFRESH_SECONDS)(dag_id, run)


def progress(dag_id: str, run: dict) -> None:
    try:
        outcome = services.run_outcome(dag_id, run["run_id"])
    except ServiceError as error:
        st.warning(f"Could not read the run now; trying again. {error}")
        return
    if outcome.finished:
        st.rerun()  # the whole page: the results replace the progress, refreshing stops
    show(run, outcome)


def show(run: dict, outcome: runs.Outcome) -> None:
    st.markdown(
        f"{badge(outcome.state, outcome.state)} training **{run['model_name']}** on "
        f"`{run['dataset']}`, run `{outcome.run_id}`"
    )
    if outcome.tasks:
        st.markdown(
            " ".join(
                badge(f"{task['task_id']}: {task.get('state') or 'no status'}", task.get("state"))
                for task in outcome.tasks
            )
        )
    if outcome.state == "failed":
        st.error(
            f"The run failed in **{outcome.failed_task}**:\n\n{outcome.error}",
            icon=":material/error:",
        )
    elif outcome.state == "success":
        results(run["model_name"], outcome)
    else:
        st.caption(f"Refreshed every {REFRESH_SECONDS} s until the run has finished.")


def results(name: str, outcome: runs.Outcome) -> None:
    trained, decision, profile = outcome.trained or {}, outcome.decision or {}, outcome.profile
    version = trained.get("version")
    if decision.get("promoted"):
        st.success(
            f"Version {version} of **{name}** is its champion now: {decision.get('reason')}. "
            f"Predict with it on the Predict page (model {name}).",
            icon=":material/check_circle:",
        )
    else:
        st.warning(
            f"Version {version} of **{name}** is registered, not promoted: "
            f"{decision.get('reason')}",
            icon=":material/info:",
        )
    if profile:
        imputed = ", ".join(profile.get("optional_features") or []) or "none"
        st.caption(
            f"{profile.get('task')} on {profile.get('rows')} rows "
            f"({profile.get('rows_without_target', 0)} without a target left out); features "
            f"with missing values, imputed: {imputed}"
        )
    metrics = trained.get("metrics") or {}
    if metrics:
        st.dataframe(
            pd.DataFrame({"metric": list(metrics), "value": list(metrics.values())}),
            hide_index=True,
            column_config={"value": st.column_config.NumberColumn(format="%.4f")},
        )
