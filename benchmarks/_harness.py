"""The measuring harness shared by the overhead benchmarks (``overhead*.py``).

Each benchmark script contributes only its workload (an untraced invocation, a traced one,
and any comparison mode); this module runs the modes interleaved in one process and
reports them the same way:

* a warm-up of 3 invocations per mode (not timed), then ``rounds`` rounds; each round
  runs one block of ``block`` invocations per mode, the block order rotating every round;
* the time per invocation of a mode is the median over rounds of block time / block;
* per-span overhead = (time per invocation - untraced time per invocation) / spans per
  invocation of that mode; spans created vs written (dropped = the difference) are
  maestro's own counts, or what the caller counted for a comparison mode.

Scripts import it as ``_harness`` (``python benchmarks/<script>.py`` puts this folder first
on ``sys.path``).
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.store.layout import StudyLayout

__all__ = ["parse_args", "SpanCounter", "ComparisonProvider", "new_totals", "MaestroModes", "run_rounds", "summarise", "print_table", "write_json"]

Block = Callable[[int], None]
"""Runs ``n`` invocations of one mode."""

WARMUP = 3
"""Untimed invocations per mode before the first round."""


def parse_args(doc: str, argv: list[str] | None, rounds: int, block: int, block_help: str) -> argparse.Namespace:
    """The scripts' common options: ``--rounds``, ``--block`` and ``--json`` (output file)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--block", type=int, default=block, help=block_help)
    ap.add_argument("--json", type=Path)
    return ap.parse_args(argv)


class SpanCounter(SpanProcessor):
    """Counts spans an SDK provider started (spans created by a comparison tracer)."""

    def __init__(self):
        self.started = 0

    def on_start(self, span, parent_context=None):
        self.started += 1


class ComparisonProvider:
    """The tracer provider of a comparison mode (another tracer's spans): an SDK
    ``TracerProvider`` with the SDK's default ``BatchSpanProcessor`` into an in-memory
    exporter (the documented set-up), plus a counter of the spans it started."""

    def __init__(self):
        self.memory = InMemorySpanExporter()
        """Where the batch processor exports to: the spans written."""
        self.counter = SpanCounter()
        """Spans created."""
        self.provider = TracerProvider()
        """The provider to hand to the other tracer."""
        self.provider.add_span_processor(self.counter)
        self.provider.add_span_processor(BatchSpanProcessor(self.memory))

    def reset(self) -> None:
        """Forget the spans so far (after the warm-up)."""
        self.provider.force_flush()
        self.counter.started = 0
        self.memory.clear()

    def counts(self) -> dict[str, int]:
        """Spans created and written (flushed first), as totals fields."""
        self.provider.force_flush()
        return {"created": self.counter.started, "written": len(self.memory.get_finished_spans())}


def new_totals(modes: list[str]) -> dict[str, dict[str, int]]:
    """Per mode: spans created, spans written and invocations timed."""
    return {m: {"created": 0, "written": 0, "runs": 0} for m in modes}


class MaestroModes:
    """The ``maestro`` (one maestro run per invocation) and ``maestro-block`` (one run per
    block) modes of a workload, with their span counts.

    Args:
        study_id: study id of the runs' identity (and the scratch study's name).
        instance: instance name of the runs' identity.
        framework: framework of the runs' identity.
        tmp_prefix: prefix of the scratch directory the runs' parquet files go to.
    """

    def __init__(self, study_id: str, instance: str, framework: str, tmp_prefix: str):
        self.study_id, self.instance, self.framework = study_id, instance, framework
        scratch = tempfile.mkdtemp(prefix=tmp_prefix)
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # the runs' files are not what is measured
        self.layout = StudyLayout.for_study(Path(scratch), study_id).create()
        """Scratch study layout the runs write to (removed when the benchmark exits)."""
        self.totals = new_totals(["maestro", "maestro-block"])
        """Span counts of the two modes (reset after the warm-up)."""
        self._run_no = 0

    def identity(self, run_id: str) -> RunIdentity:
        """The identity of a benchmark run (simulated backend, as in a study)."""
        return RunIdentity(study_id=self.study_id, run_id=run_id, instance=self.instance, framework=self.framework,
                           backend="sim/strong", simulated=True)

    def telemetry(self, run_id: str) -> RunTelemetry:
        """A started run telemetry writing to the scratch layout (no resource sampler)."""
        t = RunTelemetry(self.identity(run_id), self.layout.spans_file(run_id), self.layout.resources_file(run_id),
                         sample_resources=False)
        t.start()
        return t

    def blocks(self, once: Callable[[RunTelemetry], Any],
               many: Callable[[RunTelemetry, int], Any] | None = None) -> dict[str, Block]:
        """The two modes' blocks. ``once(t)`` runs one traced invocation into ``t``;
        ``many(t, n)`` runs ``n`` into one telemetry (default: ``once`` ``n`` times)."""
        if many is None:
            def many(t, n):
                for _ in range(n):
                    once(t)

        def block_maestro(n: int) -> None:
            for _ in range(n):
                self._run_no += 1
                t = self.telemetry(f"r{self._run_no}")
                once(t)
                s = t.finish()
                self.totals["maestro"]["created"] += s.spans_created
                self.totals["maestro"]["written"] += s.spans_written

        def block_maestro_block(n: int) -> None:
            self._run_no += 1
            t = self.telemetry(f"b{self._run_no}")
            many(t, n)
            s = t.finish()
            self.totals["maestro-block"]["created"] += s.spans_created - 1  # the block's own root span
            self.totals["maestro-block"]["written"] += s.spans_written - 1

        return {"maestro": block_maestro, "maestro-block": block_maestro_block}


def run_rounds(blocks: dict[str, Block], totals: dict[str, dict[str, int]], rounds: int, block: int,
               reset: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """Warm up every mode, reset the counts (``totals`` and the caller's ``reset``), then
    run ``rounds`` rotating rounds; returns each mode's seconds per invocation by round."""
    order = list(blocks)
    for fn in blocks.values():  # warm-up, not timed
        fn(WARMUP)
    if reset is not None:
        reset()
    for m in totals.values():
        m.update(created=0, written=0, runs=0)
    per_run: dict[str, list[float]] = {m: [] for m in blocks}
    for r in range(rounds):
        rot = order[r % len(order):] + order[: r % len(order)]
        for name in rot:
            t0 = time.perf_counter()
            blocks[name](block)
            per_run[name].append((time.perf_counter() - t0) / block)
            totals[name]["runs"] += block
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{m} {per_run[m][-1] * 1e3:.2f} ms" for m in order),
              file=sys.stderr)
    return per_run


def summarise(per_run: dict[str, list[float]], totals: dict[str, dict[str, int]],
              untraced: str = "none") -> list[dict[str, Any]]:
    """One row per mode (in ``per_run``'s order): median ms per invocation, ratio to the
    ``untraced`` mode, spans per invocation, µs per span over untraced, spans created,
    written and dropped."""
    base = statistics.median(per_run[untraced])
    rows = []
    for name in per_run:
        med = statistics.median(per_run[name])
        t = totals[name]
        spans = t["created"] / t["runs"] if t["runs"] and t["created"] else 0.0
        rows.append({
            "mode": name, "ms_per_run": med * 1e3, "x_untraced": med / base, "spans_per_run": spans,
            "us_per_span": ((med - base) / spans * 1e6) if spans else None,
            "spans_created": t["created"], "spans_written": t["written"],
            "spans_dropped": t["created"] - t["written"],
        })
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    """The rows as a fixed-width table on stdout."""
    print(f"\n{'mode':<15}{'ms/run':>9}{'x none':>8}{'spans/run':>11}{'us/span':>9}{'created':>9}{'written':>9}{'dropped':>9}")
    for r in rows:
        us = "-" if r["us_per_span"] is None else f"{r['us_per_span']:.1f}"
        print(f"{r['mode']:<15}{r['ms_per_run']:>9.2f}{r['x_untraced']:>8.2f}{r['spans_per_run']:>11.1f}{us:>9}"
              f"{r['spans_created']:>9}{r['spans_written']:>9}{r['spans_dropped']:>9}")


def write_json(path: Path | None, result: dict[str, Any]) -> None:
    """Write ``result`` to ``path`` (indented JSON; parent folders created); no-op for None."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
