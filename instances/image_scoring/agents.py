"""Image Scoring's ADK agent tree: ``LoopAgent(SequentialAgent(writer, generator, scorer),
checker)``.

The three LLM agents share one model object. The scorer's final text is kept in the
session state (``output_key``) where the checker, a plain ``BaseAgent``, reads the
``Score: p/t`` line and escalates (ends the loop) when ``p / t`` reaches the threshold.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from google.adk.agents import BaseAgent, LlmAgent, LoopAgent, SequentialAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event, EventActions
from google.genai import types

from .prompts import (
    CHECKER,
    DESCRIPTIONS,
    IMAGE_GENERATOR,
    IMAGE_SCORER,
    LOOP,
    PROMPT_WRITER,
    ROUND,
    instructions,
    read_score,
)

__all__ = ["ScoreChecker", "build_loop", "SCORE_REPORT"]

SCORE_REPORT = "score_report"
"""Session-state key of the scorer's latest report (its ``output_key``)."""


class ScoreChecker(BaseAgent):
    """Escalates (ends the enclosing loop) when the scorer's reported score reaches
    ``threshold`` (a share of the requirements); says what it decided either way."""

    threshold: float = 1.0

    async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
        score = read_score(str(ctx.session.state.get(SCORE_REPORT) or ""))
        passed = score is not None and score[1] > 0 and score[0] / score[1] >= self.threshold
        said = (f"Score {score[0]}/{score[1]}" if score else "No score reported") + (
            f" meets the threshold {self.threshold:g}: done." if passed else
            f" is below the threshold {self.threshold:g}: another round.")
        yield Event(author=self.name, invocation_id=ctx.invocation_id, branch=ctx.branch,
                    content=types.Content(role="model", parts=[types.Part(text=said)]),
                    actions=EventActions(escalate=passed))


def build_loop(model: Any, tools: list[Callable[..., Any]] | None, *, max_iterations: int = 4,
               threshold: float = 1.0, max_tokens: int | None = None, temperature: float = 0.0) -> LoopAgent:
    """The root agent; ``tools`` is ``[generate_image, score_image]`` (None: a run without tools)."""
    config = types.GenerateContentConfig(temperature=temperature, max_output_tokens=max_tokens)
    text = instructions(tools is not None)
    generate, score = tools if tools is not None else (None, None)

    def agent(name: str, tool: Any = None, output_key: str | None = None) -> LlmAgent:
        return LlmAgent(name=name, model=model, instruction=text[name], description=DESCRIPTIONS[name],
                        tools=[tool] if tool is not None else [], generate_content_config=config,
                        output_key=output_key)

    round_ = SequentialAgent(name=ROUND, description=DESCRIPTIONS[ROUND], sub_agents=[
        agent(PROMPT_WRITER), agent(IMAGE_GENERATOR, generate), agent(IMAGE_SCORER, score, SCORE_REPORT)])
    checker = ScoreChecker(name=CHECKER, description=DESCRIPTIONS[CHECKER], threshold=threshold)
    return LoopAgent(name=LOOP, description=DESCRIPTIONS[LOOP], sub_agents=[round_, checker],
                     max_iterations=max_iterations)
