"""Pipelines: trigger a training run, and follow the training DAG's runs and their tasks."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import forms, runs, services
from dashboard.clients import ServiceError
from dashboard.forms import ParamField
from dashboard.views.common import badge, refresh_button, show_error

FORM_COLUMNS = 2
TRIGGERED_KEY = "triggered_run"  # the run just triggered, announced after the rerun


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
    trigger_section(dag_id, dag.get("params"))


def trigger_section(dag_id: str, params: dict | None) -> None:
    st.subheader(f"Train a model: trigger {dag_id}")
    if not isinstance(params, dict):
        st.warning(
            f"Airflow did not list the params of {dag_id} (an older Airflow, or a DAG it has "
            "not parsed yet). The form is built from them, so there is none: trigger the DAG "
            "from Airflow's UI, or Refresh later.",
            icon=":material/warning:",
        )
        return
    try:
        fields = forms.param_fields(params)
    except ValueError as error:
        st.error(f"The form cannot be built from {dag_id}'s params: {error}")
        return
    st.caption(
        f"The form follows {dag_id}'s params as Airflow lists them, prefilled with their "
        "defaults; every value is checked against its param's schema before the run starts."
        if fields
        else f"{dag_id} takes no params."
    )
    values = trigger_form(fields)
    triggered = st.session_state.pop(TRIGGERED_KEY, None)
    if triggered:
        st.success(f"Triggered run `{triggered}`: it is in the list above.")
    if values is not None:
        start_run(dag_id, fields, values)


def trigger_form(fields: list[ParamField]) -> dict | None:
    """One widget per param, prefilled with its default; what was typed once submitted."""
    with st.form("trigger"):
        columns = st.columns(FORM_COLUMNS)
        values = {
            field.name: param_input(columns[index % FORM_COLUMNS], field)
            for index, field in enumerate(fields)
        }
        submitted = st.form_submit_button("Trigger training", type="primary")
    return values if submitted else None


def param_input(column, field: ParamField):
    """The widget of one param, as its schema says."""
    help_text = field.description
    if field.widget == "select":
        return column.selectbox(
            field.name,
            field.options,
            index=field.option_index,
            format_func=forms.option_label,
            help=help_text,
        )
    if field.widget == "checkbox":
        return column.checkbox(field.name, value=field.default, help=help_text)
    if field.widget in ("integer", "float"):
        return column.number_input(
            field.name,
            value=field.default,
            min_value=field.minimum,
            max_value=field.maximum,
            step=1 if field.widget == "integer" else 0.01,
            format=None if field.widget == "integer" else "%.4f",
            help=help_text,
        )
    if field.widget == "json":
        kind = field.schema.get("type")
        return column.text_area(
            f"{field.name} (JSON)",
            field.default,
            help=help_text or (f"a JSON {kind}" if isinstance(kind, str) else "JSON"),
        )
    return column.text_input(field.name, field.default, help=help_text)


def start_run(dag_id: str, fields: list[ParamField], values: dict) -> None:
    """Validate, then trigger; on success the page reruns and announces the new run."""
    try:
        conf = forms.trigger_conf(fields, values)
    except forms.ConfError as error:
        if len(error.problems) == 1:
            st.error(f"Nothing was sent: {error.problems[0]}", icon=":material/error:")
        else:
            problems = "\n".join(f"- {problem}" for problem in error.problems)
            st.error(f"Nothing was sent:\n\n{problems}", icon=":material/error:")
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
    tasks = runs.in_order(tasks)
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
