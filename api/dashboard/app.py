"""The dashboard's entry point: `streamlit run dashboard/app.py` (see dashboard/__init__.py)."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, services
from dashboard.settings import SettingsError
from dashboard.views import experiments, health, models, pipelines, predict, train

# (render, title, icon, URL path); the first one is the home page.
VIEWS = [
    (health.render, "Platform health", ":material/monitor_heart:", "health"),
    (experiments.render, "Experiments", ":material/science:", "experiments"),
    (models.render, "Models", ":material/inventory_2:", "models"),
    (pipelines.render, "Pipelines", ":material/account_tree:", "pipelines"),
    (train.render, "Train on your data", ":material/upload_file:", "train"),
    (predict.render, "Predict", ":material/online_prediction:", "predict"),
]


def login_navigation():
    """Only the login form; every page's address shows it too, so that a bookmarked page
    opens once the user has logged in."""
    pages = [st.Page(auth.login_page, title="Log in", icon=":material/login:", default=True)]
    pages += [
        st.Page(auth.login_page, title=title, url_path=path, visibility="hidden")
        for _, title, _, path in VIEWS
    ]
    return st.navigation(pages, position="hidden")


def main() -> None:
    st.set_page_config(page_title="MLOps platform", page_icon=":material/hub:", layout="wide")
    try:
        services.settings()
    except SettingsError as error:
        st.error(f"The dashboard is not configured: {error}")
        st.stop()
    if auth.current_user() is None:
        page = login_navigation()
    else:
        auth.logout_button()
        page = st.navigation(
            [
                st.Page(render, title=title, icon=icon, url_path=path, default=index == 0)
                for index, (render, title, icon, path) in enumerate(VIEWS)
            ]
        )
    page.run()


main()
