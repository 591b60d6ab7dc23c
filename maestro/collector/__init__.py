"""The collector: per-run TracerProvider, parquet/OTLP export, resource sampling and HTTP
byte accounting. It knows no framework; adapters record through ``RunTelemetry``."""

from maestro.collector.export import ContentPolicy, ParquetSpanExporter, RunIdentity, span_to_row
from maestro.collector.http import HttpLedger, bind_ledger, install_http_hooks
from maestro.collector.redact import Redactor
from maestro.collector.resources import ResourceSampler
from maestro.collector.telemetry import RunStats, RunTelemetry, SpanHandle, current_telemetry

__all__ = [
    "ContentPolicy", "ParquetSpanExporter", "RunIdentity", "span_to_row", "HttpLedger", "bind_ledger",
    "install_http_hooks", "Redactor", "ResourceSampler", "RunStats", "RunTelemetry", "SpanHandle",
    "current_telemetry",
]
