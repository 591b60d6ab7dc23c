"""Content creation's agent names, prompts and text layouts (the single definition of the
brief, plan, draft and verdict formats for the agents, the policies and the judge).

Every agent's instruction opens with a marker sentence (``*_MARKER``) no other agent uses,
so the simulated service's policies tell the roles apart from the system prompt alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COORDINATOR", "PLANNER", "WRITER", "EDITOR", "REMOTE_AGENTS", "NOTES_TOOL",
    "COORDINATOR_MARKER", "PLANNER_MARKER", "WRITER_MARKER", "EDITOR_MARKER",
    "INSTRUCTIONS", "DESCRIPTIONS", "Brief", "format_brief", "parse_brief", "plan_sections", "draft_sections",
    "word_count", "verdict", "missing_line",
]

COORDINATOR = "content_coordinator"
PLANNER = "content_planner"
WRITER = "content_writer"
EDITOR = "content_editor"
REMOTE_AGENTS = (PLANNER, WRITER, EDITOR)
"""The agents that run as A2A servers, each in its own process, in the order they work."""
NOTES_TOOL = "lookup_notes"
"""The planner's tool (tools on): research notes on a topic from the bundled notes."""

COORDINATOR_MARKER = "You coordinate a content studio whose planner, writer and editor are remote agents."
PLANNER_MARKER = "You are the content planner of a content studio."
WRITER_MARKER = "You are the staff writer of a content studio."
EDITOR_MARKER = "You are the editor of a content studio."


def coordinator_instruction(max_revisions: int) -> str:
    """The coordinator's instruction (its revision budget is part of it)."""
    return (
        f"{COORDINATOR_MARKER} The user gives a brief (Topic, Audience, Key points, Length). Call "
        f"{PLANNER} with the brief to get a plan; call {WRITER} with the brief and the plan to get a "
        f"draft; call {EDITOR} with the brief, the plan and the draft. When the editor answers "
        "'VERDICT: revise', call the writer again with the editor's notes and the draft, then the editor "
        f"again; at most {max_revisions} revision rounds. Then reply with the final article exactly as the "
        "editor approved it (or the latest draft when the rounds are used up), starting with its '# ' title."
    )


INSTRUCTIONS = {
    PLANNER: (
        f"{PLANNER_MARKER} Read the brief and plan the article. When the {NOTES_TOOL} tool is available, "
        "call it once with the topic and use its notes. Answer with '## Plan', then the lines 'Title: ...', "
        "'Sections: a; b; c' (one section per key point of the brief), 'Key message: ...' and, when you have "
        "notes, 'Facts: ...'."
    ),
    WRITER: (
        f"{WRITER_MARKER} Write the article the plan describes. Answer with '## Draft', then '# <Title>' and "
        "one '### <Section>' heading per section of the plan, each followed by a paragraph; stay within the "
        "brief's length. When editor notes list missing sections, add them."
    ),
    EDITOR: (
        f"{EDITOR_MARKER} Check the draft against the brief: every key point needs its own '### ' section and "
        "the article must stay within the length. Answer 'VERDICT: approved' followed by '## Final' and the "
        "article, or 'VERDICT: revise' followed by 'Missing: a; b' and/or 'Too long: N words'."
    ),
}
"""The remote agents' instructions (their system prompts in ADK)."""

DESCRIPTIONS = {
    COORDINATOR: "Runs the studio: sends the brief through planning, writing and editing.",
    PLANNER: "Plans an article from a brief: title, sections, key message.",
    WRITER: "Writes an article draft from a plan.",
    EDITOR: "Checks a draft against its brief and approves it or asks for a revision.",
}
"""Each agent's description (its agent card and tool description)."""


@dataclass(frozen=True)
class Brief:
    """A content brief: the labelled fields of the user's message."""

    topic: str
    audience: str
    key_points: tuple[str, ...]
    max_words: int


def format_brief(brief: Brief) -> str:
    """The user message for ``brief``."""
    return (f"Topic: {brief.topic}\nAudience: {brief.audience}\nKey points: {'; '.join(brief.key_points)}\n"
            f"Length: at most {brief.max_words} words\n\nWrite the article.")


_FIELD = {k: re.compile(rf"^{k}:[ \t]*(.+)$", re.MULTILINE) for k in ("Topic", "Audience", "Key points", "Length")}


def parse_brief(text: str) -> Brief | None:
    """The first brief in ``text``; None without a ``Topic:`` line."""
    m = _FIELD["Topic"].search(text or "")
    if not m:
        return None
    rest = text[m.start():]

    def field(k: str) -> str:
        f = _FIELD[k].search(rest)
        return f.group(1).strip() if f else ""

    points = tuple(p.strip() for p in field("Key points").split(";") if p.strip())
    n = re.search(r"\d+", field("Length"))
    return Brief(field("Topic"), field("Audience"), points, int(n.group()) if n else 400)


def _last_block(text: str, heading: str) -> str:
    i = (text or "").rfind(heading)
    return "" if i < 0 else text[i + len(heading):]


def plan_sections(text: str) -> list[str]:
    """Sections of the last plan in ``text`` (``Sections: a; b`` after ``## Plan``)."""
    m = re.search(r"^Sections:[ \t]*(.+)$", _last_block(text, "## Plan"), re.MULTILINE)
    return [s.strip() for s in m.group(1).split(";") if s.strip()] if m else []


def draft_sections(text: str) -> list[str]:
    """``### `` section headings of ``text``, in order."""
    return [m.group(1).strip() for m in re.finditer(r"^###[ \t]+(.+)$", text or "", re.MULTILINE)]


def word_count(text: str) -> int:
    """Words of an article: whitespace-separated tokens, headings' markup excluded."""
    return len([w for w in re.sub(r"^#+\s*", "", text or "", flags=re.MULTILINE).split() if w.strip("#")])


def verdict(text: str) -> str | None:
    """``approved`` or ``revise`` from the last ``VERDICT:`` line of ``text``; None without one."""
    found = re.findall(r"VERDICT:[ \t]*(approved|revise)", text or "", re.IGNORECASE)
    return found[-1].lower() if found else None


def missing_line(text: str) -> list[str]:
    """Sections an editor's last ``Missing: a; b`` line names."""
    found = re.findall(r"^Missing:[ \t]*(.+)$", text or "", re.MULTILINE)
    return [s.strip() for s in found[-1].split(";") if s.strip()] if found else []
