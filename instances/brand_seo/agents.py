"""Brand SEO's ADK agent tree: a root ``LlmAgent`` with four sub-agents it reaches with
``transfer_to_agent`` (keyword finder, search results, comparison generator and critic;
the generator and the critic hand over to each other as peers). All agents share one
model object."""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent, LlmAgent
from google.genai import types

from .prompts import CRITIC, DESCRIPTIONS, GENERATOR, KEYWORDS, ROOT, SEARCH, instructions

__all__ = ["build_team"]


def build_team(model: Any, *, product_tool: Any = None, browser_tools: list[Any] | None = None,
               max_tokens: int | None = None, temperature: float = 0.0) -> LlmAgent:
    """The root agent; the tools are given with tools on only (None: a run without tools)."""
    config = types.GenerateContentConfig(temperature=temperature, max_output_tokens=max_tokens)
    text = instructions(product_tool is not None or browser_tools is not None)
    tools = {KEYWORDS: [product_tool] if product_tool is not None else [], SEARCH: list(browser_tools or [])}
    subs: list[BaseAgent] = [
        LlmAgent(name=name, model=model, instruction=text[name], description=DESCRIPTIONS[name],
                 tools=tools.get(name, []), generate_content_config=config)
        for name in (KEYWORDS, SEARCH, GENERATOR, CRITIC)
    ]
    return LlmAgent(name=ROOT, model=model, instruction=text[ROOT], description=DESCRIPTIONS[ROOT], sub_agents=subs,
                    generate_content_config=config)
