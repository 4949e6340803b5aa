"""FastAPI application: /predict, /model, /models/{name}/predict, /models/{name}, /health,
/ready, /metrics, /webhooks/mlflow.

Run: uvicorn --factory model_api.main:create_app --workers N (configuration: MODEL_API_*).
The routes are in model_api.routes, what they depend on in model_api.dependencies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from model_api import metrics, schema
from model_api.champion import Champion, LoadedModel, Loader
from model_api.routes import router
from model_api.served import ServedModels
from model_api.settings import Settings


def create_app(
    settings: Settings | None = None, champion: Champion | None = None, follow=None
) -> FastAPI:
    """The app serving `settings.model_name@model_alias`, followed by `champion`, and any
    other registered model's champion on first use, followed by `follow(name, wake_file)`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or Settings()
    loader = Loader(settings.load_dir)  # one loader process per worker, for every model

    def follow_model(name: str, wake_file: Path | None, default: bool = False) -> Champion:
        return Champion(
            name,
            settings.model_alias,
            settings.poll_interval,
            on_change=partial(count_loads, default=default),
            fast_path=settings.fast_path,
            wake_file=wake_file,
            loader=loader,
        )

    champion = champion or follow_model(settings.model_name, settings.wake_file, default=True)
    served = ServedModels(
        champion,
        follow or follow_model,
        max_models=settings.cache_max_models,
        max_bytes=int(settings.cache_max_mb * 2**20),
        first_load_wait=settings.startup_wait,
        wake_file=settings.wake_file,
    )
    app = FastAPI(
        title="Model API",
        summary=f"Predictions from the MLflow model {settings.model_name}@{settings.model_alias}",
        version="1.0.0",
        lifespan=follow_champion,
    )
    app.state.settings = settings
    app.state.champion = champion
    app.state.served = served
    app.state.loader = loader
    app.include_router(router)
    app.add_middleware(Observe)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.openapi = lambda: openapi(app)
    return app


@asynccontextmanager
async def follow_champion(app: FastAPI):
    metrics.MODEL_VERSION.set(0)
    champion, wait = app.state.champion, app.state.settings.startup_wait
    champion.start()
    # no request before the model is there, when MLflow names one: uvicorn opens this
    # worker's share of the socket only after this, and the host's other workers serve
    if not await asyncio.to_thread(champion.first_look, wait):
        logging.getLogger(__name__).warning(
            "no model after %.0f s (MODEL_API_STARTUP_WAIT): taking requests meanwhile", wait
        )
    yield
    app.state.served.stop()
    app.state.loader.stop()


def count_loads(event: str, model: LoadedModel | None, default: bool = True) -> None:
    """A load's metrics; the version and serving path gauges are the configured model's."""
    if event == "loaded":
        metrics.MODEL_LOADS.labels("success").inc()
        if not default:
            return
        metrics.MODEL_VERSION.set(float(model.version))
        for path in ("onnx", "pyfunc"):
            metrics.SERVING_PATH.labels(path).set(1 if path == model.serving_path else 0)
    else:
        metrics.MODEL_LOADS.labels("failure").inc()


class Observe:
    """Count every request and its duration by route template and status: a plain ASGI
    middleware (Starlette's BaseHTTPMiddleware costs a task group and two streams a request,
    more than the compiled model's predict)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            metrics.REQUESTS.labels(scope["method"], path, str(status)).inc()
            metrics.LATENCY.labels(path).observe(time.perf_counter() - started)


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without echoing the whole input back for every problem."""
    details = [
        {key: item[key] for key in ("type", "loc", "msg") if key in item} for item in error.errors()
    ]
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": details}))


def openapi(app: FastAPI) -> dict:
    """OpenAPI with the served model's record schema (it changes with the champion)."""
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    request = document["components"]["schemas"]["PredictRequest"]
    request["properties"]["records"]["maxItems"] = app.state.settings.max_batch_size
    model = app.state.champion.current
    if model is not None:
        request["properties"]["records"]["items"] = schema.record_schema(model.columns)
        request["description"] = f"Records for {model.name} v{model.version}"
    return document
