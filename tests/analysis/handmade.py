"""Hand-made studies for the analysis tests: study.json, runs.parquet and per-run span and
resource files written through the store's own schema helpers, with every number chosen
by hand so tests can compare against hand-computed values.

Import from a test file with::

    sys.path.insert(0, str(Path(__file__).parent)); from handmade import ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maestro import semconv as sc
from maestro.store.layout import StudyLayout, atomic_write_json, atomic_write_table, file_metadata, table_from_rows
from maestro.store.reader import RunIndex
from maestro.store.schema import RESOURCE_COLUMNS, SPAN_COLUMNS

PRICES = {"as_of": "2026-11-01", "currency": "USD", "unit": "per 1M tokens",
          "models": {"sim/a": {"input": 1.0, "output": 2.0}, "sim/b": {"input": 10.0, "output": 20.0}}}
"""Round prices: 1M tokens cost 1/2 USD (sim/a) or 10/20 USD (sim/b)."""

IDENTITY = ("study_id", "run_id", "instance", "framework", "backend", "tools_enabled", "repeat", "seed", "task_id")


def run_row(study_id: str, run_id: str, **kw: Any) -> dict[str, Any]:
    """A runs.parquet row with plausible defaults (overridden by ``kw``)."""
    row = {"schema_version": sc.SCHEMA_VERSION, "study_id": study_id, "run_id": run_id, "instance": "crag",
           "framework": "langgraph", "backend": "sim/a", "tools_enabled": True, "repeat": 0, "seed": 1,
           "task_id": "t1", "model": "sim-a", "provider": "maestro.sim", "simulated": True, "status": "success",
           "outcome": "success", "judgement": "correct", "exact_match": 1.0, "f1": 1.0, "answer": "Paris",
           "gold": "Paris", "duration_s": 1.0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
           "cost_usd": 0.0, "llm_calls": 0, "tool_calls": 0, "agent_turns": 0, "messages": 0, "attempt": 1,
           "clean": True}
    row.update(kw)
    return row


class SpanBuilder:
    """Spans of one run with sequential ids and times (1 ms apart)."""

    def __init__(self, run: dict[str, Any]):
        self.ident = {k: run[k] for k in IDENTITY}
        self.rows: list[dict[str, Any]] = []
        self.t = 1_000_000_000

    def add(self, span_type: str, parent: str | None = None, dur_ms: int = 1, **kw: Any) -> str:
        sid = f"{len(self.rows) + 1:016x}"
        start = self.t
        self.t += 1_000_000
        row = {**self.ident, "trace_id": "0" * 31 + "1", "span_id": sid, "parent_span_id": parent,
               "name": kw.pop("name", f"{span_type} {kw.get('agent_name', '')}".strip()), "kind": "INTERNAL",
               "span_type": span_type, "start_time_ns": start, "end_time_ns": start + dur_ms * 1_000_000,
               "duration_ns": dur_ms * 1_000_000, "status_code": "UNSET"}
        row.update(kw)
        self.rows.append(row)
        return sid

    def message(self, src: str, tgt: str, parent: str | None = None, nbytes: int | None = 10, **kw: Any) -> str:
        return self.add("message", parent, dur_ms=0, message_source=src, message_target=tgt, input_bytes=nbytes,
                        total_bytes=nbytes, is_in_process_call=True, name=f"message {src} -> {tgt}", **kw)


def write_study(root: Path, runs: list[dict[str, Any]], spans: dict[str, list[dict[str, Any]]] | None = None,
                resources: dict[str, list[dict[str, Any]]] | None = None, **info: Any) -> Path:
    """Write a study folder; ``spans``/``resources`` map run id -> rows."""
    layout = StudyLayout(root).create()
    body = {"format": "maestro.study", "schema_version": sc.SCHEMA_VERSION, "study_id": layout.study_id,
            "simulated": True, "prices": PRICES}
    body.update(info)
    atomic_write_json(body, layout.study_json)
    index = RunIndex(layout)
    for r in runs:
        index.upsert(r, write=False)
    index.write()
    for run_id, rows in (spans or {}).items():
        atomic_write_table(table_from_rows(SPAN_COLUMNS, rows, file_metadata("spans")), layout.spans_file(run_id))
    for run_id, rows in (resources or {}).items():
        atomic_write_table(table_from_rows(RESOURCE_COLUMNS, rows, file_metadata("resources")),
                           layout.resources_file(run_id))
    return layout.root


def assert_png_not_blank(path: Path) -> None:
    """The file is a real PNG of a drawn figure: PNG magic, a sensible size, and pixels that
    are not all one colour."""
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, path
    img = imread(path)
    assert img.shape[0] > 150 and img.shape[1] > 300, path
    assert float(img[..., :3].std()) > 0.01, f"{path} is blank"
