"""``LatsInstance``: Language Agent Tree Search behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run against the run's endpoint and compiles
the graph with the run's tools; ``run`` invokes it and returns the search's answer.

Options (``RunContext.options``): ``width`` (candidates per expanded node, 2),
``max_depth`` (deepest node, 4: enough for three searches and an answer),
``max_iterations`` (node expansions, 6), ``exploration`` (UCT constant, 0.2: with few iterations a larger one spends the budget on siblings instead of going deep), ``k`` (local
passages per search, 4), ``web_k`` (web results, 3), ``recursion_limit`` (LangGraph steps;
default ``4 * width * max_iterations + 10``, more than a full search takes), and the chat
model's ``temperature``, ``max_retries``, ``request_timeout_s``.
"""

from __future__ import annotations

from typing import Any

from maestro.instances._common import answer_result, invoke_graph
from maestro.instances.base import InstanceInfo, JudgeResult, RunContext, Task, TaskResult
from maestro.instances.crag.instance import make_chat_model
from maestro.instances.qa_world import load_tasks, scoring
from maestro.instances.qa_world.tools import qa_tools

from . import sim_policies
from .graph import build_graph, final_answer

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
    return {"width": int(opts.get("width", 2)), "max_depth": int(opts.get("max_depth", 4)),
            "max_iterations": int(opts.get("max_iterations", 6)), "exploration": float(opts.get("exploration", 0.2))}


class LatsInstance:
    """LATS on the qa_world task set."""

    info: InstanceInfo = LATS_INFO

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled qa_world questions, or a user JSONL file; stratified by hops when ``n``."""
        return load_tasks(source=source, n=n, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (web search only when ``ctx.tools_enabled``)."""
        opts = ctx.options
        return build_graph(make_chat_model(ctx),
                           qa_tools(ctx.tools_enabled, k=int(opts.get("k", 4)), web_k=int(opts.get("web_k", 3))),
                           **_budget(opts))

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Answer one task. Model/HTTP errors propagate (the runner records them)."""
        b = _budget(ctx.options)
        limit = int(ctx.options.get("recursion_limit", 4 * b["width"] * b["max_iterations"] + 10))
        state, failed = invoke_graph(app, {"question": task.question}, limit)
        if failed:
            return failed
        answer, node_id = final_answer(state)
        if answer is None:
            return TaskResult(answer="", outcome="failure", reason="the search found no answer within its budget")
        return answer_result(answer.strip(), f"empty answer at node {node_id}")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """qa_world's judge: exact match, or the gold as a span of a short answer."""
        return scoring.judge(task, answer)

    def register_sim_policies(self) -> None:
        """Register the expansion and reflection policies with ``maestro.sim.policy``."""
        sim_policies.register_sim_policies()
