"""FastAPI application: /predict, /model, /health, /ready, /metrics.

Run: uvicorn --factory model_api.main:create_app --workers N (configuration: MODEL_API_*).
"""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations,
# and string annotations of functions defined inside create_app cannot be resolved.
import logging
import secrets
import time
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from model_api import metrics, schema
from model_api.champion import Champion, LoadedModel
from model_api.settings import Settings

log = logging.getLogger("model_api")
API_KEY_HEADER = "X-API-Key"


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(
        min_length=1, description="Records to predict: objects keyed by the model's input names"
    )


class PredictResponse(BaseModel):
    model_name: str
    model_version: str
    predictions: list[Any]


class ModelInfo(BaseModel):
    name: str
    alias: str
    version: str
    run_id: str | None
    signature: dict
    loaded_at: str
    load_seconds: float
    last_load_error: str | None = None


def create_app(settings: Settings | None = None) -> FastAPI:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or Settings()
    accepted = [key.get_secret_value().encode() for key in settings.api_keys]

    def on_change(event: str, model: LoadedModel | None) -> None:
        if event == "loaded":
            metrics.MODEL_LOADS.labels("success").inc()
            metrics.MODEL_VERSION.set(float(model.version))
        else:
            metrics.MODEL_LOADS.labels("failure").inc()

    champion = Champion(
        settings.model_name, settings.model_alias, settings.poll_interval, on_change=on_change
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        metrics.MODEL_VERSION.set(0)
        champion.start()
        yield
        champion.stop()

    app = FastAPI(
        title="Model API",
        summary=f"Predictions from the MLflow model {settings.model_name}@{settings.model_alias}",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.champion = champion
    app.state.settings = settings
    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="An API key")

    def require_key(key: Annotated[str | None, Security(key_header)]) -> None:
        if not key:
            raise HTTPException(
                401,
                f"missing API key: send it in the {API_KEY_HEADER} header",
                headers={"WWW-Authenticate": "APIKey"},
            )
        if not any(secrets.compare_digest(key.encode(), known) for known in accepted):
            raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "APIKey"})

    def serving() -> LoadedModel:
        model = champion.current  # one read: the whole request uses this model
        if model is None:
            reason = champion.last_error or "the model has not been loaded yet"
            raise HTTPException(503, f"no model is being served: {reason}")
        return model

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            metrics.REQUESTS.labels(request.method, path, str(status)).inc()
            metrics.LATENCY.labels(path).observe(time.perf_counter() - started)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {key: item[key] for key in ("type", "loc", "msg") if key in item}
            for item in error.errors()
        ]
        return JSONResponse(status_code=422, content=jsonable_encoder({"detail": details}))

    @app.post(
        "/predict",
        response_model=PredictResponse,
        dependencies=[Depends(require_key)],
        responses={
            401: {"description": "Missing or invalid API key"},
            413: {"description": f"More than {settings.max_batch_size} records"},
            422: {"description": "Records that do not match the model's signature"},
            503: {"description": "No model loaded yet"},
        },
    )
    async def predict(body: PredictRequest) -> PredictResponse:
        """Predict one or many records, each checked against the served model's signature."""
        if len(body.records) > settings.max_batch_size:
            raise HTTPException(
                413,
                f"{len(body.records)} records; at most {settings.max_batch_size} per request",
            )
        model = serving()
        label = f"{model.name} v{model.version}"
        errors = schema.check(body.records, model.columns, label)
        if errors:
            raise HTTPException(422, errors)
        features = schema.frame(body.records, model.columns)
        predictions = await run_in_threadpool(model.pyfunc.predict, features)
        metrics.PREDICTIONS.inc(len(body.records))
        return PredictResponse(
            model_name=model.name,
            model_version=model.version,
            predictions=schema.jsonable(predictions),
        )

    @app.get("/model", response_model=ModelInfo, dependencies=[Depends(require_key)])
    async def model_info() -> ModelInfo:
        """The model being served: version, run, signature, when it was loaded."""
        return ModelInfo(**serving().describe(), last_load_error=champion.last_error)

    @app.get("/health")
    async def health() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"description": "No model loaded yet"}})
    async def ready(response: Response) -> dict:
        """Readiness: a model is loaded and served."""
        model = champion.current
        body = {
            "ready": model is not None,
            "model": f"{model.name}@{model.alias} v{model.version}" if model else None,
            "last_load_error": champion.last_error,
            "last_checked": champion.last_checked.isoformat() if champion.last_checked else None,
        }
        if model is None:
            response.status_code = 503
        return body

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        content, media_type = metrics.exposition()
        return Response(content, media_type=media_type)

    def openapi() -> dict:
        """OpenAPI with the served model's record schema (it changes with the champion)."""
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        model = champion.current
        request = document["components"]["schemas"]["PredictRequest"]
        request["properties"]["records"]["maxItems"] = settings.max_batch_size
        if model is not None:
            request["properties"]["records"]["items"] = schema.record_schema(model.columns)
            request["description"] = f"Records for {model.name} v{model.version}"
        return document

    app.openapi = openapi
    return app
