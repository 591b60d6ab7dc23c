"""Traces in from other tools: OTLP (protobuf or JSON) carrying OpenInference, OTel GenAI,
ADK-native or AutoGen-native spans becomes a normal maestro study folder.

    maestro ingest --study traces/mine [--port 4318]    # an OTLP/HTTP receiver on loopback
    maestro import spans.json ... --study traces/mine  # OTLP JSON files

The mapping per dialect is in :mod:`maestro.interop.mapping` and docs/trace-format.md; the
runs are written by ``maestro.runner.importer`` (the runner's run record and the store's
writers: only the runner joins the collector, backends and store).
"""

from maestro.interop.mapping import ImportOptions, MappedRun, MappedSpan, classify, group_runs, map_run
from maestro.interop.otlp import OtlpError, OtlpSpan, decode_json, decode_protobuf, read_json_file
from maestro.interop.receiver import Receiver, RunSink, serve

__all__ = [
    "ImportOptions", "MappedRun", "MappedSpan", "classify", "group_runs", "map_run", "OtlpError", "OtlpSpan",
    "decode_json", "decode_protobuf", "read_json_file", "Receiver", "RunSink", "serve",
]
