"""The pure logic behind the forms: record schema -> fields -> record, DAG params -> fields ->
conf, error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard import forms

# The model API's JSON Schema of a record (components.schemas.PredictRequest.properties
# .records.items of its OpenAPI document), one property of each kind.
RECORD = {
    "type": "object",
    "properties": {
        "alcohol": {"type": "number"},
        "count": {
            "type": "integer",
            "minimum": -9223372036854775808,
            "maximum": 9223372036854775807,
        },
        "small": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
        "flag": {"type": "boolean"},
        "name": {"type": "string"},
        "maybe": {"type": ["number", "null"]},
        "note": {"type": ["string", "null"]},
    },
    "required": ["alcohol", "count", "small", "flag", "name"],
    "additionalProperties": False,
}


def test_one_field_per_property_with_its_widget() -> None:
    fields = forms.prediction_fields(RECORD)
    assert [(f.name, f.json_type, f.widget, f.required) for f in fields] == [
        ("alcohol", "number", "float", True),
        ("count", "integer", "integer", True),
        ("small", "integer", "integer", True),
        ("flag", "boolean", "checkbox", True),
        ("name", "string", "text", True),
        ("maybe", "number", "float", False),
        ("note", "string", "text", False),
    ]
    assert [f.default for f in fields] == [0.0, 0, 0, False, "", 0.0, ""]


def test_integer_bounds_are_the_schemas_within_what_streamlit_holds() -> None:
    bounds = {f.name: (f.minimum, f.maximum) for f in forms.prediction_fields(RECORD)}
    assert bounds["count"] == (-(2**53 - 1), 2**53 - 1)  # int64: clamped
    assert bounds["small"] == (-2147483648, 2147483647)  # int32: as the schema says
    assert bounds["alcohol"] == (None, None)


def test_integers_without_bounds_get_streamlits() -> None:
    [field] = forms.prediction_fields({"properties": {"n": {"type": "integer"}}})
    assert (field.minimum, field.maximum) == (-(2**53 - 1), 2**53 - 1)
    assert not field.required  # no `required`: every input is optional


def test_number_bounds_are_kept_and_the_empty_default_fits_them() -> None:
    schema = {
        "properties": {
            "ratio": {"type": "number", "minimum": 0.5, "maximum": 2},
            "rank": {"type": "integer", "minimum": 1.5, "maximum": 9.5},
        }
    }
    ratio, rank = forms.prediction_fields(schema)
    assert (ratio.minimum, ratio.maximum, ratio.default) == (0.5, 2.0, 0.5)
    assert isinstance(ratio.maximum, float)  # Streamlit wants one numeric type per widget
    assert (rank.minimum, rank.maximum, rank.default) == (2, 9, 2)


def test_an_example_prefills_the_fields_in_their_types() -> None:
    example = {"alcohol": 13, "count": 127.0, "name": "north", "flag": True, "maybe": "1.5"}
    defaults = {f.name: f.default for f in forms.prediction_fields(RECORD, example)}
    assert defaults == {
        "alcohol": 13.0,
        "count": 127,
        "small": 0,  # not in the example
        "flag": True,
        "name": "north",
        "maybe": 1.5,
        "note": "",
    }
    assert isinstance(defaults["alcohol"], float)
    assert isinstance(defaults["count"], int)


def test_example_values_that_do_not_fit_are_ignored() -> None:
    example = {"alcohol": "n/a", "count": 12.5, "flag": "yes", "small": 2**40, "maybe": "inf"}
    defaults = {f.name: f.default for f in forms.prediction_fields(RECORD, example)}
    assert defaults["alcohol"] == 0.0
    assert defaults["count"] == 0
    assert defaults["flag"] is False
    assert defaults["small"] == 0  # beyond int32: the widget could not hold it
    assert defaults["maybe"] == 0.0


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({}, "describes no inputs"),
        ({"type": "object", "additionalProperties": True}, "describes no inputs"),
        ({"properties": {}}, "describes no inputs"),
        (
            {"properties": {"image": {"type": "array", "items": {"type": "number"}}}},
            "the form cannot edit input 'image' of JSON type 'array'",
        ),
        ({"properties": {"blob": {}}}, "the form cannot edit input 'blob' of JSON type None"),
        (
            {"properties": {"either": {"type": ["number", "string"]}}},
            r"the form cannot edit input 'either' of JSON type \['number', 'string'\]",
        ),
        ({"properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}}}, "no value"),
    ],
)
def test_records_a_form_cannot_edit_are_refused(schema: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        forms.prediction_fields(schema)


def test_the_record_has_each_value_in_its_json_type() -> None:
    fields = forms.prediction_fields(RECORD)
    values = {
        "alcohol": 14,
        "count": 101.0,
        "small": 3,
        "flag": True,
        "name": "",
        "maybe": None,
        "note": "",
    }
    record = forms.prediction_record(fields, values)
    # a required text is sent even when empty; an empty optional one is left out
    assert record == {"alcohol": 14.0, "count": 101, "small": 3, "flag": True, "name": ""}
    assert isinstance(record["alcohol"], float)
    assert isinstance(record["count"], int)


@pytest.mark.parametrize(
    ("payload", "record"),
    [
        ({"columns": ["a", "b"], "data": [[1.5, 2], [3, 4]]}, {"a": 1.5, "b": 2}),
        ({"dataframe_split": {"columns": ["a"], "data": [[7]]}}, {"a": 7}),
        ([{"a": 1}, {"a": 2}], {"a": 1}),
        ({"columns": ["a"], "data": []}, None),
        ([[1, 2]], None),
        (None, None),
    ],
)
def test_the_first_row_of_an_input_example(payload, record) -> None:
    assert forms.example_record(payload) == record


def test_422_details_read_as_sentences() -> None:
    detail = [
        {
            "type": "number_type",
            "loc": ["body", "records", 0, "alcohol"],
            "msg": "must be a number",
        },
        {"type": "missing", "loc": ["body", "records"], "msg": "Field required"},
        {"type": "extra_forbidden", "loc": ["query", "x"], "msg": "not allowed"},
    ]
    assert forms.validation_messages(detail) == [
        "alcohol: must be a number",
        "Field required",
        "query.x: not allowed",
    ]


def test_a_plain_detail_is_one_message() -> None:
    assert forms.validation_messages("bad request") == ["bad request"]


# What Airflow's GET /api/v2/dags/train_model/details lists as params for dags/train_model.py
# (tests/dags/test_train_model.py checks that this copy is still what Airflow serves).
TRAIN_MODEL_PARAMS = json.loads((Path(__file__).parent / "train_model_params.json").read_text())


def fields_by_name(params: dict = TRAIN_MODEL_PARAMS) -> dict[str, forms.ParamField]:
    return {field.name: field for field in forms.param_fields(params)}


def test_one_field_per_param_of_the_training_dag() -> None:
    fields = forms.param_fields(TRAIN_MODEL_PARAMS)
    assert [(f.name, f.widget) for f in fields] == [
        ("dataset", "text"),
        ("target", "text"),
        ("model_name", "text"),
        ("promotion_metric", "text"),
        ("task", "select"),
        ("estimator", "select"),
        ("param_grid", "json"),
        ("test_size", "float"),
        ("random_seed", "integer"),
        ("max_null_fraction", "float"),
        ("numeric_imputation", "select"),
        ("categorical_imputation", "select"),
    ]


def test_the_fields_hold_the_dags_defaults_options_bounds_and_descriptions() -> None:
    fields = fields_by_name()
    assert fields["dataset"].default == "s3://mlops-data/demo/wine.csv"
    assert fields["dataset"].description == "s3://bucket/key of a CSV file with a header row"
    assert fields["task"].options == ("auto", "classification", "regression")
    assert fields["estimator"].options == ("random_forest", "linear")
    assert fields["estimator"].default == "random_forest"
    assert fields["param_grid"].default == "{}"
    test_size = fields["test_size"]
    assert (test_size.default, test_size.minimum, test_size.maximum) == (0.25, 0.05, 0.5)
    seed = fields["random_seed"]
    assert (seed.default, seed.minimum, seed.maximum) == (42, -(2**53 - 1), 2**53 - 1)


def form_values(**changes) -> dict:
    """What the untouched form returns for the training DAG, with some values changed."""
    values = {field.name: field.default for field in forms.param_fields(TRAIN_MODEL_PARAMS)}
    return {**values, **changes}


def test_the_untouched_form_sends_the_dags_defaults() -> None:
    fields = forms.param_fields(TRAIN_MODEL_PARAMS)
    assert forms.trigger_conf(fields, form_values()) == {
        name: param["value"] for name, param in TRAIN_MODEL_PARAMS.items()
    }


def test_the_conf_has_each_value_in_its_json_type() -> None:
    fields = forms.param_fields(TRAIN_MODEL_PARAMS)
    values = form_values(
        dataset=" s3://bucket/churn.csv ",
        estimator="linear",
        param_grid='{"C": [0.1, 1.0]}',
        test_size=0.3,
        random_seed=7.0,
    )
    conf = forms.trigger_conf(fields, values)
    assert conf["dataset"] == "s3://bucket/churn.csv"  # texts lose surrounding blanks
    assert conf["estimator"] == "linear"
    assert conf["param_grid"] == {"C": [0.1, 1.0]}
    assert conf["test_size"] == 0.3
    assert conf["random_seed"] == 7
    assert isinstance(conf["random_seed"], int)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"param_grid": '{"max_depth": [3, 6]'}, ["param_grid is not valid JSON: Expecting"]),
        ({"param_grid": "[1, 2]"}, ["param_grid: [1, 2] is not of type 'object'"]),
        ({"param_grid": ""}, ["param_grid: None is not of type 'object'"]),
        ({"param_grid": '{"max_depth": []}'}, ["param_grid.max_depth: [] should be non-empty"]),
        ({"param_grid": '{"max_depth": 3}'}, ["param_grid.max_depth: 3 is not of type 'array'"]),
        (
            {"dataset": "https://example.test/wine.csv"},
            ["dataset: 'https://example.test/wine.csv'"],
        ),
        ({"target": " "}, ["target: '' should be non-empty"]),
        ({"estimator": "xgboost"}, ["estimator: 'xgboost' is not one of"]),
        ({"test_size": 0.9}, ["test_size: 0.9 is greater than the maximum of 0.5"]),
        ({"random_seed": None}, ["random_seed: None is not of type 'integer'"]),
        (
            {"model_name": "bad name", "target": "", "param_grid": "{oops"},
            ["target: ", "model_name: 'bad name' does not match", "param_grid is not valid JSON"],
        ),
    ],
)
def test_a_bad_conf_lists_every_problem_and_nothing_is_sent(
    changes: dict, problems: list[str]
) -> None:
    fields = forms.param_fields(TRAIN_MODEL_PARAMS)
    with pytest.raises(forms.ConfError) as raised:
        forms.trigger_conf(fields, form_values(**changes))
    assert len(raised.value.problems) == len(problems)
    for problem, expected in zip(raised.value.problems, problems, strict=True):
        assert problem.startswith(expected), problem


@pytest.mark.parametrize(
    ("param", "widget", "default"),
    [
        ({"value": True, "schema": {"type": "boolean"}}, "checkbox", True),
        ({"value": None, "schema": {"type": "boolean"}}, "checkbox", False),
        ({"value": [1, 2], "schema": {"type": "array"}}, "json", "[1, 2]"),
        ({"value": None, "schema": {"type": ["object", "null"]}}, "json", "null"),
        ({"value": None, "schema": {"type": "object"}}, "json", ""),
        ({"value": 3, "schema": {"type": ["integer", "string"]}}, "json", "3"),
        ({"value": None, "schema": {"type": "integer"}}, "integer", None),
        ({"value": 7, "schema": {"type": "integer", "maximum": 5}}, "integer", None),
        ({"value": 2, "schema": {"const": 2}}, "select", 2),
        ({"value": 1, "schema": {"enum": [True, 1]}}, "select", 1),
        ({"value": "x", "schema": {"enum": ["a", "b"]}}, "select", "a"),
        ({"value": "text", "schema": {}}, "text", "text"),  # no type: the default's
        ({"value": 1.5, "schema": {}}, "float", 1.5),
        ({"value": {"a": 1}, "schema": {}}, "json", '{"a": 1}'),
        ("bare value", "text", "bare value"),  # not a {value, schema} mapping
    ],
)
def test_the_widget_follows_the_schema(param, widget: str, default) -> None:
    [field] = forms.param_fields({"p": param})
    assert (field.widget, field.default) == (widget, default)


def test_a_select_starts_at_its_default() -> None:
    [field] = forms.param_fields({"p": {"value": 1, "schema": {"enum": [True, 1]}}})
    assert field.option_index == 1  # not True, which equals 1 in Python


def test_the_older_dump_with_a_class_name_is_read_too() -> None:
    """Airflow 3.0's SDK Param.dump() adds `__class` to value, description and schema."""
    param = {
        "__class": "airflow.sdk.definitions.param.Param",
        "value": 0.25,
        "description": "held out",
        "schema": {"type": "number", "minimum": 0.05, "maximum": 0.5},
    }
    [field] = forms.param_fields({"test_size": param})
    assert (field.widget, field.default, field.description) == ("float", 0.25, "held out")
    assert (field.minimum, field.maximum) == (0.05, 0.5)


def test_nullable_params_send_null_when_left_empty() -> None:
    params = {
        "note": {"value": None, "schema": {"type": ["string", "null"]}},
        "limit": {"value": None, "schema": {"type": ["integer", "null"]}},
        "extra": {"value": None, "schema": {"type": ["object", "null"]}},
    }
    fields = forms.param_fields(params)
    values = {"note": " ", "limit": None, "extra": "null"}
    assert forms.trigger_conf(fields, values) == {"note": None, "limit": None, "extra": None}


def test_a_param_without_a_valid_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="param 'p' has no valid JSON Schema"):
        forms.param_fields({"p": {"value": 1, "schema": {"type": "no-such-type"}}})
    with pytest.raises(ValueError, match="param 'p' has no JSON Schema object"):
        forms.param_fields({"p": {"value": 1, "schema": [1]}})


def test_no_params_no_fields() -> None:
    assert forms.param_fields({}) == []
    assert forms.trigger_conf([], {}) == {}


@pytest.mark.parametrize(("option", "label"), [("auto", "auto"), (None, "null"), (2, "2")])
def test_select_options_are_shown_as_json_unless_text(option, label: str) -> None:
    assert forms.option_label(option) == label
