"""CRAG's prompts, and the formats of the messages its agents exchange with the model.

Every role's system prompt opens with a marker sentence (the ``*_MARKER`` constants) that
no other role uses, so the simulated service's policies can tell the roles apart by
looking at the system prompt alone. User messages follow fixed layouts (``Question:``
first, then the material), and the ``parse_*`` helpers here are the single definition of
those layouts for both the graph and the policies.
"""

from __future__ import annotations

import json
import re
from typing import Any

from maestro.instances.qa_world.prompt_text import question_line, section

__all__ = [
    "GRADER_MARKER",
    "REWRITER_MARKER",
    "GENERATOR_MARKER",
    "GRADER_SYSTEM",
    "REWRITER_SYSTEM",
    "GENERATOR_SYSTEM",
    "format_doc",
    "format_grader_input",
    "format_rewriter_input",
    "format_generator_input",
    "parse_grader_input",
    "parse_rewriter_input",
    "parse_generator_input",
    "parse_grade",
    "parse_rewrite",
    "extract_answer",
]

GRADER_MARKER = "You are the relevance grader of a corrective retrieval team."
"""First sentence of the grader's system prompt (policies match on it)."""
REWRITER_MARKER = "You are the search-query rewriter of a corrective retrieval team."
"""First sentence of the query rewriter's system prompt."""
GENERATOR_MARKER = "You are the answer writer of a corrective retrieval team."
"""First sentence of the answer generator's system prompt."""

GRADER_SYSTEM = (
    f"{GRADER_MARKER} You receive a user question and one document returned by a search. "
    "Decide whether the document is useful for answering the question: it is relevant when it "
    "states a fact the answer depends on, or names an entity the answer goes through. A document "
    "that only shares a name or a topic with the question, without such a fact, is not relevant. "
    "Reply with exactly one lowercase word: yes or no."
)
"""System prompt of ``grade_documents``."""

REWRITER_SYSTEM = (
    f"{REWRITER_MARKER} A search for the user question did not return enough relevant documents. "
    "You receive the original question and the notes found so far. Write one new search query "
    "that targets the piece of information that is still missing: when the notes already "
    "identify an intermediate person, place or organisation, ask about that entity directly. "
    "Reply with the query alone on one line, without quotes or commentary."
)
"""System prompt of ``transform_query``."""

GENERATOR_SYSTEM = (
    f"{GENERATOR_MARKER} Answer the user question using only the documents provided. "
    "Chain facts across documents when the question needs several steps. Start your reply with a "
    "line of the form 'Answer: <short answer>' naming the entity, with no other words on that "
    "line; you may add at most a few sentences of justification after it. If the documents do "
    "not contain the answer, say so on the answer line instead of guessing."
)
"""System prompt of ``generate``."""


def format_doc(doc: dict[str, Any]) -> str:
    """One document as shown to a model: ``<title>: <text>``."""
    title = str(doc.get("title") or "").strip()
    text = str(doc.get("text") or "").strip()
    return f"{title}: {text}" if title else text


def format_grader_input(question: str, doc: dict[str, Any]) -> str:
    """The grader's user message for one document."""
    return f"Question: {question}\n\nDocument:\n{format_doc(doc)}\n\nIs this document relevant to the question? (yes/no)"


def format_rewriter_input(question: str, notes: list[dict[str, Any]]) -> str:
    """The rewriter's user message: the original question and the relevant notes so far."""
    body = "\n".join(f"- {format_doc(d)}" for d in notes) if notes else "(none)"
    return f"Question: {question}\n\nNotes found so far:\n{body}\n\nWrite the improved search query."


def format_generator_input(question: str, docs: list[dict[str, Any]]) -> str:
    """The generator's user message: the question and numbered documents."""
    body = "\n".join(f"[{i}] {format_doc(d)}" for i, d in enumerate(docs, start=1)) if docs else "(none)"
    return f"Question: {question}\n\nDocuments:\n{body}\n\nAnswer the question."



def parse_grader_input(text: str) -> tuple[str, str]:
    """``(question, document text)`` from a grader user message."""
    return question_line(text), section(text, "Document:\n", "\n\nIs this document relevant", last_footer=True)


def parse_rewriter_input(text: str) -> tuple[str, str]:
    """``(question, notes text)`` from a rewriter user message."""
    return question_line(text), section(text, "Notes found so far:\n", "\n\nWrite the improved", last_footer=True)


def parse_generator_input(text: str) -> tuple[str, str]:
    """``(question, documents text)`` from a generator user message."""
    return question_line(text), section(text, "Documents:\n", "\n\nAnswer the question.", last_footer=True)


_WORD = re.compile(r"[A-Za-z]+")


def parse_grade(text: str | None) -> bool:
    """True when a grader reply says yes.

    Accepts a bare word ("Yes.", "no"), a word followed by an explanation, or a JSON object
    whose first string value is the word (a structured-output reply).
    """
    if not text:
        return False
    t = text.strip()
    if t.startswith("{"):
        try:
            obj = json.loads(t)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            t = next((v for v in obj.values() if isinstance(v, str)), "")
    m = _WORD.search(t)
    return m is not None and m.group(0).lower() == "yes"


_REWRITE_PREFIX = re.compile(
    r"^(?:(?:improved|rewritten|new|better|search)\s+)?(?:search\s+)?(?:query|question)\s*:\s*", re.IGNORECASE
)


def parse_rewrite(text: str | None) -> str:
    """The query in a rewriter reply: its first non-empty line, without a label or quotes."""
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        line = _REWRITE_PREFIX.sub("", line).strip()
        return line.strip("\"'`").strip()
    return ""


_ANSWER_LINE = re.compile(r"^\W*(?:final\s+)?answer\W*?[:\-]\s*(.*)$", re.IGNORECASE)


def extract_answer(text: str | None) -> str:
    """The final answer in a generator reply.

    The text after ``Answer:`` on the first non-empty line, else on any later line that
    starts with it, else the whole reply; stripped of markdown emphasis and a final period.
    """
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        return ""
    found = None
    for ln in lines:
        m = _ANSWER_LINE.match(ln)
        if m:
            found = m.group(1)
            break
    ans = found if found is not None else " ".join(lines)
    ans = ans.strip().strip("*_").strip()
    if found is not None and ans.endswith("."):
        ans = ans[:-1].rstrip()  # "Answer: Brashford." -> "Brashford"
    return ans
