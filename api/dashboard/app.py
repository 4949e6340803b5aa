"""The dashboard's entry point: `streamlit run dashboard/app.py` (see dashboard/__init__.py)."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, services
from dashboard.settings import SettingsError
from dashboard.views import experiments, health, models, pipelines, predict

PAGES = [
    st.Page(
        health.render,
        title="Platform health",
        icon=":material/monitor_heart:",
        url_path="health",
        default=True,
    ),
    st.Page(
        experiments.render, title="Experiments", icon=":material/science:", url_path="experiments"
    ),
    st.Page(models.render, title="Models", icon=":material/inventory_2:", url_path="models"),
    st.Page(
        pipelines.render, title="Pipelines", icon=":material/account_tree:", url_path="pipelines"
    ),
    st.Page(
        predict.render, title="Predict", icon=":material/online_prediction:", url_path="predict"
    ),
]


def main() -> None:
    st.set_page_config(page_title="MLOps platform", page_icon=":material/hub:", layout="wide")
    try:
        services.settings()
    except SettingsError as error:
        st.error(f"The dashboard is not configured: {error}")
        st.stop()
    if auth.current_user() is None:
        page = st.navigation([st.Page(auth.login_page, title="Log in", icon=":material/login:")])
    else:
        auth.logout_button()
        page = st.navigation(PAGES)
    page.run()


main()
