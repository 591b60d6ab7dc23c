"""Simulated-model behaviour for Image Scoring's three LLM agents.

Each policy recognises its agent by the marker sentence of the agent's instruction and
reads the brief (the user message with ``Requirements:``) and the other agents' turns from
the conversation. Randomness comes only from ``ctx.rng``; nothing reads the task's gold.

* Prompt writer: asks for each requirement of the brief. In the first round it words a
  requirement exactly (count, colour, shape; the background colour) with probability
  ``accuracy``, else vaguely (an element without its count or colour, the background left
  out), so the image model draws what it guesses. Later rounds read the scorer's latest
  ``Missing:`` line: the missing requirements are reworded (exactly with probability
  ``accuracy``) and the others written exactly. With probability ``(1 - accuracy) / 2`` the
  reply fails as the profile's failure mix draws: ``empty``, ``underspecified`` (an
  abstract prompt naming no element) or ``wrong`` (one element in another colour).
* Image generator: with the tool, calls ``generate_image`` with the latest ``Prompt:``
  line (the brief's description when there is none) and then names the file; without it,
  describes the image in words.
* Image scorer: with the tool, calls ``score_image`` with the brief's requirements (a
  ``wrong`` failure leaves one out: a lenient check) and reports the tool's result as
  ``Score: p/t`` and ``Missing: ...``; without it, judges the generator's description by
  its words. Its report fails with probability ``(1 - accuracy) / 2``: ``empty`` or
  ``underspecified`` (no score: the checker asks for another round) or ``wrong`` (it claims
  every requirement is met: the checker stops the loop early).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    COLOURS,
    GENERATE_TOOL,
    GENERATOR_MARKER,
    MISSING_PREFIX,
    PROMPT_MARKER,
    PROMPT_PREFIX,
    SCORE_PREFIX,
    SCORE_TOOL,
    SCORER_MARKER,
    Requirement,
    last_prompt,
    parse_requirements,
)

__all__ = ["PromptWriterPolicy", "ImageGeneratorPolicy", "ImageScorerPolicy", "POLICIES", "register_sim_policies",
           "brief_of", "vague_phrase"]

_STYLE = ("Style: flat vector shapes with crisp edges.", "Keep the composition simple and uncluttered.",
          "Leave some space between the elements.", "Use solid fills, no gradients.")


def _fails(ctx: PolicyContext) -> str | None:
    if ctx.rng.random() < (1.0 - ctx.accuracy) / 2.0:
        return ctx.failure_mix.draw(ctx.rng)
    return None


def brief_of(request: SimRequest) -> tuple[str, list[Requirement]]:
    """The brief's text (the first user message listing ``Requirements:``) and its requirements."""
    for m in request.messages:
        if m.role == "user" and "Requirements:" in m.content:
            return m.content, parse_requirements(m.content.split("Requirements:", 1)[1])
    return "", []


def _offers(request: SimRequest, name: str) -> bool:
    return any(t.name == name for t in request.tools)


def _last_tool_result(request: SimRequest, name: str) -> dict[str, Any] | None:
    """The result of ``name`` when it is the request's last message (the call just returned)."""
    if not request.messages:
        return None
    m = request.messages[-1]
    if m.role != "tool" or m.name not in (None, name):
        return None
    try:
        value = json.loads(m.content)
    except (TypeError, ValueError):
        return None
    if isinstance(value, dict) and isinstance(value.get("result"), dict):
        value = value["result"]
    return value if isinstance(value, dict) else None


def vague_phrase(req: Requirement, rng: Any) -> str | None:
    """A vague wording of ``req`` (drawn with ``rng``): an element loses its count (when more
    than one) or its colour; a background is left out (None)."""
    if req.is_background:
        return None
    if req.count > 1 and rng.random() < 0.5:
        return f"{req.colour} {req.shape}s"
    return f"some {req.shape}s" if req.count > 1 else f"a {req.shape}"


def _prompt(elements: list[str], background: str | None) -> str:
    body = ", ".join(elements[:-1]) + (f" and {elements[-1]}" if len(elements) > 1 else (elements[0] if elements else ""))
    text = f"A simple flat illustration of {body}" if body else "A simple flat illustration"
    return text + (f" on {background}" if background else "") + "."


@dataclass(frozen=True)
class PromptWriterPolicy(MarkerPolicy):
    """Writes the image prompt from the brief and the scorer's feedback (module docstring)."""

    name: str = "image_scoring.prompt_writer"
    marker: str = PROMPT_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        _, reqs = brief_of(request)
        text = request.text
        earlier = last_prompt(text)
        missing: list[Requirement] | None = None
        at = text.rfind(MISSING_PREFIX)
        if earlier is not None and at >= 0:
            missing = parse_requirements(text[at:].split("\n", 1)[0])
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified" or not reqs:
            return SimReply(text=f"{PROMPT_PREFIX} A colourful abstract composition of simple geometric shapes.")
        if mode == "wrong":
            k = ctx.rng.randrange(len(reqs))
            other = ctx.rng.choice([c for c in COLOURS if c not in (reqs[k].colour, "white")])
            reqs = [*reqs[:k], Requirement(reqs[k].count, other, reqs[k].shape), *reqs[k + 1:]]
        elements, background = [], None
        for r in reqs:
            exact = ctx.rng.random() < ctx.accuracy if (missing is None or r in missing) else True
            phrase = r.text() if exact else vague_phrase(r, ctx.rng)
            if r.is_background:
                background = phrase
            elif phrase:
                elements.append(phrase)
        return SimReply(text=pad(f"{PROMPT_PREFIX} {_prompt(elements, background)}", ctx.rng, ctx.verbosity,
                                 _STYLE, cap=3))


@dataclass(frozen=True)
class ImageGeneratorPolicy(MarkerPolicy):
    """Renders the latest prompt with the tool, or describes it without one."""

    name: str = "image_scoring.image_generator"
    marker: str = GENERATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        done = _last_tool_result(request, GENERATE_TOOL)
        if done is not None:
            if done.get("error"):
                return SimReply(text=f"The image model failed: {done['error']}")
            return SimReply(text=f"Rendered {done.get('image', 'the image')} ({done.get('bytes', 0)} bytes).")
        prompt = last_prompt(request.text)
        if prompt is None:
            brief, _ = brief_of(request)
            prompt = brief.split("\n", 1)[0].removeprefix("Brief:").strip() or "an image"
        if _offers(request, GENERATE_TOOL):
            return SimReply(tool_calls=(SimToolCall(GENERATE_TOOL, {"prompt": prompt}),))
        return SimReply(text=f"Image description: {prompt}")


@dataclass(frozen=True)
class ImageScorerPolicy(MarkerPolicy):
    """Scores the latest image with the tool (or the description without it) and reports."""

    name: str = "image_scoring.image_scorer"
    marker: str = SCORER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        _, reqs = brief_of(request)
        result = _last_tool_result(request, SCORE_TOOL)
        if result is None and _offers(request, SCORE_TOOL):
            listed = [r.text() for r in reqs]
            if len(listed) > 1 and _fails(ctx) == "wrong":
                listed.pop(ctx.rng.randrange(len(listed)))  # overlooks one requirement: a lenient check
            return SimReply(tool_calls=(SimToolCall(SCORE_TOOL, {"requirements": listed}),))
        if result is not None:
            checks = [c for c in result.get("checks") or [] if isinstance(c, dict)]
            passed, total = sum(bool(c.get("ok")) for c in checks), len(checks)
            missing = [f"{c.get('requirement')} (found {c.get('found')})" for c in checks if not c.get("ok")]
        else:  # no tool: judge the generator's description by its words
            described = parse_requirements(request.text.rsplit("Image description:", 1)[-1].split("\n", 1)[0]) \
                if "Image description:" in request.text else []
            ok = [r for r in reqs if r in described]
            passed, total = len(ok), len(reqs)
            missing = [r.text() for r in reqs if r not in ok]
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified":
            return SimReply(text="The image looks broadly in line with the brief.")
        if mode == "wrong":
            passed, missing = total, []
        report = f"{SCORE_PREFIX} {passed}/{total}"
        if missing:
            report += f"\n{MISSING_PREFIX} " + "; ".join(missing)
        return SimReply(text=report)


POLICIES = (PromptWriterPolicy(), ImageGeneratorPolicy(), ImageScorerPolicy())
"""The three policies, in registration order."""


def register_sim_policies() -> None:
    """Register Image Scoring's policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
