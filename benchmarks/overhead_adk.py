"""Tracing overhead of the ADK adapter: untraced vs maestro vs ADK's own OpenTelemetry spans.

A small ADK agent tree (a coordinator that transfers to a writer; the writer calls one
tool, then answers: 3 model calls, 1 tool call, 1 hand-over per invocation) runs with a
zero-latency in-process ``BaseLlm`` that reports usage, so what is measured is ADK plus the
cost of tracing. Every invocation builds a fresh ``App`` + ``InMemoryRunner`` and runs one
message in its own event loop (``asyncio.run``), as a study run does. Modes run interleaved
in one process: each round runs one block of invocations per mode, the block order rotates
every round, and the table reports medians over rounds (method of ``benchmarks/overhead.py``).

Modes:
  none           App without plugins, InMemoryRunner, one message
  maestro        one maestro run per invocation: its own TracerProvider, root span, the
                 plugin's spans, the run's spans written to parquet (atomic write); ADK's
                 native spans suppressed
  maestro-block  one maestro run per block: same spans, one parquet file per block
  adk-native     no maestro; ADK's own spans into an SDK TracerProvider with the default
                 BatchSpanProcessor and an in-memory exporter (what a user gets from ADK
                 with a global provider), for comparison

Per-span overhead = (time per invocation - untraced time per invocation) / spans per
invocation of that mode. Spans written vs created: maestro counts both itself; ADK's are
counted with an on_start counter and the exporter's contents. Because that difference is
close to the timing noise of a shared machine, the script also times the plugin's
callbacks directly (our code only) and reports their time per span.

    python benchmarks/overhead_adk.py [--rounds 15] [--block 30] [--json benchmarks/out/overhead_adk.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("NO_GCE_CHECK", "True")

from google.adk.agents import LlmAgent  # noqa: E402
from google.adk.apps import App  # noqa: E402
from google.adk.models import BaseLlm, LlmCapabilities, LlmResponse  # noqa: E402
from google.adk.runners import InMemoryRunner  # noqa: E402
from google.genai import types  # noqa: E402
from opentelemetry.sdk.trace import SpanProcessor  # noqa: E402

from maestro.adapters.adk import instrument  # noqa: E402
from maestro.collector.export import RunIdentity  # noqa: E402
from maestro.collector.telemetry import RunTelemetry  # noqa: E402
from maestro.store.layout import StudyLayout  # noqa: E402

COORD, WRITER = "BENCH-COORDINATOR", "BENCH-WRITER"
MESSAGE = "Is acme.com free?"


class ScriptedLlm(BaseLlm):
    """Zero-latency model: the coordinator transfers to the writer; the writer calls
    ``check_domain`` once, then answers. Reports usage like a provider."""

    model: str = "scripted"

    @property
    def capabilities(self) -> LlmCapabilities:
        return LlmCapabilities(output_schema_and_tools=True)

    async def generate_content_async(self, llm_request, stream: bool = False):
        system = str(llm_request.config.system_instruction or "")
        answered = any(p.function_response is not None and p.function_response.name == "check_domain"
                       for c in llm_request.contents for p in (c.parts or []))
        if COORD in system:
            part = types.Part(function_call=types.FunctionCall(name="transfer_to_agent", args={"agent_name": "writer"}))
        elif not answered:
            part = types.Part(function_call=types.FunctionCall(name="check_domain", args={"domain": "acme.com"}))
        else:
            part = types.Part(text="acme.com is available.")
        usage = types.GenerateContentResponseUsageMetadata(prompt_token_count=120, candidates_token_count=4,
                                                           total_token_count=124)
        yield LlmResponse(content=types.Content(role="model", parts=[part]), usage_metadata=usage,
                          model_version="scripted", finish_reason=types.FinishReason.STOP)


def check_domain(domain: str) -> dict:
    """Check whether a domain name is still free."""
    return {"domain": domain, "available": True}


def make_tree() -> LlmAgent:
    model = ScriptedLlm()
    writer = LlmAgent(name="writer", model=model, instruction=WRITER, description="Writes.", tools=[check_domain])
    return LlmAgent(name="coord", model=model, instruction=COORD, description="Routes.", sub_agents=[writer])


async def _run_plain(tree) -> str:
    runner = InMemoryRunner(app=App(name="bench", root_agent=tree))
    session = await runner.session_service.create_session(app_name="bench", user_id="u")
    text = ""
    async for ev in runner.run_async(user_id="u", session_id=session.id,
                                     new_message=types.Content(role="user", parts=[types.Part(text=MESSAGE)])):
        if ev.is_final_response() and ev.content and ev.content.parts:
            text = ev.content.parts[0].text or ""
    return text


def _callback_time_per_span(tree, layout, identity, n: int) -> float:
    """Time spent inside the plugin's callbacks (our code only, ADK's dispatch excluded),
    per span: a direct measure that the machine's timing noise does not swamp."""
    from maestro.adapters.adk.plugin import MaestroAdkPlugin

    spent = [0.0]
    saved = {}
    for name in [k for k in vars(MaestroAdkPlugin) if k.endswith("_callback")]:
        orig = saved[name] = vars(MaestroAdkPlugin)[name]

        async def timed(self, *a, _orig=orig, **k):
            t0 = time.perf_counter()
            try:
                return await _orig(self, *a, **k)
            finally:
                spent[0] += time.perf_counter() - t0

        setattr(MaestroAdkPlugin, name, timed)
    try:
        t = RunTelemetry(identity("cb"), layout.spans_file("cb"), layout.resources_file("cb"), sample_resources=False)
        t.start()
        for _ in range(n):
            instrument(tree, t, provider="maestro.sim", app_name="bench").run(MESSAGE)
        s = t.finish()
    finally:
        for name, orig in saved.items():
            setattr(MaestroAdkPlugin, name, orig)
    return spent[0] / max(1, s.spans_created - 1) * 1e6


class _Counter(SpanProcessor):
    def __init__(self):
        self.started = 0

    def on_start(self, span, parent_context=None):
        self.started += 1


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--block", type=int, default=30, help="invocations per mode per round")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from google.adk.telemetry import tracing
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tree = make_tree()
    tmp = Path(tempfile.mkdtemp(prefix="maestro-bench-adk-"))
    layout = StudyLayout.for_study(tmp, "bench-adk").create()
    native_memory = InMemorySpanExporter()
    native_counter = _Counter()
    native_provider = TracerProvider()
    native_provider.add_span_processor(native_counter)
    native_provider.add_span_processor(BatchSpanProcessor(native_memory))
    native_tracer = native_provider.get_tracer("gcp.vertex.agent")

    totals = {m: {"created": 0, "written": 0, "runs": 0} for m in ("none", "maestro", "maestro-block", "adk-native")}
    run_no = [0]

    def identity(run_id):
        return RunIdentity(study_id="bench-adk", run_id=run_id, instance="bench", framework="adk",
                           backend="sim/strong", simulated=True)

    def block_none(n):
        for _ in range(n):
            assert asyncio.run(_run_plain(tree)) == "acme.com is available."

    def block_maestro(n):
        for _ in range(n):
            run_no[0] += 1
            rid = f"r{run_no[0]}"
            t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
            t.start()
            assert instrument(tree, t, provider="maestro.sim", app_name="bench").run(MESSAGE).text
            s = t.finish()
            totals["maestro"]["created"] += s.spans_created
            totals["maestro"]["written"] += s.spans_written

    def block_maestro_block(n):
        run_no[0] += 1
        rid = f"b{run_no[0]}"
        t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
        t.start()
        for _ in range(n):
            assert instrument(tree, t, provider="maestro.sim", app_name="bench").run(MESSAGE).text
        s = t.finish()
        totals["maestro-block"]["created"] += s.spans_created - 1  # the block's own root span
        totals["maestro-block"]["written"] += s.spans_written - 1

    def block_native(n):
        saved = tracing.tracer._real_tracer
        tracing.tracer._real_tracer = native_tracer  # as a process-global provider would
        try:
            for _ in range(n):
                asyncio.run(_run_plain(tree))
        finally:
            tracing.tracer._real_tracer = saved

    blocks = {"none": block_none, "maestro": block_maestro, "maestro-block": block_maestro_block,
              "adk-native": block_native}
    order = list(blocks)
    for fn in blocks.values():  # warm-up, not timed
        fn(3)
    native_provider.force_flush()
    native_counter.started = 0
    native_memory.clear()
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
    native_provider.force_flush()
    totals["adk-native"].update(created=native_counter.started, written=len(native_memory.get_finished_spans()))

    callback_us = _callback_time_per_span(tree, layout, identity, n=max(50, args.block * 3))
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
    print(f"\n{'mode':<15}{'ms/run':>9}{'x none':>8}{'spans/run':>11}{'us/span':>9}{'created':>9}{'written':>9}{'dropped':>9}")
    for r in rows:
        us = "-" if r["us_per_span"] is None else f"{r['us_per_span']:.1f}"
        print(f"{r['mode']:<15}{r['ms_per_run']:>9.2f}{r['x_untraced']:>8.2f}{r['spans_per_run']:>11.1f}{us:>9}"
              f"{r['spans_created']:>9}{r['spans_written']:>9}{r['spans_dropped']:>9}")
    print(f"\nmaestro plugin callbacks, timed directly: {callback_us:.1f} us of callback time per span")
    result = {"benchmark": "overhead_adk", "rounds": args.rounds, "block": args.block,
              "workload": "coordinator -> writer (3 model calls, 1 tool call, 1 transfer), zero-latency in-process BaseLlm",
              "rows": rows, "plugin_callback_us_per_span": callback_us}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
