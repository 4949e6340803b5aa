"""Predict: pick a model (the model API's configured one, or any registered model with a
champion), fill a form built from the model API's JSON Schema of its record, and send it."""

from __future__ import annotations

import streamlit as st

from dashboard import forms, services
from dashboard.clients import ServiceError
from dashboard.forms import FormField
from dashboard.views.common import refresh_button, show_error

FORM_COLUMNS = 3


def render() -> None:
    st.title("Predict")
    refresh_button(
        services.served_model,
        services.record_schema,
        services.registered_models,
        services.named_model,
    )
    try:
        configured, unserved = services.served_model(), None
    except ServiceError as error:
        configured, unserved = None, error
    choices = model_choices(configured)
    if not choices:
        show_model_api_error(unserved)
        return
    name = st.selectbox(
        "Model",
        choices,
        help="The model API's configured model first, then every registered model with a "
        "champion: the API loads a model the first time it is asked for.",
    )
    if configured is not None and name == configured["name"]:
        model, other = configured, None
        try:
            schema = services.record_schema(model["name"], model["version"])
        except ServiceError as error:
            show_error("the model API's description of a record", error)
            return
    else:
        try:
            model, other = services.named_model(name), name
        except ServiceError as error:
            if error.status in (404, 503):
                st.warning(f"The model API cannot serve {name} now: {error.detail}")
            else:
                show_model_api_error(error)
            return
        schema = model.get("record_schema")
    st.markdown(
        f"Model **{model['name']}** @{model['alias']}, version **{model['version']}** "
        f"(run `{model.get('run_id')}`)"
    )
    if schema is None:
        st.info(
            "The model API does not describe a record yet: it has no model loaded. "
            "Refresh in a few seconds.",
            icon=":material/info:",
        )
        return
    try:
        example = services.input_example(model["name"], model["version"])
    except ServiceError:
        example = None  # the form still works, with empty defaults
    try:
        fields = forms.prediction_fields(schema, forms.example_record(example))
    except ValueError as error:
        st.error(f"This model cannot be used from a form: {error}")
        return
    if example:
        st.caption("The form is prefilled with the first row of the model's input example.")
    values = prediction_form(fields, key=f"predict-{model['name']}-{model['version']}")
    if values is not None:
        show_prediction(forms.prediction_record(fields, values), other)


def model_choices(configured: dict | None) -> list[str]:
    """The configured model (when the API serves it), then the registered models with a
    champion (none when the registry cannot be read: the configured model still works)."""
    names = [configured["name"]] if configured else []
    try:
        champions = [model.name for model in services.registered_models() if model.champion]
    except ServiceError:
        champions = []
    return names + [name for name in champions if name not in names]


def prediction_form(fields: list[FormField], key: str) -> dict | None:
    """The form; the values typed in once it is submitted, else None."""
    with st.form(key):
        columns = st.columns(FORM_COLUMNS)
        values = {
            field.name: field_input(columns[index % FORM_COLUMNS], field, key)
            for index, field in enumerate(fields)
        }
        submitted = st.form_submit_button("Predict", type="primary")
    return values if submitted else None


def field_input(column, field: FormField, key: str):
    label = field.name if field.required else f"{field.name} (optional)"
    help_text = f"JSON type: {field.json_type}"
    widget_key = f"{key}-{field.name}"
    if field.widget in ("float", "integer"):
        return column.number_input(
            label,
            value=field.default,
            min_value=field.minimum,
            max_value=field.maximum,
            step=0.01 if field.widget == "float" else 1,
            format="%.4f" if field.widget == "float" else None,
            help=help_text,
            key=widget_key,
        )
    if field.widget == "checkbox":
        return column.checkbox(label, value=field.default, help=help_text, key=widget_key)
    return column.text_input(label, value=field.default, help=help_text, key=widget_key)


def show_prediction(record: dict, model: str | None = None) -> None:
    """The prediction of the configured model, or of the champion of registered `model`."""
    try:
        answer = services.predict(record, model)
    except ServiceError as error:
        if error.status == 422:
            problems = "\n".join(f"- {line}" for line in forms.validation_messages(error.detail))
            st.error(f"The model API rejected the record:\n\n{problems}")
        else:
            show_model_api_error(error)
        return
    st.success(
        f"Prediction: **{answer['predictions'][0]}** "
        f"(model {answer['model_name']} version {answer['model_version']})",
        icon=":material/check_circle:",
    )


def show_model_api_error(error: ServiceError) -> None:
    if error.status == 503:
        st.info(
            "No model is being served yet: run the training pipeline (Pipelines page); "
            f"the model API loads the champion when one exists. ({error.detail})",
            icon=":material/info:",
        )
    elif error.status == 401:
        st.error("The model API refused the dashboard's API key (DASHBOARD_MODEL_API_KEY).")
    else:
        st.error(f"The model API is not available. {error}", icon=":material/error:")
