"""Models: the registered models, their versions, aliases and tags; the champion stands out."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import services
from dashboard.clients import ServiceError
from dashboard.tracking import CHAMPION_ALIAS, RegisteredModel
from dashboard.views.common import refresh_button, show_error

CHAMPION_STYLE = "background-color: rgba(255, 196, 0, 0.25); font-weight: bold"


def render() -> None:
    st.title("Models")
    refresh_button(services.registered_models)
    try:
        models = services.registered_models()
    except ServiceError as error:
        show_error("the model registry", error)
        return
    if not models:
        st.info(
            "The registry has no model yet: the training pipeline registers one (Pipelines page)."
        )
        return
    preferred = services.settings().model_name
    for model in sorted(models, key=lambda model: model.name != preferred):
        model_section(model)


def _highlight_champion(champion: str | None):
    def style(row: pd.Series) -> list[str]:
        is_champion = champion is not None and str(row["version"]) == champion
        return [CHAMPION_STYLE if is_champion else ""] * len(row)

    return style


def model_section(model: RegisteredModel) -> None:
    st.subheader(model.name, divider="gray")
    if model.description:
        st.caption(model.description)
    if model.champion:
        st.markdown(f":material/trophy: :orange-badge[champion] → version **{model.champion}**")
    else:
        st.warning(f"No version has the alias {CHAMPION_ALIAS} yet.", icon=":material/warning:")
    others = {alias: version for alias, version in model.aliases.items() if alias != CHAMPION_ALIAS}
    if others:
        st.caption("Other aliases: " + ", ".join(f"{a} → v{v}" for a, v in sorted(others.items())))
    count = len(model.versions)
    st.caption(f"{count} version{'s' if count != 1 else ''}, newest first")
    st.dataframe(
        model.versions.style.apply(_highlight_champion(model.champion), axis=1),
        hide_index=True,
        column_config={
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )
