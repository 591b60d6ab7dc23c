"""Simulated-model behaviour of content creation's four roles, by mechanism: every policy
reads only its request (the brief, plan, draft and notes that are in its context) and acts
on it with ``ctx.rng``; none reads a task's gold.

* Coordinator: calls the next remote agent the conversation calls for (planner; writer with
  brief and plan; editor with brief, plan and draft; writer again with the editor's notes
  while the verdict is ``revise`` and revision rounds are left, as its instruction says),
  then replies with the editor's approved article (the latest draft when rounds are used up).
* Planner: with ``lookup_notes`` offered it first calls it for the topic; its plan keeps
  each key point of the brief as a section with probability ``1 - (1 - accuracy) / 2``.
* Writer: writes a ``### `` section per section of the plan (each with probability
  ``accuracy``: a weaker writer forgets some), padded by ``verbosity``; on a revision it keeps
  the previous draft's sections, adds those the editor listed as missing and drops the
  padding when told the draft is too long.
* Editor: compares the draft's headings with the brief's key points and its word count with
  the limit; it notices each problem with probability ``accuracy`` and asks for a revision,
  else approves. So weaker profiles revise more often, and miss more.
* Each remote role also fails outright with probability ``(1 - accuracy) / 3`` in the
  profile's failure mix: ``empty`` (no text), ``underspecified`` (a line without the layout)
  or ``wrong`` (work on another topic).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from maestro.instances.sim_kit import MarkerPolicy, pad, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    COORDINATOR_MARKER,
    EDITOR,
    EDITOR_MARKER,
    NOTES_TOOL,
    PLANNER,
    PLANNER_MARKER,
    WRITER,
    WRITER_MARKER,
    Brief,
    draft_sections,
    format_brief,
    missing_line,
    parse_brief,
    plan_sections,
    verdict,
    word_count,
)

__all__ = ["CoordinatorPolicy", "PlannerPolicy", "WriterPolicy", "EditorPolicy", "POLICIES", "register_sim_policies",
           "tool_results"]

_FILLER = (
    "Readers tend to remember one concrete example better than a list.",
    "Small steps taken early make the rest of the season easier.",
    "It is worth asking people who have done it before.",
    "Costs stay low when you start with what you already have.",
    "Most beginners overestimate how much time this takes.",
)
_OTHER_TOPICS = ("gardening on a budget", "travel photography", "sourdough baking", "running a book club")


def _result_text(content: str) -> str:
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        return content or ""
    if isinstance(value, dict):
        value = value.get("result", value)
    return value if isinstance(value, str) else json.dumps(value)


def tool_results(request: SimRequest) -> list[tuple[str, str]]:
    """(tool name, result text) of every tool result in the conversation, in order."""
    return [(m.name or "", _result_text(m.content)) for m in request.messages if m.role == "tool"]


def _fails(ctx: PolicyContext, scale: float = 3.0) -> str | None:
    if ctx.rng.random() < (1.0 - ctx.accuracy) / scale:
        return ctx.failure_mix.draw(ctx.rng)
    return None


def _offers(request: SimRequest, name: str) -> bool:
    return any(t.name == name for t in request.tools)


def _call(name: str, text: str) -> SimReply:
    return SimReply(tool_calls=(SimToolCall(name, {"request": text}),))


@dataclass(frozen=True)
class CoordinatorPolicy(MarkerPolicy):
    """Routes the brief through planner, writer and editor (module docstring)."""

    name: str = "content_creation.coordinator"
    marker: str = COORDINATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        user = next((m.content for m in request.messages if m.role == "user"), "")
        brief = parse_brief(user)
        brief_text = format_brief(brief) if brief else user
        results = tool_results(request)
        plans = [r for n, r in results if n == PLANNER]
        drafts = [r for n, r in results if n == WRITER]
        verdicts = [r for n, r in results if n == EDITOR]
        m = re.search(r"at most (\d+) revision rounds", request.system)
        rounds = int(m.group(1)) if m else 2
        last = results[-1][0] if results else None
        if _offers(request, PLANNER):
            if not plans:
                return _call(PLANNER, brief_text)
            if not drafts:
                return _call(WRITER, f"{brief_text}\n\n{plans[-1]}")
            if last == WRITER:
                return _call(EDITOR, f"{brief_text}\n\n{plans[-1]}\n\n{drafts[-1]}")
            if verdicts and verdict(verdicts[-1]) == "revise" and len(drafts) - 1 < rounds:
                return _call(WRITER, f"{brief_text}\n\n{plans[-1]}\n\nEditor notes:\n{verdicts[-1]}\n\n"
                                     f"Previous draft:\n{drafts[-1]}")
        if verdicts and verdict(verdicts[-1]) == "approved" and "## Final" in verdicts[-1]:
            article = verdicts[-1].split("## Final", 1)[1].strip()
        else:
            article = drafts[-1].replace("## Draft", "", 1).strip() if drafts else ""
        return SimReply(text=article)


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """Plans the article, after looking up notes when it can (module docstring)."""

    name: str = "content_creation.planner"
    marker: str = PLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        brief = parse_brief(request.text) or Brief("the topic", "readers", (), 400)
        notes = [r for n, r in tool_results(request) if n == NOTES_TOOL]
        if _offers(request, NOTES_TOOL) and not notes:
            return SimReply(tool_calls=(SimToolCall(NOTES_TOOL, {"topic": brief.topic}),))
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified":
            return SimReply(text="## Plan\nThe article should cover the topic well.")
        topic = ctx.rng.choice(_OTHER_TOPICS) if mode == "wrong" else brief.topic
        keep = 1.0 - (1.0 - ctx.accuracy) / 2.0
        sections = [p for p in brief.key_points if ctx.rng.random() < keep] if mode != "wrong" else ["Overview"]
        lines = ["## Plan", f"Title: {topic[:1].upper() + topic[1:]}: a practical guide for {brief.audience}",
                 f"Sections: {'; '.join(sections)}", f"Key message: {topic} is easier than it looks."]
        facts = [f for r in notes for f in re.findall(r"[a-z][^\"\]\[,]{12,}", r)][:2]
        if facts:
            lines.append(f"Facts: {'; '.join(facts)}")
        return SimReply(text="\n".join(lines))


@dataclass(frozen=True)
class WriterPolicy(MarkerPolicy):
    """Writes (or revises) the draft the plan and notes ask for (module docstring)."""

    name: str = "content_creation.writer"
    marker: str = WRITER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = request.text
        brief = parse_brief(text) or Brief("the topic", "readers", (), 400)
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified":
            return SimReply(text="## Draft\nHere is a short piece on the subject.")
        title_m = re.search(r"^Title:[ \t]*(.+)$", text, re.MULTILINE)
        title = title_m.group(1).strip() if title_m else brief.topic
        topic = ctx.rng.choice(_OTHER_TOPICS) if mode == "wrong" else brief.topic
        facts_m = re.search(r"^Facts:[ \t]*(.+)$", text, re.MULTILINE)
        facts = [f.strip() for f in facts_m.group(1).split(";")] if facts_m else []
        previous = text.split("Previous draft:", 1)[1] if "Previous draft:" in text else ""
        notes = text.split("Editor notes:", 1)[1].split("Previous draft:", 1)[0] if "Editor notes:" in text else ""
        if previous:  # a revision: keep what is there, add what the editor found missing
            sections = draft_sections(previous)
            sections += [s for s in missing_line(notes) if s not in sections and ctx.rng.random() < ctx.accuracy]
        else:
            sections = [s for s in plan_sections(text) if ctx.rng.random() < ctx.accuracy]
        terse = "Too long:" in notes
        body = [f"## Draft\n# {title}"]
        for i, s in enumerate(sections):
            para = f"When it comes to {topic}, {s} matters for {brief.audience}. Start simple and adjust as you go."
            if facts:
                para += f" Note that {facts[i % len(facts)]}."
            body.append(f"### {s}\n" + (para if terse else pad(para, ctx.rng, ctx.verbosity, _FILLER, cap=12)))
        return SimReply(text="\n\n".join(body))


@dataclass(frozen=True)
class EditorPolicy(MarkerPolicy):
    """Approves the draft or asks for a revision, noticing what it notices (module docstring)."""

    name: str = "content_creation.editor"
    marker: str = EDITOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = request.text
        brief = parse_brief(text)
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified":
            return SimReply(text="Looks fine overall.")
        i = text.rfind("## Draft")
        draft = text[i + len("## Draft"):].strip() if i >= 0 else ""
        headings = {h.lower() for h in draft_sections(draft)}
        points = brief.key_points if brief else ()
        missing = [p for p in points if p.lower() not in headings and ctx.rng.random() < ctx.accuracy]
        words = word_count(draft)
        too_long = brief is not None and words > brief.max_words and ctx.rng.random() < ctx.accuracy
        if (missing or too_long) and mode != "wrong":
            lines = ["VERDICT: revise"]
            if missing:
                lines.append(f"Missing: {'; '.join(missing)}")
            if too_long:
                lines.append(f"Too long: {words} words")
            return SimReply(text="\n".join(lines))
        return SimReply(text=f"VERDICT: approved\n\n## Final\n{draft}")


POLICIES = (CoordinatorPolicy(), PlannerPolicy(), WriterPolicy(), EditorPolicy())
"""The four policies."""


def register_sim_policies() -> None:
    """Register the studio's policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
