"""``PlanExecuteInstance``: Plan-and-Execute behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run against the run's endpoint (the
simulated service or a real provider: same code path) and compiles the graph with the
run's tools; ``run`` invokes it synchronously and returns the replanner's answer.

Options (``RunContext.options``): declared in :mod:`.options` (names, types, defaults,
docs) and read through ``resolve_options``. ``max_replans`` is unset by default, as in the
paper: the run's time cap ends a replanner loop as a timeout; ``recursion_limit`` (100000)
is so high that a loop runs into that cap instead of failing early with
GraphRecursionError (if it is reached anyway the run is a failure naming the limit).
"""

from __future__ import annotations

from typing import Any

from maestro.contract import InstanceInfo, InstanceOption, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result, invoke_graph, make_chat_openai
from maestro.instances.qa_world.instance_kit import QAWorldTasks
from maestro.instances.qa_world.tools import qa_tools

from .graph import build_graph
from .options import DEFAULT_RECURSION_LIMIT, OPTIONS

__all__ = ["PLAN_EXECUTE_INFO", "PlanExecuteInstance", "DEFAULT_RECURSION_LIMIT"]

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


class PlanExecuteInstance(QAWorldTasks):
    """Plan-and-Execute on the qa_world task set."""

    info: InstanceInfo = PLAN_EXECUTE_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (web search only when ``ctx.tools_enabled``)."""
        opts = resolve_options(self.options, ctx.options)
        return build_graph(
            make_chat_openai(ctx),
            qa_tools(ctx.tools_enabled, k=opts["k"], web_k=opts["web_k"]),
            max_tool_rounds=opts["max_tool_rounds"],
            max_replans=opts["max_replans"],
            strict_replanner=opts["strict_replanner"],
        )

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Answer one task. Model/HTTP errors propagate (the runner records them)."""
        limit = resolve_options(self.options, ctx.options)["recursion_limit"]
        state, failed = invoke_graph(app, {"question": task.question}, limit)
        if failed:
            return failed
        return answer_result((state.get("response") or "").strip(), "empty answer from replanner")

