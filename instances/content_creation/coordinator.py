"""The coordinator: an ``LlmAgent`` whose tools are ADK ``AgentTool``s around
``RemoteA2aAgent``s (agents as tools: the coordinator keeps control between hand-overs and
decides the next one from the answers).

The proxies run without the coordinator's plugins: the remote agent's own process records
its turn, so the proxy is a client, not an agent of the system. A proxy whose hand-over
fails (the remote process died, hung past its timeout, or answered with an error) raises
:class:`RemoteAgentError`, which ends the run.
"""

from __future__ import annotations

import warnings
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.agents.remote_a2a_agent import RemoteA2aAgent
from google.adk.tools.agent_tool import AgentTool

from .agents import generate_config
from .prompts import COORDINATOR, DESCRIPTIONS, REMOTE_AGENTS, coordinator_instruction

__all__ = ["RemoteAgentError", "StrictRemoteAgent", "build_coordinator", "CARD_PATH"]

# ADK marks its A2A classes experimental and warns on every use (each conversion, each
# run); the instance pins ADK and the A2A SDK, so the warnings say nothing new.
warnings.filterwarnings("ignore", message=r"\[EXPERIMENTAL\]", category=UserWarning)

CARD_PATH = "/.well-known/agent-card.json"
"""Where an A2A server publishes its agent card (a2a-sdk 0.3)."""


class RemoteAgentError(RuntimeError):
    """A hand-over to a remote agent failed; the message names the agent."""


class StrictRemoteAgent(RemoteA2aAgent):
    """``RemoteA2aAgent`` that raises on a failed hand-over instead of yielding an error event
    (ADK's proxy reports failures as events, which a coordinator would read as an answer)."""

    def __init__(self, name: str, agent_card: str, **kwargs: Any) -> None:
        # RemoteA2aAgent's own __init__ (a pydantic model's signature hides it from type checkers)
        super().__init__(name=name, agent_card=agent_card, **kwargs)

    async def _run_async_impl(self, ctx: Any) -> Any:
        async for event in super()._run_async_impl(ctx):
            if getattr(event, "error_message", None):
                raise RemoteAgentError(f"remote agent {self.name} failed: {event.error_message}")
            yield event


def build_coordinator(model: Any, urls: dict[str, str], config: dict[str, Any], *, max_revisions: int,
                      remote_timeout_s: float) -> LlmAgent:
    """The coordinator, with one ``AgentTool`` per remote agent at ``urls[name]``."""
    tools = [
        AgentTool(agent=StrictRemoteAgent(name=name, agent_card=urls[name].rstrip("/") + CARD_PATH,
                                          description=DESCRIPTIONS[name], timeout=remote_timeout_s),
                  include_plugins=False)
        for name in REMOTE_AGENTS
    ]
    return LlmAgent(name=COORDINATOR, model=model, instruction=coordinator_instruction(max_revisions),
                    description=DESCRIPTIONS[COORDINATOR], tools=list(tools),
                    generate_content_config=generate_config(config))
