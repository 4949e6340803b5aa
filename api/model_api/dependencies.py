"""What the routes depend on, by name: the settings, the champion, the served model, a key.

Everything is read from `request.app.state` (set by `create_app`), so tests can build an app
with their own settings and champion, or override a dependency with `dependency_overrides`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from model_api.champion import Champion, LoadedModel
from model_api.served import NotServed, ServedModels
from model_api.settings import Settings

API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="An API key")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_champion(request: Request) -> Champion:
    return request.app.state.champion


def get_served(request: Request) -> ServedModels:
    return request.app.state.served


AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentChampion = Annotated[Champion, Depends(get_champion)]
Served = Annotated[ServedModels, Depends(get_served)]


def require_api_key(
    settings: AppSettings, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    """401 unless the request carries one of the configured API keys."""
    if not key:
        raise HTTPException(
            401,
            f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "APIKey"},
        )
    sent = key.encode()
    known = (accepted.get_secret_value().encode() for accepted in settings.api_keys)
    # every key is compared, so the time taken does not tell which one came close
    if not sum(secrets.compare_digest(sent, accepted) for accepted in known):
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "APIKey"})


def served_model(champion: CurrentChampion) -> LoadedModel:
    """The model served right now, read once: the whole request uses it. 503 when none."""
    model = champion.current
    if model is None:
        reason = champion.last_error or "the model has not been loaded yet"
        raise HTTPException(503, f"no model is being served: {reason}")
    return model


ServedModel = Annotated[LoadedModel, Depends(served_model)]


async def named_champion(name: str, served: Served) -> Champion:
    """The champion of the registered model `name` (the path's), loaded on first use: 404
    when there is no such model or no version has the alias yet, 503 when it cannot load."""
    try:
        return await served.get(name)
    except NotServed as refused:
        raise HTTPException(refused.status, refused.reason) from None


NamedChampion = Annotated[Champion, Depends(named_champion)]


def named_model(champion: NamedChampion) -> LoadedModel:
    return served_model(champion)


NamedModel = Annotated[LoadedModel, Depends(named_model)]
