"""The studio's remote ADK agents: the planner, writer and editor, each built in its own
process by :func:`build_remote_agent` (the factory its A2A server calls), and the model
they share with the coordinator. Nothing of ADK's A2A client is imported here: a remote
process starts faster without it.
"""

from __future__ import annotations

import os
from typing import Any

from google.adk.agents import LlmAgent
from google.genai import types

from .prompts import DESCRIPTIONS, INSTRUCTIONS, PLANNER, REMOTE_AGENTS
from .tasks import NOTES

__all__ = ["lookup_notes", "make_model", "generate_config", "build_remote_agent"]


def lookup_notes(topic: str) -> dict:
    """Research notes on a topic from the studio's notes (an empty list when there are none)."""
    return {"topic": topic, "notes": list(NOTES.get(topic.strip().lower(), ()))}



def make_model(config: dict[str, Any]) -> Any:
    """ADK ``Gemini`` model for the Gemini-REST endpoint in ``config`` (``gemini_base_url``,
    ``model``, ``api_key``, ``http_attempts``)."""
    from google.adk.models import Gemini

    os.environ.setdefault("NO_GCE_CHECK", "true")  # google-auth must never probe a metadata server
    attempts = int(config.get("http_attempts", 4))
    retry = types.HttpRetryOptions(attempts=attempts, initial_delay=0.05, max_delay=1.0) if attempts > 1 else None
    return Gemini(model=config["model"], base_url=config["gemini_base_url"],
                  client_kwargs={"api_key": config["api_key"]}, retry_options=retry)


def generate_config(config: dict[str, Any]) -> types.GenerateContentConfig:
    """Sampling settings of every agent from ``config`` (``temperature``, ``max_tokens``)."""
    return types.GenerateContentConfig(temperature=float(config.get("temperature", 0.0)),
                                       max_output_tokens=config.get("max_tokens"))


def build_remote_agent(name: str, config: dict[str, Any]) -> LlmAgent:
    """One remote agent (planner, writer or editor): the factory its server process calls."""
    if name not in REMOTE_AGENTS:
        raise ValueError(f"unknown content_creation agent {name!r}; known: {', '.join(REMOTE_AGENTS)}")
    tools: list[Any] = [lookup_notes] if name == PLANNER and config.get("tools_enabled", True) else []
    return LlmAgent(name=name, model=make_model(config), instruction=INSTRUCTIONS[name], description=DESCRIPTIONS[name],
                    tools=tools, generate_content_config=generate_config(config))
