"""The marketing agency's agent names, prompts and deliverable formats.

Every agent's instruction opens with a marker sentence (``*_MARKER``) used by no other
agent, so the simulated service's policies tell the roles apart from the system prompt
alone. (ADK also puts the other agents' names and descriptions into each system prompt;
descriptions never contain a marker.) Deliverables are markdown sections with fixed
headings (``SECTION_HEADINGS``) and labelled lines; ``parse_*`` helpers here are the single
definition of those layouts for the agents' prompts, the policies and the judge.
"""

from __future__ import annotations

import re

__all__ = [
    "COORDINATOR", "DOMAIN", "WEBSITE", "STRATEGY", "LOGO", "SPECIALISTS",
    "COORDINATOR_MARKER", "DOMAIN_MARKER", "WEBSITE_MARKER", "STRATEGY_MARKER", "LOGO_MARKER",
    "INSTRUCTIONS", "DESCRIPTIONS", "SECTION_HEADINGS", "Brief", "format_brief", "parse_brief",
    "sections", "slugify",
]

COORDINATOR = "marketing_coordinator"
DOMAIN = "domain_create_agent"
WEBSITE = "website_create_agent"
STRATEGY = "marketing_create_agent"
LOGO = "logo_create_agent"
SPECIALISTS = (DOMAIN, WEBSITE, STRATEGY, LOGO)
"""The four specialists, in the order the coordinator works through them."""

COORDINATOR_MARKER = "You coordinate a small marketing agency that prepares launch kits."
DOMAIN_MARKER = "You are the domain-name specialist of a marketing agency."
WEBSITE_MARKER = "You are the website designer of a marketing agency."
STRATEGY_MARKER = "You are the marketing strategist of a marketing agency."
LOGO_MARKER = "You are the logo designer of a marketing agency."

SECTION_HEADINGS = {
    DOMAIN: "## Domain options",
    WEBSITE: "## Website",
    STRATEGY: "## Marketing strategy",
    LOGO: "## Logo",
}
"""Markdown heading of each specialist's deliverable."""

_BACK = f"When your section is written, hand control back with transfer_to_agent(agent_name='{COORDINATOR}')."

INSTRUCTIONS = {
    COORDINATOR: (
        f"{COORDINATOR_MARKER} The user gives a business brief (Business, Product, Audience, Location, "
        "Goal). Work through your specialists one at a time with transfer_to_agent: "
        f"{DOMAIN} for domain names, {WEBSITE} for the website outline, {STRATEGY} for the marketing "
        f"strategy and {LOGO} for the logo. When all four sections exist in the conversation, reply to "
        "the user with the launch kit: a first line '# Launch kit for <Business>' followed by the four "
        "sections exactly as the specialists wrote them."
    ),
    DOMAIN: (
        f"{DOMAIN_MARKER} Propose four to six available-sounding domain names for the business in the "
        f"brief. Write a section headed '{SECTION_HEADINGS[DOMAIN]}' with one domain per line as '- name.tld' "
        f"and a last line 'Recommended: name.tld'. {_BACK}"
    ),
    WEBSITE: (
        f"{WEBSITE_MARKER} Outline the business's website. Write a section headed "
        f"'{SECTION_HEADINGS[WEBSITE]}' with the lines 'Headline: ...', 'Pages: page, page, ...' (at least "
        f"three pages) and 'Call to action: ...'. {_BACK}"
    ),
    STRATEGY: (
        f"{STRATEGY_MARKER} Write the launch marketing strategy. Write a section headed "
        f"'{SECTION_HEADINGS[STRATEGY]}' with the lines 'Audience: ...', 'Positioning: ...', "
        f"'Channels: channel, channel, ...' and 'Launch plan: ...'. {_BACK}"
    ),
    LOGO: (
        f"{LOGO_MARKER} Design the logo. When the render_logo tool is available, call it once with the "
        "business name, a style and a palette, and cite the file it returns. Write a section headed "
        f"'{SECTION_HEADINGS[LOGO]}' with the lines 'Concept: ...', 'Palette: ...' and, when rendered, "
        f"'File: ...'. {_BACK}"
    ),
}
"""Each agent's instruction (its system prompt in ADK)."""

DESCRIPTIONS = {
    COORDINATOR: "Runs the agency: routes the brief to the specialists and assembles the launch kit.",
    DOMAIN: "Suggests domain names for a new business.",
    WEBSITE: "Outlines the website of a new business.",
    STRATEGY: "Plans the launch marketing of a new business.",
    LOGO: "Designs and renders the logo of a new business.",
}
"""Each agent's description (ADK shows these to the other agents for routing)."""


class Brief:
    """A business brief: the labelled fields of the user's message."""

    FIELDS = ("Business", "Product", "Audience", "Location", "Goal")

    def __init__(self, business: str, product: str = "", audience: str = "", location: str = "", goal: str = ""):
        self.business = business
        self.product = product
        self.audience = audience
        self.location = location
        self.goal = goal

    def __repr__(self) -> str:
        return f"Brief({self.business!r})"


def format_brief(brief: Brief) -> str:
    """The user message for ``brief``."""
    values = (brief.business, brief.product, brief.audience, brief.location, brief.goal)
    lines = [f"{k}: {v}" for k, v in zip(Brief.FIELDS, values) if v]
    return "\n".join(lines) + "\n\nPrepare the launch kit: domain names, website outline, marketing strategy and logo."


_FIELD_RE = {k: re.compile(rf"^{k}:[ \t]*(.+)$", re.MULTILINE) for k in Brief.FIELDS}


def parse_brief(text: str) -> Brief | None:
    """The first brief found in ``text`` (None when there is no ``Business:`` line)."""
    m = _FIELD_RE["Business"].search(text or "")
    if not m:
        return None
    start = m.start()
    vals = {}
    for k in Brief.FIELDS:
        mk = _FIELD_RE[k].search(text, start)
        vals[k.lower()] = mk.group(1).strip() if mk else ""
    return Brief(vals["business"], vals["product"], vals["audience"], vals["location"], vals["goal"])


def sections(text: str) -> dict[str, str]:
    """Specialist -> body of the LAST section with its heading in ``text`` (heading excluded).

    A body runs to the next heading, a blank line, or ADK's quoting frame (``<<<...>>>``,
    ``For context:``, ``[agent] ...``), whichever comes first.
    """
    out: dict[str, str] = {}
    lines = (text or "").splitlines()
    for agent, heading in SECTION_HEADINGS.items():
        # ADK quotes other agents as "[agent] said: <text>", so a heading may end a line.
        idx = [i for i, ln in enumerate(lines) if ln.strip().lower().endswith(heading.lower())]
        if not idx:
            continue
        body: list[str] = []
        for ln in lines[idx[-1] + 1:]:
            s = ln.strip()
            if s.startswith(("#", "<<<", "For context", "[")):
                break
            if not s and body:
                break
            if s:
                body.append(s)
        out[agent] = "\n".join(body)
    return out


def slugify(name: str) -> str:
    """``Crumb & Co`` -> ``crumbandco`` (letters and digits only, ``&`` read as ``and``)."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower().replace("&", "and"))
