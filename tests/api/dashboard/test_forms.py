"""The pure logic behind the forms: signature -> fields -> record, conf, error messages."""

from __future__ import annotations

import json

import pytest

from dashboard import forms

COLUMNS = [
    {"type": "double", "name": "alcohol", "required": True},
    {"type": "long", "name": "magnesium", "required": True},
    {"type": "string", "name": "region", "required": False},
    {"type": "boolean", "name": "organic", "required": True},
    {"type": "float", "name": "hue", "required": False},
]
# What MLflow's signature.to_dict() gives, and so the model API's /model: inputs as a string.
SIGNATURE = {"inputs": json.dumps(COLUMNS), "outputs": '[{"type": "string"}]', "params": None}


def test_one_field_per_column_with_its_widget() -> None:
    fields = forms.prediction_fields(SIGNATURE)
    assert [(f.name, f.widget, f.required) for f in fields] == [
        ("alcohol", "float", True),
        ("magnesium", "integer", True),
        ("region", "text", False),
        ("organic", "checkbox", True),
        ("hue", "float", False),
    ]
    assert [f.default for f in fields] == [0.0, 0, "", False, 0.0]


def test_inputs_given_as_a_list_are_accepted() -> None:
    fields = forms.prediction_fields({"inputs": COLUMNS[:2]})
    assert [f.name for f in fields] == ["alcohol", "magnesium"]


def test_an_example_prefills_the_fields_in_their_types() -> None:
    example = {"alcohol": 13, "magnesium": 127.0, "region": "north", "organic": True}
    fields = forms.prediction_fields(SIGNATURE, example)
    defaults = {f.name: f.default for f in fields}
    assert defaults == {
        "alcohol": 13.0,
        "magnesium": 127,
        "region": "north",
        "organic": True,
        "hue": 0.0,  # not in the example
    }
    assert isinstance(defaults["alcohol"], float)
    assert isinstance(defaults["magnesium"], int)


def test_example_values_that_do_not_fit_are_ignored() -> None:
    example = {"alcohol": "n/a", "magnesium": 12.5, "organic": "yes"}
    defaults = {f.name: f.default for f in forms.prediction_fields(SIGNATURE, example)}
    assert (defaults["alcohol"], defaults["magnesium"], defaults["organic"]) == (0.0, 0, False)


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ({}, "no inputs"),
        ({"inputs": None}, "no inputs"),
        ({"inputs": "[]"}, "no inputs"),
        ({"inputs": "not json"}, "not valid JSON"),
        ({"inputs": '[{"type": "tensor", "tensor-spec": {}}]'}, "unnamed inputs"),
        ({"inputs": '[{"type": "binary", "name": "image"}]'}, "'image' has type 'binary'"),
    ],
)
def test_signatures_a_form_cannot_edit_are_refused(signature: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        forms.prediction_fields(signature)


def test_the_record_has_each_value_in_its_json_type() -> None:
    fields = forms.prediction_fields(SIGNATURE)
    values = {"alcohol": 14, "magnesium": 101.0, "region": "", "organic": True, "hue": None}
    record = forms.prediction_record(fields, values)
    assert record == {"alcohol": 14.0, "magnesium": 101, "organic": True}
    assert isinstance(record["alcohol"], float)
    assert isinstance(record["magnesium"], int)


def test_a_required_text_is_sent_even_when_empty() -> None:
    fields = forms.prediction_fields({"inputs": [{"type": "string", "name": "note"}]})
    assert forms.prediction_record(fields, {"note": ""}) == {"note": ""}


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


@pytest.mark.parametrize(
    ("text", "grid"),
    [
        ("", {}),
        ("  {} ", {}),
        (
            '{"max_depth": [3, 6], "n_estimators": [50]}',
            {"max_depth": [3, 6], "n_estimators": [50]},
        ),
    ],
)
def test_a_valid_param_grid(text: str, grid: dict) -> None:
    assert forms.parse_param_grid(text) == grid


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{max_depth: [3]}", "not valid JSON"),
        ('{"max_depth": [3, 6]', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not a list"),
        ('"text"', "must be a JSON object, not a str"),
        ('{"max_depth": 3}', "'max_depth' needs a non-empty list"),
        ('{"max_depth": []}', "'max_depth' needs a non-empty list"),
    ],
)
def test_an_invalid_param_grid_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        forms.parse_param_grid(text)


CONF = {
    "dataset": " s3://mlops-data/demo/wine.csv ",
    "target": "cultivar",
    "model_name": "wine-cultivar",
    "promotion_metric": "f1_macro",
    "estimator": "linear",
    "param_grid": '{"C": [0.1, 1.0]}',
}


def test_the_training_conf() -> None:
    assert forms.training_conf(**CONF) == {
        "dataset": "s3://mlops-data/demo/wine.csv",
        "target": "cultivar",
        "model_name": "wine-cultivar",
        "promotion_metric": "f1_macro",
        "estimator": "linear",
        "param_grid": {"C": [0.1, 1.0]},
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"param_grid": "{oops"}, "param_grid is not valid JSON"),
        ({"target": " ", "model_name": ""}, "fill in: target, model_name"),
        ({"dataset": "https://example.test/wine.csv"}, "s3://"),
        ({"estimator": "xgboost"}, "estimator must be one of random_forest, linear"),
    ],
)
def test_a_bad_training_conf_is_refused(change: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        forms.training_conf(**{**CONF, **change})
