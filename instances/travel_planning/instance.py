"""``TravelPlanningInstance``: AutoGen Travel Planning behind maestro's ``Instance`` interface.

``build`` makes one ``OpenAIChatCompletionClient`` per run pointed at the run's endpoint
(the simulated service or a real provider: same code path) and a ``RoundRobinGroupChat``
of the four agents; ``run`` runs the task on the (adapter-wrapped) team in its own event
loop and returns the summary agent's last message without ``TERMINATE``.

Options (``RunContext.options``): declared in :mod:`.options` (names, types, defaults,
docs) and read through ``resolve_options``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import ChatAgent, Team
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import RoundRobinGroupChat

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result
from maestro.instances.autogen_kit import make_model_client

from .options import OPTIONS
from .prompts import AGENT_NAMES, DESCRIPTIONS, SYSTEM_PROMPTS, TERMINATE, strip_terminate
from .tasks import judge as judge_itinerary
from .tasks import load_tasks

__all__ = ["TRAVEL_PLANNING_INFO", "TravelPlanningInstance", "make_model_client", "build_team"]

TRAVEL_PLANNING_INFO = InstanceInfo(
    name="travel_planning",
    title="Travel Planning",
    app_field="Travel",
    framework="autogen",
    interaction="Coordination",
    n_agents=4,
    n_tools=0,
    data_in="Artifacts",
    data_out="Open-End",
    suites="F",
    source="AutoGen AgentChat examples, Travel Planning (RoundRobinGroupChat of four agents)",
)
"""Travel Planning's row of the paper's Table 2."""




def build_team(model_client: Any, max_rounds: int = 2) -> RoundRobinGroupChat:
    """The four agents in a round robin that stops when the summary agent says TERMINATE
    (or after ``max_rounds`` full rounds)."""
    agents: list[ChatAgent | Team] = [
        AssistantAgent(name, model_client=model_client, description=DESCRIPTIONS[name],
                       system_message=SYSTEM_PROMPTS[name])
        for name in AGENT_NAMES
    ]
    stop = TextMentionTermination(TERMINATE, sources=["travel_summary_agent"]) | MaxMessageTermination(
        1 + len(agents) * max(1, int(max_rounds)))
    return RoundRobinGroupChat(agents, termination_condition=stop)


class TravelPlanningInstance:
    """Travel Planning (AutoGen RoundRobinGroupChat of four agents, no tools)."""

    info: InstanceInfo = TRAVEL_PLANNING_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled travel requests, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The team for one run (``tools_enabled`` is irrelevant: the team has no tools)."""
        return build_team(make_model_client(ctx), max_rounds=resolve_options(self.options, ctx.options)["max_rounds"])

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the team on the request; the answer is the summary agent's last message."""
        # a team that fails raises one line (the AutoGen adapter keeps the traceback on a span event)
        result = asyncio.run(app.run(task=task.question))
        final = None
        for msg in reversed(result.messages):
            if getattr(msg, "source", None) == "travel_summary_agent":
                final = msg
                break
        text = getattr(final, "content", None)
        if not isinstance(text, str):
            return TaskResult(answer=None, outcome="failure", reason="the summary agent produced no itinerary")
        answer = strip_terminate(text)
        if TERMINATE not in text:
            return TaskResult(answer=answer, outcome="failure",
                              reason=f"stopped without TERMINATE ({result.stop_reason})")
        return answer_result(answer, "empty itinerary")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Destination named and days 1..N covered (see ``tasks.judge``)."""
        return judge_itinerary(task, answer)


    def warm(self) -> None:
        """Nothing to precompute; importing this module (done by the forkserver) loads AutoGen."""
