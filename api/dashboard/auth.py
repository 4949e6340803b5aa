"""The login gate: one user, from DASHBOARD_USERNAME and DASHBOARD_PASSWORD."""

from __future__ import annotations

import hmac
import time

import streamlit as st

from dashboard import services

FAILURE_DELAY_SECONDS = 1.0  # slows down password guessing
SESSION_KEY = "authenticated_user"


def credentials_match(username: str, password: str, expected_user: str, expected: str) -> bool:
    """Compare both in constant time, and both always, so timing tells nothing."""
    user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
    password_ok = hmac.compare_digest(password.encode(), expected.encode())
    return user_ok and password_ok


def current_user() -> str | None:
    return st.session_state.get(SESSION_KEY)


def login_page() -> None:
    _, column, _ = st.columns([1, 2, 1])
    with column:
        st.title("MLOps platform")
        st.caption("Log in to see the platform's health, experiments, models and pipelines.")
        with st.form("login"):
            username = st.text_input("Username")
            password = st.text_input("Password", type="password")
            submitted = st.form_submit_button("Log in", type="primary")
        if submitted:
            check(username, password)


def check(username: str, password: str) -> None:
    """Open the session, or say no after a pause."""
    config = services.settings()
    if credentials_match(username, password, config.username, config.password.get_secret_value()):
        st.session_state[SESSION_KEY] = username
        st.rerun()
    time.sleep(FAILURE_DELAY_SECONDS)
    st.error("Wrong username or password.")


def logout_button() -> None:
    with st.sidebar:
        st.caption(f"Logged in as **{current_user()}**")
        if st.button("Log out"):
            del st.session_state[SESSION_KEY]
            st.rerun()
