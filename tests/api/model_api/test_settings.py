from __future__ import annotations

import pytest
from pydantic import ValidationError

from model_api.settings import Settings


def test_keys_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_API_API_KEYS", " first-key-0123456789 , second-key-0123456789,")
    settings = Settings()
    assert [key.get_secret_value() for key in settings.api_keys] == [
        "first-key-0123456789",
        "second-key-0123456789",
    ]
    assert "first-key" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "api_keys"),
        ({"MODEL_API_API_KEYS": "short"}, "at least 16 characters"),
        ({"MODEL_API_API_KEYS": "k" * 20, "MODEL_API_POLL_INTERVAL": "0"}, "poll_interval"),
        ({"MODEL_API_API_KEYS": "k" * 20, "MODEL_API_MAX_BATCH_SIZE": "0"}, "max_batch_size"),
    ],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, env: dict, message: str) -> None:
    monkeypatch.delenv("MODEL_API_API_KEYS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match=message):
        Settings()
