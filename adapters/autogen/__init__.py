"""maestro adapter for AutoGen (autogen-agentchat 0.7).

Wrap an existing team or agent in one line, with no change to your agent code::

    from maestro.adapters.autogen import instrument
    with maestro.trace_run("my-study") as run:
        team = instrument(RoundRobinGroupChat([...]), run)
        asyncio.run(team.run(task="..."))

Works for RoundRobinGroupChat, SelectorGroupChat, Swarm, MagenticOneGroupChat, nested
teams and a lone AssistantAgent (any ``BaseChatAgent``). Records an ``invoke_agent`` span
per agent turn, a ``chat`` span per model call (the selector's and orchestrator's included)
with tokens and HTTP body bytes, ``execute_tool`` per tool call, and a ``message`` edge per
hand-over between agents, all in the run's one trace. See ``wrap.py`` for how spans are
placed and how message targets are decided.
"""

from __future__ import annotations

from typing import Any

from maestro.adapters.autogen.wrap import InstrumentedAutoGen, Recorder, TracedChatCompletionClient, instrument_object
from maestro.collector.telemetry import RunTelemetry, current_telemetry

__all__ = ["instrument", "InstrumentedAutoGen", "TracedChatCompletionClient", "Recorder", "FRAMEWORK"]

FRAMEWORK = "autogen"


def instrument(
    team_or_agent: Any,
    telemetry: RunTelemetry | None = None,
    provider: str | None = "",
    *,
    capture_content: bool | None = None,
) -> InstrumentedAutoGen:
    """Trace ``team_or_agent`` into ``telemetry``; returns an object to ``run`` instead.

    Args:
        team_or_agent: an agentchat team (any ``BaseGroupChat``) or chat agent. Its agents
            and model clients are patched in place (``.uninstrument()`` undoes it);
            instrumenting the same objects again rebinds them to the new run.
        telemetry: the run's telemetry; defaults to the one active in this process
            (``maestro.trace_run`` or the study runner starts it).
        provider: ``gen_ai.provider.name`` for LLM spans (default: from the client class).
        capture_content: override the run's content-capture setting.

    Raises:
        RuntimeError: no telemetry given and none active.
        TypeError: ``team_or_agent`` is neither a team nor a chat agent.
    """
    telemetry = telemetry or current_telemetry()
    if telemetry is None:
        raise RuntimeError(
            "maestro.adapters.autogen.instrument: no active run telemetry; pass one or call it "
            "inside `with maestro.trace_run(...)`"
        )
    if isinstance(team_or_agent, InstrumentedAutoGen):
        team_or_agent = team_or_agent.target
    recorder = Recorder(telemetry, provider=provider or None, capture_content=capture_content)
    undo: list = []
    instrument_object(team_or_agent, recorder, undo)
    return InstrumentedAutoGen(team_or_agent, recorder, undo)
