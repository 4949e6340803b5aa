"""schemathesis, every check, against the OpenAPI document the API serves.

Generated requests (valid and invalid) go to the app in-process, once with a model served
and once with none; each answer must be one the document declares, in its schema.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error

from tests.api.model_api import fakes

# Hypothesis keeps a cache of constants: under ~/.cache, not in the checkout.
set_hypothesis_home_dir(Path.home() / ".cache" / "mlops-platform" / "hypothesis")
# The schemas are loaded at collection time, so the apps are built then too.
SERVING = schemathesis.openapi.from_asgi("/openapi.json", fakes.app(fakes.loaded_model()))
NO_MODEL = schemathesis.openapi.from_asgi("/openapi.json", fakes.app(None))
HEADERS = {"X-API-Key": fakes.API_KEY}
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,  # no .hypothesis directory in the checkout
)


@SERVING.parametrize()
@EXAMPLES
def test_serving_answers_as_documented(case) -> None:
    case.call_and_validate(headers=HEADERS)


@NO_MODEL.parametrize()
@EXAMPLES
def test_no_model_answers_as_documented(case) -> None:
    # every other check; a 5xx must be the 503 the document declares for "no model yet"
    response = case.call_and_validate(headers=HEADERS, excluded_checks=[not_a_server_error])
    assert response.status_code < 500 or response.status_code == 503, response.text
