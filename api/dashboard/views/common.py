"""Small pieces shared by the pages."""

from __future__ import annotations

import streamlit as st

from dashboard.clients import ServiceError

STATE_COLORS = {
    "success": "green",
    "failed": "red",
    "upstream_failed": "red",
    "running": "blue",
    "queued": "orange",
    "up_for_retry": "orange",
    "scheduled": "gray",
}


def badge(text: str, state: str | None) -> str:
    """Markdown for a colored badge; the color follows an Airflow state."""
    return f":{STATE_COLORS.get(state or '', 'gray')}-badge[{text}]"


def show_error(what: str, error: ServiceError) -> None:
    st.error(f"Could not read {what}. {error}", icon=":material/error:")


def refresh_button(*cached) -> None:
    """A button that drops these cached reads, so the page shows fresh data."""
    if st.button("Refresh", icon=":material/refresh:"):
        for function in cached:
            function.clear()
