"""Tracing overhead on the LangGraph CRAG graph: no tracing vs maestro vs OpenInference.

The same compiled CRAG graph runs with a zero-latency in-process chat model, so what is
measured is the cost of tracing itself. Modes run interleaved in one process: each round
runs one block of graph invocations per mode, the block order rotates every round, and
the table reports medians over rounds.

Modes:
  none           plain graph.invoke
  maestro        one maestro run per invocation: its own TracerProvider, root span,
                 adapter spans, and the run's spans written to its own parquet file
                 (atomic write) before the next invocation starts
  maestro-block  one maestro run per block: same spans, one parquet file per block
  openinference  OpenInference's LangChainInstrumentor with the SDK's default
                 BatchSpanProcessor and an in-memory exporter (its documented set-up)

Per-span overhead = (time per invocation - untraced time per invocation) / spans per
invocation of that mode. Spans written vs created: maestro counts both itself;
OpenInference's are counted with an on_start counter and the exporter's contents.

    python benchmarks/overhead.py [--rounds 12] [--block 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from opentelemetry.sdk.trace import SpanProcessor

from maestro.adapters.langgraph import instrument
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.instances.crag import build_graph, make_retriever_tool, make_web_search_tool
from maestro.instances.crag.prompts import GENERATOR_MARKER, GRADER_MARKER
from maestro.instances.qa_world import load_tasks
from maestro.store.layout import StudyLayout


class ScriptedChat(BaseChatModel):
    """Zero-latency chat model: the grader accepts only the first document of each batch
    (so CRAG takes its corrective path: rewrite, web search, generate), the rewriter
    returns a query, the generator an answer. Reports usage like a provider."""

    graded: int = 0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        system = str(messages[0].content)
        if system.startswith(GRADER_MARKER):
            self.graded += 1
            text = "yes" if self.graded % 4 == 1 else "no"  # 4 documents per retrieval
        elif system.startswith(GENERATOR_MARKER):
            text = "Answer: Tremark"
        else:
            text = "Where was the founder born?"
        msg = AIMessage(content=text, usage_metadata={"input_tokens": 120, "output_tokens": 4, "total_tokens": 124},
                        response_metadata={"model_name": "scripted", "finish_reason": "stop"})
        return ChatResult(generations=[ChatGeneration(message=msg)])

    @property
    def _llm_type(self) -> str:
        return "scripted"


def make_graph():
    return build_graph(ScriptedChat(), tools_enabled=True, retriever_tool=make_retriever_tool(),
                       web_search_tool=make_web_search_tool())


class _Counter(SpanProcessor):
    """Counts spans the SDK started (for OpenInference's spans created)."""

    def __init__(self):
        self.started = 0

    def on_start(self, span, parent_context=None):
        self.started += 1


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--block", type=int, default=40, help="graph invocations per mode per round")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from openinference.instrumentation.langchain import LangChainInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    graph = make_graph()
    question = {"question": load_tasks(n=1)[0].question}
    tmp = Path(tempfile.mkdtemp(prefix="maestro-bench-"))
    layout = StudyLayout.for_study(tmp, "bench").create()

    oi_memory = InMemorySpanExporter()
    oi_counter = _Counter()
    oi_provider = TracerProvider()
    oi_provider.add_span_processor(oi_counter)
    oi_provider.add_span_processor(BatchSpanProcessor(oi_memory))
    oi = LangChainInstrumentor()

    totals = {m: {"created": 0, "written": 0, "runs": 0} for m in ("none", "maestro", "maestro-block", "openinference")}
    run_no = [0]

    def identity(run_id):
        return RunIdentity(study_id="bench", run_id=run_id, instance="crag", framework="langgraph",
                           backend="sim/strong", simulated=True)

    def block_none(n):
        for _ in range(n):
            graph.invoke(question)

    def block_maestro(n):
        for _ in range(n):
            run_no[0] += 1
            rid = f"r{run_no[0]}"
            t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
            t.start()
            instrument(graph, t, provider="maestro.sim").invoke(question)
            s = t.finish()
            totals["maestro"]["created"] += s.spans_created
            totals["maestro"]["written"] += s.spans_written

    def block_maestro_block(n):
        run_no[0] += 1
        rid = f"b{run_no[0]}"
        t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
        t.start()
        g = instrument(graph, t, provider="maestro.sim")
        for _ in range(n):
            g.invoke(question)
        s = t.finish()
        totals["maestro-block"]["created"] += s.spans_created - 1  # the block's own root span
        totals["maestro-block"]["written"] += s.spans_written - 1

    def block_openinference(n):
        oi.instrument(tracer_provider=oi_provider)
        try:
            for _ in range(n):
                graph.invoke(question)
        finally:
            oi.uninstrument()

    blocks = {"none": block_none, "maestro": block_maestro, "maestro-block": block_maestro_block,
              "openinference": block_openinference}
    order = list(blocks)
    for name, fn in blocks.items():  # warm-up, not timed
        fn(3)
    oi_provider.force_flush()
    oi_counter.started = 0
    oi_memory.clear()
    for m in totals.values():
        m.update(created=0, written=0, runs=0)

    per_run: dict[str, list[float]] = {m: [] for m in blocks}
    for r in range(args.rounds):
        rot = order[r % len(order):] + order[: r % len(order)]
        for name in rot:
            t0 = time.perf_counter()
            blocks[name](args.block)
            per_run[name].append((time.perf_counter() - t0) / args.block)
            totals[name]["runs"] += args.block
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{m} {per_run[m][-1] * 1e3:.2f} ms" for m in order),
              file=sys.stderr)
    oi_provider.force_flush()
    totals["openinference"].update(created=oi_counter.started, written=len(oi_memory.get_finished_spans()))

    base = statistics.median(per_run["none"])
    rows = []
    for name in order:
        med = statistics.median(per_run[name])
        t = totals[name]
        spans = t["created"] / t["runs"] if t["runs"] and t["created"] else 0.0
        rows.append({
            "mode": name, "ms_per_run": med * 1e3, "x_untraced": med / base, "spans_per_run": spans,
            "us_per_span": ((med - base) / spans * 1e6) if spans else None,
            "spans_created": t["created"], "spans_written": t["written"],
            "spans_dropped": t["created"] - t["written"],
        })
    oi_row = next(r for r in rows if r["mode"] == "openinference")
    print(f"\n{'mode':<15}{'ms/run':>9}{'x none':>8}{'spans/run':>11}{'us/span':>9}{'created':>9}{'written':>9}{'dropped':>9}")
    for r in rows:
        us = "-" if r["us_per_span"] is None else f"{r['us_per_span']:.1f}"
        print(f"{r['mode']:<15}{r['ms_per_run']:>9.2f}{r['x_untraced']:>8.2f}{r['spans_per_run']:>11.1f}{us:>9}"
              f"{r['spans_created']:>9}{r['spans_written']:>9}{r['spans_dropped']:>9}")
    for r in rows:
        if r["mode"].startswith("maestro") and r["us_per_span"] and oi_row["us_per_span"]:
            print(f"{r['mode']}: {r['us_per_span'] / oi_row['us_per_span']:.2f} of OpenInference's per-span overhead")
    result = {"rounds": args.rounds, "block": args.block, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
