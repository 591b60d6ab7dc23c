"""Tracing overhead of the AutoGen adapter on the Travel Planning team: untraced vs maestro.

The Travel Planning RoundRobinGroupChat (``maestro.instances.travel_planning.build_team``:
four AssistantAgents, summary agent says TERMINATE) runs with a zero-latency in-process
``ChatCompletionClient`` that reports usage, so what is measured is AutoGen plus the cost
of tracing. Every invocation builds a fresh team and runs one task in its own event loop
(``asyncio.run``), as a study run does. Modes run interleaved in one process: each round
runs one block of invocations per mode, the block order rotates every round, and the
table reports medians over rounds (the shared harness ``benchmarks/_harness.py``).

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

import asyncio
from typing import Any

from autogen_core.models import ChatCompletionClient, CreateResult, ModelInfo, RequestUsage

from maestro.adapters.autogen import instrument
from maestro.instances.travel_planning import build_team, load_tasks
from maestro.instances.travel_planning.prompts import SUMMARY_MARKER, TERMINATE

from _harness import MaestroModes, new_totals, parse_args, print_table, run_rounds, summarise, write_json

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
    args = parse_args(__doc__, argv, rounds=10, block=20, block_help="team runs per mode per round")

    task = load_tasks()[0].question
    client = ScriptedClient()
    maestro = MaestroModes("bench", "travel_planning", "autogen", "maestro-bench-autogen-")

    def once(telemetry=None):
        team = build_team(client)
        if telemetry is not None:
            team = instrument(team, telemetry, provider="maestro.sim")
        result = asyncio.run(team.run(task=task))
        assert result.messages[-1].source == "travel_summary_agent", result.stop_reason

    def block_none(n):
        for _ in range(n):
            once()

    blocks = {"none": block_none, **maestro.blocks(once)}
    totals = {**new_totals(["none"]), **maestro.totals}
    per_run = run_rounds(blocks, totals, args.rounds, args.block)
    rows = summarise(per_run, totals)
    print_table(rows)
    result = {"benchmark": "overhead_autogen", "rounds": args.rounds, "block": args.block, "rows": rows}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
