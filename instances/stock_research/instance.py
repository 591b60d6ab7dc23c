"""``StockResearchInstance``: AutoGen's Swarm Stock Research behind maestro's ``Instance``
interface.

``build`` makes one ``OpenAIChatCompletionClient`` per run pointed at the run's endpoint
(the simulated service or a real provider: same code path) and a ``Swarm`` of the four
agents: the planner hands off to the financial analyst, the news analyst and the writer,
each of which hands back to the planner. With tools on the financial analyst holds
``get_stock_data`` and the news analyst ``get_news``; with tools off they hold no tool
(and their prompts name none). The team stops when a message mentions ``TERMINATE`` (the
planner's, as in AutoGen's example) or after ``max_messages`` chat messages.

``run`` runs the task on the (adapter-wrapped) team in its own event loop; the answer is
the writer's last report.

Options (``RunContext.options``): declared in :mod:`.options` and read through
``resolve_options``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import ChatAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import Swarm

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result
from maestro.instances.autogen_kit import make_model_client

from .options import OPTIONS
from .prompts import AGENT_NAMES, DESCRIPTIONS, FINANCIAL, HANDOFFS, NEWS, PLANNER, TERMINATE, WRITER, system_prompt
from .tasks import judge as judge_report
from .tasks import load_tasks
from .tools import get_news, get_stock_data

__all__ = ["STOCK_RESEARCH_INFO", "StockResearchInstance", "make_model_client", "build_team", "final_report"]

STOCK_RESEARCH_INFO = InstanceInfo(
    name="stock_research",
    title="Stock Research",
    app_field="Finance",
    framework="autogen",
    interaction="Coordination",
    n_agents=4,
    n_tools=2,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="AutoGen AgentChat Swarm example, Stock Research (planner, financial analyst, news analyst, writer)",
)
"""Stock Research's row of the paper's Table 2 (input: Artifacts, the data the analysts'
tools fetch, here from a bundled offline market)."""


TOOLS = {FINANCIAL: get_stock_data, NEWS: get_news}
"""The tool of each analyst (given only with tools on)."""



def build_team(model_client: Any, tools_enabled: bool = True, max_messages: int = 40) -> Swarm:
    """The four agents in a Swarm that starts with the planner and stops on ``TERMINATE``
    (or after ``max_messages`` chat messages)."""
    agents: list[ChatAgent] = [
        AssistantAgent(
            name,
            model_client=model_client,
            description=DESCRIPTIONS[name],
            system_message=system_prompt(name, tools_enabled),
            handoffs=list(HANDOFFS[name]),
            tools=[TOOLS[name]] if tools_enabled and name in TOOLS else None,
        )
        for name in AGENT_NAMES
    ]
    stop = TextMentionTermination(TERMINATE) | MaxMessageTermination(max(2, int(max_messages)))
    return Swarm(agents, termination_condition=stop)


def final_report(messages: Any) -> str | None:
    """The writer's last report among a run's ``messages``: its last non-empty text message,
    else the text it sent along with a handoff (a model may write the report and hand back
    in one reply); None when the writer wrote nothing."""
    texts: list[tuple[int, str]] = []
    for i, msg in enumerate(messages):
        if getattr(msg, "source", None) != WRITER:
            continue
        kind = type(msg).__name__
        content = getattr(msg, "content", None)
        if kind in ("TextMessage", "ThoughtEvent") and isinstance(content, str) and content.strip():
            texts.append((i, content))
    return texts[-1][1].strip() if texts else None


class StockResearchInstance:
    """Stock Research (AutoGen Swarm of four agents, two market-data tools)."""

    info: InstanceInfo = STOCK_RESEARCH_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled questions, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The team for one run; the analysts get their tools only when ``ctx.tools_enabled``."""
        opts = resolve_options(self.options, ctx.options)
        return build_team(make_model_client(ctx), tools_enabled=ctx.tools_enabled, max_messages=opts["max_messages"])

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the team on the question; the answer is the writer's last report."""
        # a team that fails raises one line (the AutoGen adapter keeps the traceback on a span event)
        result = asyncio.run(app.run(task=task.question))
        report = final_report(result.messages)
        terminated = any(
            getattr(m, "source", None) == PLANNER and isinstance(getattr(m, "content", None), str)
            and TERMINATE in m.content for m in result.messages)
        if not terminated:
            return TaskResult(answer=report, outcome="failure",
                              reason=f"stopped without the planner's {TERMINATE} ({result.stop_reason})")
        return answer_result(report, "the writer produced no report")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Last close, 5-day change sign and latest headline against the data set (see ``tasks.judge``)."""
        return judge_report(task, answer)

    def warm(self) -> None:
        """Load the bundled market once (importing this module, done by the forkserver, loads AutoGen)."""
        from .market import load_market

        load_market()
