"""Tracing overhead on the LangGraph CRAG graph: no tracing vs maestro vs OpenInference.

The same compiled CRAG graph runs with a zero-latency in-process chat model, so what is
measured is the cost of tracing itself. Modes run interleaved in one process: each round
runs one block of graph invocations per mode, the block order rotates every round, and
the table reports medians over rounds (the shared harness ``benchmarks/_harness.py``).

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

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from maestro.adapters.langgraph import instrument
from maestro.instances.crag import build_graph, make_retriever_tool, make_web_search_tool
from maestro.instances.crag.prompts import GENERATOR_MARKER, GRADER_MARKER
from maestro.instances.qa_world import load_tasks

from _harness import (
    ComparisonProvider,
    MaestroModes,
    new_totals,
    parse_args,
    print_table,
    run_rounds,
    summarise,
    write_json,
)


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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(__doc__, argv, rounds=12, block=40, block_help="graph invocations per mode per round")

    from openinference.instrumentation.langchain import LangChainInstrumentor

    graph = make_graph()
    question = {"question": load_tasks(n=1)[0].question}
    maestro = MaestroModes("bench", "crag", "langgraph", "maestro-bench-")

    oi_spans = ComparisonProvider()
    oi = LangChainInstrumentor()

    def block_none(n):
        for _ in range(n):
            graph.invoke(question)

    def invoke_traced(t, n=1):
        g = instrument(graph, t, provider="maestro.sim")  # once per run: once per block in maestro-block
        for _ in range(n):
            g.invoke(question)

    def block_openinference(n):
        oi.instrument(tracer_provider=oi_spans.provider)
        try:
            for _ in range(n):
                graph.invoke(question)
        finally:
            oi.uninstrument()

    blocks = {"none": block_none, **maestro.blocks(invoke_traced, invoke_traced), "openinference": block_openinference}
    totals = {**new_totals(["none"]), **maestro.totals, **new_totals(["openinference"])}
    per_run = run_rounds(blocks, totals, args.rounds, args.block, reset=oi_spans.reset)
    totals["openinference"].update(oi_spans.counts())

    rows = summarise(per_run, totals)
    print_table(rows)
    oi_row = next(r for r in rows if r["mode"] == "openinference")
    for r in rows:
        if r["mode"].startswith("maestro") and r["us_per_span"] and oi_row["us_per_span"]:
            print(f"{r['mode']}: {r['us_per_span'] / oi_row['us_per_span']:.2f} of OpenInference's per-span overhead")
    result = {"rounds": args.rounds, "block": args.block, "rows": rows}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
