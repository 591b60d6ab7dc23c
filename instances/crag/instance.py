"""``CragInstance``: CRAG behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run, pointed at the run's endpoint (the
simulated service or a real provider: same code path), and compiles the graph; ``run``
invokes it synchronously (ChatOpenAI caches its async client per event loop, so sync
calls avoid cross-loop reuse) and pulls the final answer out of the generator's reply.

Options (``RunContext.options``): declared in :mod:`.options` (names, types, defaults,
docs) and read through ``resolve_options``.
"""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI

from maestro.contract import InstanceInfo, InstanceOption, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result, invoke_graph, make_chat_openai
from maestro.instances.qa_world.instance_kit import QAWorldTasks

from .graph import build_graph
from .options import OPTIONS
from .prompts import extract_answer
from .tools import make_retriever_tool, make_web_search_tool

__all__ = ["CRAG_INFO", "CragInstance", "make_chat_model"]

CRAG_INFO = InstanceInfo(
    name="crag",
    title="Corrective RAG",
    app_field="Cross-domain",
    framework="langgraph",
    interaction="Coordination",
    n_agents=5,
    n_tools=2,
    data_in="Datasets",
    data_out="Open-End",
    suites="F,A",
    source="Yan et al., Corrective Retrieval Augmented Generation, 2024 (arXiv:2401.15884)",
)
"""CRAG's row of the paper's Table 2."""


def make_chat_model(ctx: RunContext) -> ChatOpenAI:
    """The run's chat model: ChatOpenAI against ``ctx.endpoint`` (options ``temperature``,
    ``max_retries``, ``request_timeout_s``; see ``_common.client_settings``)."""
    return make_chat_openai(ctx)


class CragInstance(QAWorldTasks):
    """CRAG (Corrective RAG) on the qa_world task set."""

    info: InstanceInfo = CRAG_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (tools follow ``ctx.tools_enabled``)."""
        opts = resolve_options(self.options, ctx.options)
        return build_graph(
            make_chat_model(ctx),
            tools_enabled=ctx.tools_enabled,
            retriever_tool=make_retriever_tool(k=opts["k"]),
            web_search_tool=make_web_search_tool(k=opts["web_k"]) if ctx.tools_enabled else None,
            max_rewrites=opts["max_rewrites"],
            min_relevant=opts["min_relevant"],
        )

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Answer one task. Model/HTTP errors propagate (the runner records them)."""
        limit = resolve_options(self.options, ctx.options)["recursion_limit"]
        state, failed = invoke_graph(app, {"question": task.question}, limit)
        if failed:
            return failed
        return answer_result(extract_answer(state.get("generation") or ""), "empty answer from generate")

