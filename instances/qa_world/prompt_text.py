"""Reading the QA instances' user-message layouts back (``Question: ...`` line, sections
between a header and a footer). The prompts of CRAG, Plan-and-Execute and LATS write these
layouts and their simulated-model policies parse them with these functions."""

from __future__ import annotations

import re

__all__ = ["question_line", "section"]

_Q_LINE = re.compile(r"^Question:[ \t]*(.*)$", re.MULTILINE)


def question_line(text: str) -> str:
    """The text after the first ``Question:`` line start, stripped; '' when there is none."""
    m = _Q_LINE.search(text)
    return m.group(1).strip() if m else ""


def section(text: str, header: str, footer: str, *, last_footer: bool = False) -> str:
    """The text between the first ``header`` and the next ``footer`` (the last one in the
    rest of the text when ``last_footer``; to the end when none), stripped; '' when the
    header is missing or the section says ``(none)``."""
    start = text.find(header)
    if start < 0:
        return ""
    body = text[start + len(header):]
    end = body.rfind(footer) if last_footer else body.find(footer)
    body = (body[:end] if end >= 0 else body).strip()
    return "" if body == "(none)" else body
