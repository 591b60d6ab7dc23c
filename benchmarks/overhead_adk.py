"""Tracing overhead of the ADK adapter: untraced vs maestro vs ADK's own OpenTelemetry spans.

A small ADK agent tree (a coordinator that transfers to a writer; the writer calls one
tool, then answers: 3 model calls, 1 tool call, 1 hand-over per invocation) runs with a
zero-latency in-process ``BaseLlm`` that reports usage, so what is measured is ADK plus the
cost of tracing. Every invocation builds a fresh ``App`` + ``InMemoryRunner`` and runs one
message in its own event loop (``asyncio.run``), as a study run does. Modes run interleaved
in one process: each round runs one block of invocations per mode, the block order rotates
every round, and the table reports medians over rounds (the shared harness ``benchmarks/_harness.py``).

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

import asyncio
import os
import time
from typing import Any

os.environ.setdefault("NO_GCE_CHECK", "true")

from google.adk.agents import LlmAgent  # noqa: E402 - after the NO_GCE_CHECK default
from google.adk.apps import App  # noqa: E402 - after the NO_GCE_CHECK default
from google.adk.models import BaseLlm, LlmCapabilities, LlmResponse  # noqa: E402 - after the NO_GCE_CHECK default
from google.adk.runners import InMemoryRunner  # noqa: E402 - after the NO_GCE_CHECK default
from google.genai import types  # noqa: E402 - after the NO_GCE_CHECK default

from maestro.adapters.adk import instrument  # noqa: E402 - after the NO_GCE_CHECK default

from _harness import (  # noqa: E402 - after the NO_GCE_CHECK default
    ComparisonProvider,
    MaestroModes,
    new_totals,
    parse_args,
    print_table,
    run_rounds,
    summarise,
    write_json,
)

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


def _callback_time_per_span(tree, maestro: MaestroModes, n: int) -> float:
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
        t = maestro.telemetry("cb")
        for _ in range(n):
            instrument(tree, t, provider="maestro.sim", app_name="bench").run(MESSAGE)
        s = t.finish()
    finally:
        for name, orig in saved.items():
            setattr(MaestroAdkPlugin, name, orig)
    return spent[0] / max(1, s.spans_created - 1) * 1e6


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__, argv, rounds=15, block=30, block_help="invocations per mode per round")

    from google.adk.telemetry import tracing

    tree = make_tree()
    maestro = MaestroModes("bench-adk", "bench", "adk", "maestro-bench-adk-")
    native_spans = ComparisonProvider()
    native_tracer = native_spans.provider.get_tracer("gcp.vertex.agent")

    def block_none(n):
        for _ in range(n):
            assert asyncio.run(_run_plain(tree)) == "acme.com is available."

    def run_traced(t):
        assert instrument(tree, t, provider="maestro.sim", app_name="bench").run(MESSAGE).text

    def block_native(n):
        saved = tracing.tracer._real_tracer
        tracing.tracer._real_tracer = native_tracer  # as a process-global provider would
        try:
            for _ in range(n):
                asyncio.run(_run_plain(tree))
        finally:
            tracing.tracer._real_tracer = saved

    blocks = {"none": block_none, **maestro.blocks(run_traced), "adk-native": block_native}
    totals = {**new_totals(["none"]), **maestro.totals, **new_totals(["adk-native"])}
    per_run = run_rounds(blocks, totals, args.rounds, args.block, reset=native_spans.reset)
    totals["adk-native"].update(native_spans.counts())

    callback_us = _callback_time_per_span(tree, maestro, n=max(50, args.block * 3))
    rows = summarise(per_run, totals)
    print_table(rows)
    print(f"\nmaestro plugin callbacks, timed directly: {callback_us:.1f} us of callback time per span")
    result = {"benchmark": "overhead_adk", "rounds": args.rounds, "block": args.block,
              "workload": "coordinator -> writer (3 model calls, 1 tool call, 1 transfer), zero-latency in-process BaseLlm",
              "rows": rows, "plugin_callback_us_per_span": callback_us}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
