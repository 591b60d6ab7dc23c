"""Tracing overhead of the AutoGen adapter on the Travel Planning team: untraced vs maestro.

The Travel Planning RoundRobinGroupChat (``maestro.instances.travel_planning.build_team``:
four AssistantAgents, summary agent says TERMINATE) runs with a zero-latency in-process
``ChatCompletionClient`` that reports usage, so what is measured is AutoGen plus the cost
of tracing. Every invocation builds a fresh team and runs one task in its own event loop
(``asyncio.run``), as a study run does. Modes run interleaved in one process: each round
runs one block of invocations per mode, the block order rotates every round, and the
table reports medians over rounds (same method as ``benchmarks/overhead.py``).

Modes:
  none           build the team, ``asyncio.run(team.run(task=...))``
  maestro        one maestro run per invocation: its own TracerProvider, root span,
                 adapter spans, and the run's spans written to parquet (atomic write)
  maestro-block  one maestro run per block: same adapter spans, one parquet file per block

Per-span overhead = (time per invocation - untraced time per invocation) / spans per
invocation of that mode; spans created vs written are maestro's own counts.

    python benchmarks/overhead_autogen.py [--rounds 10] [--block 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient, CreateResult, ModelInfo, RequestUsage

from maestro.adapters.autogen import instrument
from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.instances.travel_planning import build_team, load_tasks
from maestro.instances.travel_planning.prompts import SUMMARY_MARKER, TERMINATE
from maestro.store.layout import StudyLayout

_INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=False)


class ScriptedClient(ChatCompletionClient):
    """Zero-latency model: a short reply per role, the summary ends with TERMINATE.
    Reports usage like a provider."""

    _usage = RequestUsage(prompt_tokens=120, completion_tokens=20)

    def _reply(self, messages) -> str:
        system = str(getattr(messages[0], "content", "")) if messages else ""
        if SUMMARY_MARKER in system:
            return f"Final itinerary.\nDay 1: old town.\nDay 2: museum.\n{TERMINATE}"
        return "Day 1: a walk. Day 2: a museum. Try the market food."

    async def create(self, messages, **kwargs) -> CreateResult:
        return CreateResult(finish_reason="stop", content=self._reply(messages), usage=self._usage, cached=False)

    async def create_stream(self, messages, **kwargs):
        yield await self.create(messages, **kwargs)

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._usage

    def total_usage(self) -> RequestUsage:
        return self._usage

    def count_tokens(self, messages, **kwargs) -> int:
        return 0

    def remaining_tokens(self, messages, **kwargs) -> int:
        return 100_000

    @property
    def capabilities(self):  # deprecated in AutoGen, still abstract
        return _INFO

    @property
    def model_info(self) -> ModelInfo:
        return _INFO


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--block", type=int, default=20, help="team runs per mode per round")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    task = load_tasks()[0].question
    client = ScriptedClient()
    tmp = Path(tempfile.mkdtemp(prefix="maestro-bench-autogen-"))
    layout = StudyLayout.for_study(tmp, "bench").create()
    totals = {m: {"created": 0, "written": 0, "runs": 0} for m in ("none", "maestro", "maestro-block")}
    run_no = [0]

    def identity(run_id):
        return RunIdentity(study_id="bench", run_id=run_id, instance="travel_planning", framework="autogen",
                           backend="sim/strong", simulated=True)

    def once(telemetry=None):
        team = build_team(client)
        if telemetry is not None:
            team = instrument(team, telemetry, provider="maestro.sim")
        result = asyncio.run(team.run(task=task))
        assert result.messages[-1].source == "travel_summary_agent", result.stop_reason

    def block_none(n):
        for _ in range(n):
            once()

    def block_maestro(n):
        for _ in range(n):
            run_no[0] += 1
            rid = f"r{run_no[0]}"
            t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
            t.start()
            once(t)
            s = t.finish()
            totals["maestro"]["created"] += s.spans_created
            totals["maestro"]["written"] += s.spans_written

    def block_maestro_block(n):
        run_no[0] += 1
        rid = f"b{run_no[0]}"
        t = RunTelemetry(identity(rid), layout.spans_file(rid), layout.resources_file(rid), sample_resources=False)
        t.start()
        for _ in range(n):
            once(t)
        s = t.finish()
        totals["maestro-block"]["created"] += s.spans_created - 1  # the block's own root span
        totals["maestro-block"]["written"] += s.spans_written - 1

    blocks = {"none": block_none, "maestro": block_maestro, "maestro-block": block_maestro_block}
    order = list(blocks)
    for fn in blocks.values():  # warm-up, not timed
        fn(3)
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
    result = {"benchmark": "overhead_autogen", "rounds": args.rounds, "block": args.block, "rows": rows}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
