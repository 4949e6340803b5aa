"""Experiments: an experiment's runs in a table, and one metric compared across them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import services
from dashboard.clients import ServiceError
from dashboard.tracking import RunTable
from dashboard.views.common import refresh_button, show_error

PREFERRED_METRICS = ("holdout_f1_macro", "holdout_score")


def render() -> None:
    st.title("Experiments")
    refresh_button(services.experiments, services.experiment_runs)
    try:
        experiments = services.experiments()
    except ServiceError as error:
        show_error("the experiments from MLflow", error)
        return
    if not experiments:
        st.info("MLflow has no experiments yet.")
        return
    names = list(experiments)
    preferred = services.settings().model_name  # the training DAG's experiment
    name = st.selectbox(
        "Experiment", names, index=names.index(preferred) if preferred in names else 0
    )
    try:
        table = services.experiment_runs(experiments[name])
    except ServiceError as error:
        show_error(f"the runs of {name}", error)
        return
    if table.frame.empty:
        st.info(f"{name} has no runs yet: trigger the training pipeline on the Pipelines page.")
        return
    runs_section(table)
    if table.metrics:
        comparison_section(table)
        history_section(table)
    else:
        st.info("These runs logged no metrics.")


def runs_section(table: RunTable) -> None:
    count = len(table.frame)
    st.subheader(f"{count} run{'s' if count != 1 else ''}, newest first")
    st.dataframe(
        table.frame,
        hide_index=True,
        column_config={
            "run_id": None,  # hidden: the run name carries the Airflow run id
            "start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "duration (s)": st.column_config.NumberColumn(format="%.1f"),
            **{
                f"metrics.{key}": st.column_config.NumberColumn(key, format="%.4f")
                for key in table.metrics
            },
            **{f"params.{key}": st.column_config.TextColumn(key) for key in table.params},
        },
    )


def comparison_section(table: RunTable) -> None:
    st.subheader("Compare a metric")
    preferred = [key for key in PREFERRED_METRICS if key in table.metrics]
    metric = st.selectbox(
        "Metric",
        table.metrics,
        index=table.metrics.index(preferred[0]) if preferred else 0,
    )
    column = f"metrics.{metric}"
    values = table.frame[["run name", "run_id", "start", column]].dropna(subset=[column])
    best = values.loc[values[column].idxmax()]
    st.markdown(
        f"Highest **{metric}**: `{best[column]:.4f}` in run `{best['run name']}` "
        f"({len(values)} of {len(table.frame)} runs logged it)."
    )
    st.altair_chart(metric_chart(values, column, metric))


def metric_chart(values: pd.DataFrame, column: str, metric: str) -> alt.Chart:
    """One horizontal bar per run, highest first; run names are long, so labels get room."""
    labels = values["run name"].fillna("") + " · " + values["run_id"].str[:6]  # names repeat
    # Fixed field names: a metric's own name may hold dots, which Vega reads as paths.
    frame = pd.DataFrame(
        {
            "run": labels,
            "run name": values["run name"],
            "start": values["start"],
            "value": values[column],
        }
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("value", type="quantitative", title=metric),
            y=alt.Y("run", type="nominal", sort="-x", axis=alt.Axis(title=None, labelLimit=480)),
            tooltip=[
                "run name",
                alt.Tooltip("start", type="temporal", format="%Y-%m-%d %H:%M:%S"),
                alt.Tooltip("value", type="quantitative", format=".4f", title=metric),
            ],
        )
        .properties(height=alt.Step(28))
    )


def history_section(table: RunTable) -> None:
    with st.expander("Metric history of one run"):
        labels = dict(zip(table.frame["run_id"], table.frame["run name"], strict=True))
        run_id = st.selectbox("Run", list(labels), format_func=lambda run: labels[run] or run)
        metric = st.selectbox("Metric", table.metrics, key="history_metric")
        try:
            history = services.metric_history(run_id, metric)
        except ServiceError as error:
            show_error(f"the history of {metric}", error)
            return
        if len(history) > 1:
            st.line_chart(history, x="step", y=metric)
        elif len(history) == 1:
            st.write(f"{metric} was logged once: {history[metric].iloc[0]:.4f}")
        else:
            st.write(f"This run did not log {metric}.")
