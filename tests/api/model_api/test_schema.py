from model_api import schema


def test_an_optional_floating_point_column_holds_integral_values_as_floats_and_nulls_as_nan():
    columns = [
        schema.Column("tickets", "double", required=False),
        schema.Column("plan", "string", required=False),
        schema.Column("tenure", "long", required=True),
    ]
    frame = schema.frame([{"tickets": 4, "plan": None, "tenure": 3}, {"tenure": 30}], columns)
    assert str(frame.tickets.dtype) == "float64"  # MLflow refuses int64 for a double column
    assert frame.tickets.tolist()[0] == 4.0
    assert frame.tickets.isna().tolist() == [False, True]
    assert frame.plan.tolist() == [None, None]
    assert str(frame.tenure.dtype) == "int64"


def test_check_caps_the_problems_it_reports_unless_told_to_report_every_one():
    """The API answers with at most MAX_REPORTED_ERRORS; batch scoring lists every bad row."""
    columns = [schema.Column("tenure", "long", required=True)]
    records = [{"tenure": "x"}, {"tenure": None}] * schema.MAX_REPORTED_ERRORS
    assert len(schema.check(records, columns, "m v1")) == schema.MAX_REPORTED_ERRORS
    every = schema.check(records, columns, "m v1", limit=None)
    assert [error["loc"][2] for error in every] == list(range(len(records)))
    assert every[:2] == [
        {
            "type": "integer_type",
            "loc": ["body", "records", 0, "tenure"],
            "msg": "field 'tenure' must be an integer (long), got str 'x'",
        },
        {
            "type": "missing",
            "loc": ["body", "records", 1, "tenure"],
            "msg": "field 'tenure' is required by m v1",
        },
    ]
