"""The model API's routes: /predict and /model for the configured model, /models/{name}/predict
and /models/{name} for any registered model (API key), /health, /ready, /metrics, and
/webhooks/mlflow (MLflow's signature instead of a key)."""

from __future__ import annotations

import logging
from functools import partial

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from model_api import metrics, schema, webhooks
from model_api.batching import Batcher
from model_api.champion import LoadedModel
from model_api.dependencies import (
    AppSettings,
    CurrentChampion,
    NamedChampion,
    NamedModel,
    Served,
    ServedModel,
    require_api_key,
)
from model_api.models import Health, ModelInfo, PredictRequest, PredictResponse, Readiness
from model_api.settings import Settings

NO_MODEL = {503: {"description": "No model loaded yet"}}
BAD_KEY = {401: {"description": "Missing or invalid API key"}}
PREDICT_ERRORS = {
    400: {"description": "A body that cannot be read (not UTF-8 JSON)"},
    413: {"description": "More records than MODEL_API_MAX_BATCH_SIZE"},
    422: {"description": "Records that do not match the model's signature"},
}
NOT_SERVED = {
    404: {"description": "No such registered model, or no version of it has the alias yet"},
    503: {"description": "The model's champion could not be loaded (yet)"},
}

router = APIRouter()


@router.post(
    "/predict",
    dependencies=[Depends(require_api_key)],
    responses={**BAD_KEY, **PREDICT_ERRORS, **NO_MODEL},
)
async def predict(
    body: PredictRequest, model: ServedModel, settings: AppSettings
) -> PredictResponse:
    """Predict one or many records, each checked against the served model's signature."""
    return await _predict(body, model, settings)


@router.post(
    "/models/{name}/predict",
    dependencies=[Depends(require_api_key)],
    responses={**BAD_KEY, **PREDICT_ERRORS, **NOT_SERVED},
)
async def predict_with(
    body: PredictRequest, model: NamedModel, settings: AppSettings
) -> PredictResponse:
    """Predict with the champion of any registered model, loaded on its first request."""
    return await _predict(body, model, settings)


async def _predict(body: PredictRequest, model: LoadedModel, settings: Settings) -> PredictResponse:
    if len(body.records) > settings.max_batch_size:
        raise HTTPException(
            413, f"{len(body.records)} records; at most {settings.max_batch_size} per request"
        )
    label = f"{model.name} v{model.version}"
    errors = schema.check(body.records, model.columns, label)
    if errors:
        raise HTTPException(422, errors)
    fast = model.compiled is not None and model.compiled.accepts(body.records)
    path = "onnx" if fast else "pyfunc"
    predictions = await batcher(model, path, settings).predict(body.records)
    metrics.PREDICTIONS.labels(path).inc(len(body.records))
    return PredictResponse(
        model_name=model.name, model_version=model.version, predictions=predictions
    )


def batcher(model: LoadedModel, path: str, settings: Settings) -> Batcher:
    """The worker's batcher for one path of the served model, made on first use. ONNX
    Runtime takes microseconds a record: it runs in the event loop, cheaper than a hop to a
    thread. pyfunc runs in a thread, and requests queue for its next call meanwhile."""
    found = model.batchers.get(path)
    if found is None:
        if path == "onnx":
            call, in_thread = model.compiled.predict, False
        else:
            call, in_thread = partial(_pyfunc_predict, model), True
        found = model.batchers[path] = Batcher(
            call,
            path,
            max_rows=settings.batch_max_rows,
            max_wait=settings.batch_max_wait_ms / 1000,
            in_thread=in_thread,
        )
    return found


def _pyfunc_predict(model: LoadedModel, records: list[dict]) -> list:
    return schema.jsonable(model.pyfunc.predict(schema.frame(records, model.columns)))


@router.get("/model", dependencies=[Depends(require_api_key)], responses={**BAD_KEY, **NO_MODEL})
async def model_info(model: ServedModel, champion: CurrentChampion) -> ModelInfo:
    """The model being served: version, run, signature, when it was loaded."""
    return ModelInfo(**model.describe(), last_load_error=champion.last_error)


@router.get(
    "/models/{name}",
    dependencies=[Depends(require_api_key)],
    responses={**BAD_KEY, **NOT_SERVED},
)
async def named_model_info(model: NamedModel, champion: NamedChampion) -> ModelInfo:
    """The champion of any registered model, loaded on first use: version, run, signature."""
    return ModelInfo(**model.describe(), last_load_error=champion.last_error)


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/ready", responses={503: {"model": Readiness, **NO_MODEL[503]}})
async def ready(response: Response, champion: CurrentChampion) -> Readiness:
    """Readiness: a model is loaded and served."""
    model = champion.current
    if model is None:
        response.status_code = 503
    return Readiness(
        ready=model is not None,
        model=f"{model.name}@{model.alias} v{model.version}" if model else None,
        last_load_error=champion.last_error,
        last_checked=champion.last_checked.isoformat() if champion.last_checked else None,
    )


log = logging.getLogger("model_api.webhooks")
# A registry event is a few hundred bytes.
WEBHOOK_MAX_BYTES = 64 * 1024


@router.post(
    "/webhooks/mlflow",
    status_code=204,
    responses={
        400: {"description": "A signed body that is not a JSON object"},
        401: {"description": "No valid MLflow signature, or a timestamp too old"},
        404: {"description": "Webhooks are not configured (MODEL_API_WEBHOOK_SECRET)"},
        413: {"description": "A body larger than a registry event can be"},
    },
)
async def mlflow_webhook(request: Request, settings: AppSettings, served: Served) -> Response:
    """MLflow's registry events, HMAC-signed: one about the served model's alias makes every
    worker serve the version it names at once when the host has it prepared, and resolve the
    alias at once instead of at its next poll; a version of the served
    model just registered is prepared ahead, so that its promotion finds it ready."""
    if settings.webhook_secret is None:
        raise HTTPException(404, "webhooks are not configured (MODEL_API_WEBHOOK_SECRET)")
    if int(request.headers.get("content-length") or 0) > WEBHOOK_MAX_BYTES:
        raise HTTPException(413, f"a webhook body has at most {WEBHOOK_MAX_BYTES} bytes")
    body = await request.body()
    try:
        payload = webhooks.verify(settings.webhook_secret.get_secret_value(), request.headers, body)
    except webhooks.Refused as refused:
        metrics.WEBHOOKS.labels("refused").inc()
        raise HTTPException(refused.status, refused.reason) from None
    name, alias = webhooks.model_of(payload), settings.model_alias
    created = webhooks.created_version(payload, name) if name else None
    if name and webhooks.concerns(payload, name, alias):
        moved_to = webhooks.moved_to(payload, name, alias)
        served.wake(name, moved_to)
        metrics.WEBHOOKS.labels("woke").inc()
        # when MLflow's delivery arrived (the pollers log when they get to it)
        log.info(
            "webhook delivery: %s@%s moved%s, every worker resolves it",
            name,
            alias,
            f" to v{moved_to}" if moved_to else "",
        )
    elif created is not None and served.prepare_ahead(name, created):
        metrics.WEBHOOKS.labels("prepared").inc()
        log.info("webhook delivery: %s v%s registered, preparing it ahead", name, created)
    else:
        metrics.WEBHOOKS.labels("ignored").inc()
    return Response(status_code=204)


@router.get("/metrics", include_in_schema=False)
async def prometheus() -> Response:
    content, media_type = metrics.exposition()
    return Response(content, media_type=media_type)
