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
