"""``PlanExecuteInstance``: Plan-and-Execute behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run against the run's endpoint (the
simulated service or a real provider: same code path) and compiles the graph with the
run's tools; ``run`` invokes it synchronously and returns the replanner's answer.

Options (``RunContext.options``): ``k`` (local passages per search, 4), ``web_k`` (web
results, 3), ``max_tool_rounds`` (tool rounds per executed step, 3), ``max_replans``
(plan revisions before the last result is taken as the answer; default none, as in the
paper: the run's time cap ends a replanner loop as a timeout), ``strict_replanner``
(false; true tells the replanner to demand verification before answering, which makes a
simulated replanner loop until the cap), ``recursion_limit`` (100000: LangGraph's step
limit, set so high that a loop runs into the run's time cap instead of failing early with
GraphRecursionError; if it is reached anyway the run is a failure naming the limit),
``temperature`` (0.0), ``max_retries`` (3), ``request_timeout_s`` (120, capped by the
run's timeout).
"""

from __future__ import annotations

from typing import Any

from maestro.instances._common import answer_result, invoke_graph
from maestro.instances.base import InstanceInfo, JudgeResult, RunContext, Task, TaskResult
from maestro.instances.crag.instance import make_chat_model
from maestro.instances.qa_world import load_tasks, scoring
from maestro.instances.qa_world.tools import qa_tools

from . import sim_policies
from .graph import build_graph

__all__ = ["PLAN_EXECUTE_INFO", "PlanExecuteInstance", "DEFAULT_RECURSION_LIMIT"]

DEFAULT_RECURSION_LIMIT = 100_000
"""LangGraph supersteps allowed per run: far more than the run's time cap lets a loop take."""

PLAN_EXECUTE_INFO = InstanceInfo(
    name="plan_execute",
    title="Plan-and-Execute",
    app_field="Cross-domain",
    framework="langgraph",
    interaction="Planning",
    n_agents=3,
    n_tools=2,
    data_in="Datasets",
    data_out="Open-End",
    suites="F,A",
    source="Wang et al., Plan-and-Solve Prompting, 2023 (arXiv:2305.04091); LangGraph plan-and-execute design",
)
"""Plan-and-Execute's row of the paper's Table 2."""


class PlanExecuteInstance:
    """Plan-and-Execute on the qa_world task set."""

    info: InstanceInfo = PLAN_EXECUTE_INFO

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled qa_world questions, or a user JSONL file; stratified by hops when ``n``."""
        return load_tasks(source=source, n=n, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (web search only when ``ctx.tools_enabled``)."""
        opts = ctx.options
        max_replans = opts.get("max_replans")
        return build_graph(
            make_chat_model(ctx),
            qa_tools(ctx.tools_enabled, k=int(opts.get("k", 4)), web_k=int(opts.get("web_k", 3))),
            max_tool_rounds=int(opts.get("max_tool_rounds", 3)),
            max_replans=None if max_replans is None else int(max_replans),
            strict_replanner=bool(opts.get("strict_replanner", False)),
        )

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Answer one task. Model/HTTP errors propagate (the runner records them)."""
        limit = int(ctx.options.get("recursion_limit", DEFAULT_RECURSION_LIMIT))
        state, failed = invoke_graph(app, {"question": task.question}, limit)
        if failed:
            return failed
        return answer_result((state.get("response") or "").strip(), "empty answer from replanner")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """qa_world's judge: exact match, or the gold as a span of a short answer."""
        return scoring.judge(task, answer)

    def register_sim_policies(self) -> None:
        """Register the planner, executor and replanner policies with ``maestro.sim.policy``."""
        sim_policies.register_sim_policies()
