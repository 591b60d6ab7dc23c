"""``LatsInstance``: Language Agent Tree Search behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run against the run's endpoint and compiles
the graph with the run's tools; ``run`` invokes it and returns the search's answer.

Options (``RunContext.options``): declared in :mod:`.options` (names, types, defaults,
docs) and read through ``resolve_options``.
"""

from __future__ import annotations

from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result, invoke_graph, make_chat_openai
from maestro.instances.qa_world.instance_kit import QAWorldTasks
from maestro.instances.qa_world.tools import qa_tools

from .graph import build_graph, final_answer
from .options import OPTIONS

__all__ = ["LATS_INFO", "LatsInstance"]

LATS_INFO = InstanceInfo(
    name="lats",
    title="Language Agent Tree Search",
    app_field="Cross-domain",
    framework="langgraph",
    interaction="Planning",
    n_agents=3,
    n_tools=2,
    data_in="Datasets",
    data_out="Open-End",
    suites="F,A",
    source="Zhou et al., Language Agent Tree Search Unifies Reasoning, Acting, and Planning, 2023 (arXiv:2310.04406)",
)
"""LATS's row of the paper's Table 2."""


def _budget(opts: dict[str, Any]) -> dict[str, Any]:
    """The search budget out of resolved options."""
    return {k: opts[k] for k in ("width", "max_depth", "max_iterations", "exploration")}


class LatsInstance(QAWorldTasks):
    """LATS on the qa_world task set."""

    info: InstanceInfo = LATS_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (web search only when ``ctx.tools_enabled``)."""
        opts = resolve_options(self.options, ctx.options)
        return build_graph(make_chat_openai(ctx),
                           qa_tools(ctx.tools_enabled, k=opts["k"], web_k=opts["web_k"]),
                           **_budget(opts))

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Answer one task. Model/HTTP errors propagate (the runner records them)."""
        opts = resolve_options(self.options, ctx.options)
        limit = opts["recursion_limit"]
        if limit is None:
            limit = 4 * opts["width"] * opts["max_iterations"] + 10
        state, failed = invoke_graph(app, {"question": task.question}, limit)
        if failed:
            return failed
        answer, node_id = final_answer(state)
        if answer is None:
            return TaskResult(answer="", outcome="failure", reason="the search found no answer within its budget")
        return answer_result(answer.strip(), f"empty answer at node {node_id}")

