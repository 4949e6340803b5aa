"""Prometheus metrics; several uvicorn workers share them through PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "model_api_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "model_api_request_duration_seconds",
    "HTTP request duration by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PREDICTIONS = Counter("model_api_predictions_total", "Records predicted, by serving path", ["path"])
BATCH_ROWS = Histogram(
    "model_api_batch_rows",
    "Records per model call, by serving path (concurrent requests coalesced)",
    ["path"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
SERVING_PATH = Gauge(
    "model_api_serving_path",
    "1 for the path (onnx or pyfunc) each worker's loaded model is served through",
    ["path"],
    multiprocess_mode="liveall",
)
MODEL_VERSION = Gauge(
    "model_api_model_version",
    "Registered model version each worker serves (0: none yet)",
    multiprocess_mode="liveall",
)
WEBHOOKS = Counter(
    "model_api_webhooks_total",
    "MLflow webhook deliveries: woke (a model's alias moved: the workers following it look), "
    "prepared (a version of a model served registered, prepared ahead), ignored (another "
    "event), refused",
    ["result"],
)
MODEL_LOADS = Counter("model_api_model_loads_total", "Model loads by result", ["result"])
CACHE_EVICTIONS = Counter(
    "model_api_model_cache_evictions_total",
    "Models dropped from a worker's cache of other registered models (least recently used)",
)
CACHED_MODELS = Gauge(
    "model_api_model_cache_models",
    "Other registered models each worker keeps loaded (/models/{name}/...)",
    multiprocess_mode="liveall",
)
CACHED_BYTES = Gauge(
    "model_api_model_cache_bytes",
    "Size of the model files each worker's cache holds",
    multiprocess_mode="liveall",
)


def exposition() -> tuple[bytes, str]:
    """The metrics page: all workers' values when running multi-process."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
