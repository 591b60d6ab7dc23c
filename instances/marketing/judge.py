"""The marketing agency's judge: is the launch kit complete and about the right business?

The answer is the coordinator's final reply. A deliverable counts as present when its
section (``prompts.SECTION_HEADINGS``) is in the answer with the items its layout requires:

* domain options: at least one domain name (``name.tld``), one of which contains the
  business's slug (``Crumb & Co`` -> ``crumbandco``);
* website: a ``Pages:`` line listing at least three pages;
* marketing strategy: ``Audience:`` and ``Channels:`` lines;
* logo: a ``Concept:`` line (a ``File:`` line is reported but not required: with tools off
  there is nothing to render).

The answer must also name the business. ``correct`` when all four deliverables are
present and the business is named; otherwise ``wrong``, with the missing parts in the
reason. There is no reference text to compare with (Open-End output), so no F1.
"""

from __future__ import annotations

import re

from maestro.contract import JudgeResult, Task

from .prompts import DOMAIN, LOGO, SPECIALISTS, STRATEGY, WEBSITE, parse_brief, sections, slugify

__all__ = ["judge", "deliverables_present"]

_DOMAIN_RE = re.compile(r"\b([a-z0-9][a-z0-9-]*)\.(com|co|io|shop|net|org|store|app)\b", re.IGNORECASE)
_LABEL = {DOMAIN: "domain", WEBSITE: "website", STRATEGY: "strategy", LOGO: "logo"}


def _has_line(body: str, label: str) -> str | None:
    m = re.search(rf"^{label}:[ \t]*(\S.*)$", body, re.MULTILINE | re.IGNORECASE)
    return m.group(1).strip() if m else None


def deliverables_present(answer: str, business: str) -> dict[str, bool]:
    """Specialist -> whether its deliverable is in ``answer`` with the required items."""
    found = sections(answer)
    slug = slugify(business)
    out = {}
    body = found.get(DOMAIN, "")
    domains = [m.group(1).lower().replace("-", "") for m in _DOMAIN_RE.finditer(body)]
    out[DOMAIN] = bool(domains) and (not slug or any(slug in d for d in domains))
    pages = _has_line(found.get(WEBSITE, ""), "Pages") or ""
    out[WEBSITE] = len([p for p in pages.split(",") if p.strip()]) >= 3
    body = found.get(STRATEGY, "")
    out[STRATEGY] = bool(_has_line(body, "Audience")) and bool(_has_line(body, "Channels"))
    out[LOGO] = bool(_has_line(found.get(LOGO, ""), "Concept"))
    return out


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Judge ``answer`` for ``task`` (see the module docstring)."""
    if not answer or not answer.strip():
        return JudgeResult("wrong", "no launch kit (empty answer)")
    business = str(task.meta.get("business") or "")
    if not business:
        brief = parse_brief(task.question)
        business = brief.business if brief else ""
    present = deliverables_present(answer, business)
    missing = [_LABEL[a] for a in SPECIALISTS if not present[a]]
    named = bool(business) and business.lower() in answer.lower()
    n = len(SPECIALISTS) - len(missing)
    reason = f"deliverables {n}/{len(SPECIALISTS)}"
    if missing:
        reason += f"; missing or incomplete: {', '.join(missing)}"
    if not named:
        reason += f"; business {business!r} not named"
    rendered = _has_line(sections(answer).get(LOGO, ""), "File") is not None
    reason += f"; logo file {'cited' if rendered else 'not cited'}"
    return JudgeResult("correct" if not missing and named else "wrong", reason)
