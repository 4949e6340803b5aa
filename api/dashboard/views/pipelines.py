"""Pipelines: trigger a training run, and follow the training DAG's runs and their tasks."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import forms, services
from dashboard.clients import ServiceError
from dashboard.views.common import badge, refresh_button, show_error

TRIGGERED_KEY = "triggered_run"  # the run just triggered, announced after the rerun
# The training DAG's own defaults, used when Airflow does not list the DAG's params.
FALLBACK_PARAMS = {
    "dataset": "s3://mlops-data/demo/wine.csv",
    "target": "cultivar",
    "promotion_metric": "f1_macro",
    "estimator": "random_forest",
    "param_grid": {},
}


def render() -> None:
    st.title("Pipelines")
    dag_id = services.settings().training_dag
    refresh_button(services.dag, services.dag_runs, services.task_instances)
    try:
        dag = services.dag(dag_id)
    except ServiceError as error:
        if error.status == 404:
            st.warning(f"Airflow has no DAG {dag_id}: is it deployed to the DAGs bucket?")
        else:
            show_error(f"the DAG {dag_id} from Airflow", error)
        return
    st.caption(dag.get("description") or "")
    if dag.get("is_paused"):
        st.warning(f"{dag_id} is paused: new runs wait until it is unpaused in Airflow.")
    runs_section(dag_id)
    trigger_section(dag_id, dag_params(dag))


def dag_params(dag: dict) -> dict:
    """The DAG's param defaults (Airflow lists each param as {"value": ..., "schema": ...})."""
    params = dict(FALLBACK_PARAMS, model_name=services.settings().model_name)
    for name, param in (dag.get("params") or {}).items():
        value = param.get("value") if isinstance(param, dict) and "value" in param else param
        if value is not None:
            params[name] = value
    return params


def trigger_section(dag_id: str, params: dict) -> None:
    st.subheader(f"Train a model: trigger {dag_id}")
    values = trigger_form(params)
    triggered = st.session_state.pop(TRIGGERED_KEY, None)
    if triggered:
        st.success(f"Triggered run `{triggered}`: it is in the list above.")
    if values is not None:
        start_run(dag_id, values)


def trigger_form(params: dict) -> dict | None:
    """The DAG's params, prefilled with its defaults; what was typed once submitted."""
    with st.form("trigger"):
        left, right = st.columns(2)
        values = {
            "dataset": left.text_input(
                "dataset", params["dataset"], help="s3://bucket/key of a CSV"
            ),
            "target": left.text_input("target", params["target"], help="the column to predict"),
            "model_name": left.text_input("model_name", params["model_name"]),
            "promotion_metric": right.text_input(
                "promotion_metric",
                params["promotion_metric"],
                help="a scikit-learn scorer, higher is better (f1_macro, r2, ...)",
            ),
            "estimator": right.selectbox(
                "estimator",
                forms.ESTIMATORS,
                index=forms.ESTIMATORS.index(params["estimator"])
                if params["estimator"] in forms.ESTIMATORS
                else 0,
            ),
            "param_grid": right.text_area(
                "param_grid (JSON)",
                json.dumps(params["param_grid"] or {}),
                help='each parameter with the values to try, e.g. {"max_depth": [3, 6]}; '
                "{} for the DAG's default grid",
            ),
        }
        submitted = st.form_submit_button("Trigger training", type="primary")
    return values if submitted else None


def start_run(dag_id: str, values: dict) -> None:
    """Validate, then trigger; on success the page reruns and announces the new run."""
    try:
        conf = forms.training_conf(**values)
    except ValueError as error:
        st.error(f"Nothing was sent: {error}", icon=":material/error:")
        return
    try:
        run = services.trigger(dag_id, conf)
    except ServiceError as error:
        st.error(f"Airflow did not start the run. {error}", icon=":material/error:")
        return
    st.session_state[TRIGGERED_KEY] = run["dag_run_id"]
    st.rerun()  # from the top: the run list shows the new run


def state_of(item: dict) -> str:
    """A run's or task's state; Airflow gives none to a task that has not been scheduled."""
    return item.get("state") or "no status"


def runs_table(runs: list[dict]) -> pd.DataFrame:
    rows = [
        {
            "run id": run["dag_run_id"],
            "state": state_of(run),
            "run type": run.get("run_type"),
            "start": pd.to_datetime(run.get("start_date"), utc=True),
            "end": pd.to_datetime(run.get("end_date"), utc=True),
            "duration (s)": run.get("duration"),
            "conf": json.dumps(run.get("conf") or {}, sort_keys=True),
        }
        for run in runs
    ]
    return pd.DataFrame(rows)


def runs_section(dag_id: str) -> None:
    st.subheader(f"Recent runs of {dag_id}")
    try:
        runs = services.dag_runs(dag_id)
    except ServiceError as error:
        show_error(f"the runs of {dag_id}", error)
        return
    if not runs:
        st.info(f"{dag_id} has not run yet: trigger it with the form above.")
        return
    counts = pd.Series([state_of(run) for run in runs]).value_counts()
    st.markdown(" ".join(badge(f"{state}: {count}", state) for state, count in counts.items()))
    st.dataframe(
        runs_table(runs),
        hide_index=True,
        column_config={
            "start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "duration (s)": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    states = {run["dag_run_id"]: state_of(run) for run in runs}
    run_id = st.selectbox(
        "Tasks of run", list(states), format_func=lambda run: f"{run} — {states[run]}"
    )
    tasks_section(dag_id, run_id)


def tasks_section(dag_id: str, run_id: str) -> None:
    try:
        tasks = services.task_instances(dag_id, run_id)
    except ServiceError as error:
        show_error(f"the tasks of {run_id}", error)
        return
    if not tasks:
        st.info("No task of this run has been scheduled yet.")
        return
    # In the order they ran; those that never started last, upstream ones first (Airflow
    # weighs a task by the tasks downstream of it).
    tasks = sorted(
        tasks,
        key=lambda task: (
            task.get("start_date") or "~",
            -(task.get("priority_weight") or 0),
            task["task_id"],
        ),
    )
    st.markdown(
        " ".join(badge(f"{task['task_id']}: {state_of(task)}", task.get("state")) for task in tasks)
    )
    rows = [
        {
            "task": task["task_id"],
            "state": state_of(task),
            "try": task.get("try_number"),
            "start": pd.to_datetime(task.get("start_date"), utc=True),
            "end": pd.to_datetime(task.get("end_date"), utc=True),
            "duration (s)": task.get("duration"),
        }
        for task in tasks
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "end": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "duration (s)": st.column_config.NumberColumn(format="%.1f"),
        },
    )
