"""The agency's ADK agent tree: a coordinator ``LlmAgent`` with four specialist sub-agents.

The coordinator hands work over with ADK's ``transfer_to_agent`` (its sub-agents are
registered as ``sub_agents``, so ADK offers the transfer function); each specialist hands
back the same way. Only the logo designer has a tool (``render_logo``), and only when the
run's tools are on. All agents share one model object, so one HTTP client per event loop.
"""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent, LlmAgent
from google.genai import types

from .prompts import COORDINATOR, DESCRIPTIONS, INSTRUCTIONS, LOGO, SPECIALISTS
from .tools import render_logo

__all__ = ["build_agency"]


def build_agency(model: Any, *, tools_enabled: bool = True, max_tokens: int | None = None,
                 temperature: float = 0.0) -> LlmAgent:
    """The root (coordinator) agent of the agency, using ``model`` (an ADK model object or name)."""
    config = types.GenerateContentConfig(temperature=temperature, max_output_tokens=max_tokens)
    specialists: list[BaseAgent] = [
        LlmAgent(name=name, model=model, instruction=INSTRUCTIONS[name], description=DESCRIPTIONS[name],
                 tools=[render_logo] if (name == LOGO and tools_enabled) else [],
                 generate_content_config=config)
        for name in SPECIALISTS
    ]
    return LlmAgent(name=COORDINATOR, model=model, instruction=INSTRUCTIONS[COORDINATOR],
                    description=DESCRIPTIONS[COORDINATOR], sub_agents=specialists, generate_content_config=config)
