"""``MagenticOneInstance``: AutoGen's ``MagenticOneGroupChat`` behind maestro's ``Instance``
interface.

``build`` makes one ``OpenAIChatCompletionClient`` per run pointed at the run's endpoint
(the simulated service or a real provider: same code path), shared by the orchestrator
and the two assistants, and the team: the orchestrator (the team's manager, with task and
progress ledgers), ``coder`` (an ``AssistantAgent`` writing ```python blocks),
``computer_terminal`` (a ``CodeExecutorAgent`` running the coder's blocks through
:class:`.executor.GuardedCodeExecutor`: a temporary directory per run, ``code_timeout_s``
per block, network code refused) and ``file_surfer`` (an ``AssistantAgent`` with the tools
``list_files`` / ``read_file`` over the bundled document folder). With tools off the file
surfer has no tools and the terminal refuses every block.

``run`` runs the task on the (adapter-wrapped) team in its own event loop, removes the
terminal's temporary directory, closes the model client, and returns the orchestrator's
final answer.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from autogen_agentchat.agents import AssistantAgent, CodeExecutorAgent
from autogen_agentchat.teams import MagenticOneGroupChat

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result
from maestro.instances.autogen_kit import make_model_client

from .documents import list_files, read_file
from .executor import GuardedCodeExecutor, make_terminal_executor
from .options import OPTIONS
from .prompts import CODER, DESCRIPTIONS, FILE_SURFER, ORCHESTRATOR, SYSTEM_PROMPTS, TERMINAL
from .tasks import judge as judge_answer
from .tasks import load_tasks

__all__ = ["MAGENTIC_ONE_INFO", "MagenticOneInstance", "make_model_client", "build_team", "EXECUTOR_ATTRIBUTE",
           "CLIENT_ATTRIBUTE"]

MAGENTIC_ONE_INFO = InstanceInfo(
    name="magentic_one",
    title="Magentic-One",
    app_field="Cross-domain",
    framework="autogen",
    interaction="Planning",
    n_agents=4,
    n_tools=2,
    data_in="Artifacts",
    data_out="Closed-Form",
    suites="F",
    source="Fourney et al. 2024, Magentic-One (AutoGen agentchat MagenticOneGroupChat: orchestrator, coder, "
           "computer terminal, file surfer)",
)
"""Magentic-One's row of the paper's Table 2 (Cross-domain, AutoGen, Planning, 4 agents,
Artifacts in, suite F). Two deviations, both from this port's tasks: the file surfer's two
tools (``list_files``, ``read_file``; Table 2 counts 0) are what tools on/off switches, and
the answers are numbers checked against the files (Closed-Form; Table 2: Open-End)."""

EXECUTOR_ATTRIBUTE = "maestro_code_executor"
"""Attribute of a built team holding its terminal's executor (``run`` stops it)."""
CLIENT_ATTRIBUTE = "maestro_model_client"
"""Attribute of a built team holding its model client (``run`` closes it)."""




def build_team(model_client: Any, *, tools_enabled: bool, max_turns: int = 20, max_stalls: int = 3,
               code_timeout_s: int = 30) -> MagenticOneGroupChat:
    """The orchestrated team: coder, computer terminal and file surfer under the
    MagenticOne orchestrator. The terminal's executor is kept on the team as
    :data:`EXECUTOR_ATTRIBUTE`."""
    executor = make_terminal_executor(tools_enabled, code_timeout_s)
    coder = AssistantAgent(CODER, model_client=model_client, description=DESCRIPTIONS[CODER],
                           system_message=SYSTEM_PROMPTS[CODER])
    with warnings.catch_warnings():  # "no approval function": the guard is the approval
        warnings.simplefilter("ignore", UserWarning)
        terminal = CodeExecutorAgent(TERMINAL, code_executor=executor, description=DESCRIPTIONS[TERMINAL],
                                     sources=[CODER])
    surfer = AssistantAgent(FILE_SURFER, model_client=model_client, description=DESCRIPTIONS[FILE_SURFER],
                            system_message=SYSTEM_PROMPTS[FILE_SURFER],
                            tools=[list_files, read_file] if tools_enabled else None)
    team = MagenticOneGroupChat([coder, terminal, surfer], model_client=model_client,
                                max_turns=max(1, int(max_turns)), max_stalls=max(1, int(max_stalls)))
    setattr(team, EXECUTOR_ATTRIBUTE, executor)
    setattr(team, CLIENT_ATTRIBUTE, model_client)
    return team


class MagenticOneInstance:
    """Magentic-One (AutoGen MagenticOneGroupChat: orchestrator + coder, terminal, file surfer)."""

    info: InstanceInfo = MAGENTIC_ONE_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """The bundled data questions, or a user JSONL file (see ``tasks.load_tasks``)."""
        return load_tasks(n=n, source=source, seed=seed)

    def build(self, ctx: RunContext) -> Any:
        """The team for one run: file tools and code execution only with ``ctx.tools_enabled``."""
        opts = resolve_options(self.options, ctx.options)
        return build_team(make_model_client(ctx), tools_enabled=ctx.tools_enabled, max_turns=opts["max_turns"],
                          max_stalls=opts["max_stalls"], code_timeout_s=opts["code_timeout_s"])

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Run the team on the question; the answer is the orchestrator's final answer."""
        executor: GuardedCodeExecutor | None = getattr(app, EXECUTOR_ATTRIBUTE, None)
        client = getattr(app, CLIENT_ATTRIBUTE, None)

        async def go() -> Any:
            try:
                return await app.run(task=task.question)
            finally:
                if executor is not None:
                    await executor.stop()  # removes the terminal's temporary directory
                if client is not None:
                    await client.close()  # inside the run's loop: its HTTP connections close cleanly

        # a team that fails raises one line (the AutoGen adapter keeps the traceback on a span event)
        result = asyncio.run(go())
        final = result.messages[-1] if result.messages else None
        text = getattr(final, "content", None)
        if getattr(final, "source", None) != ORCHESTRATOR or not isinstance(text, str):
            return TaskResult(answer=None, outcome="failure",
                              reason=f"the orchestrator gave no final answer ({result.stop_reason})")
        if (result.stop_reason or "").strip() == "Max rounds reached.":
            return TaskResult(answer=text, outcome="failure", reason="max_turns reached: the orchestrator had to answer")
        return answer_result(text.strip(), "empty final answer")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """The answer's number against the truth computed from the files (see ``tasks.judge``)."""
        return judge_answer(task, answer)

    def warm(self) -> None:
        """Nothing to precompute; importing this module (done by the forkserver) loads AutoGen."""
