"""Platform health: is each service up, how fast it answers, and what it reports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import services
from dashboard.views.common import refresh_button

STATUS_STYLES = {
    "up": "color: #177233; font-weight: bold",
    "down": "color: #bd1e1e; font-weight: bold",
}


def _status_style(status: str) -> str:
    return STATUS_STYLES.get(status, "")


def render() -> None:
    st.title("Platform health")
    refresh_button(services.service_health)
    checks = services.service_health()
    up = sum(check.up for check in checks)
    summary = f"{up} of {len(checks)} services up"
    if up == len(checks):
        st.success(summary, icon=":material/check_circle:")
    else:
        st.error(summary, icon=":material/error:")
    rows = [
        {
            "service": check.service,
            "status": "up" if check.up else "down",
            "latency (ms)": "—" if check.latency_ms is None else f"{check.latency_ms:.0f}",
            "detail": check.detail,
        }
        for check in checks
    ]
    table = pd.DataFrame(rows).set_index("service")
    st.table(table.style.map(_status_style, subset=["status"]))
    config = services.settings()
    st.caption(
        f"Checked: {config.mlflow_tracking_uri}/health, "
        f"{config.airflow_url}/api/v2/monitor/health, "
        f"{config.model_api_url}/health and /ready (cached for 10 s)."
    )
