"""Simulated-model behaviour for the marketing agency's five roles.

Each policy recognises its role by the marker sentence of the role's instruction and reads
the business brief from the conversation (``prompts.parse_brief``). Randomness comes only
from ``ctx.rng``, so a run's seed fixes every reply.

* Coordinator: hands over with a ``transfer_to_agent`` call to the first specialist (in
  ``SPECIALISTS`` order) whose section is not yet in the conversation and who has not been
  visited yet; when none is left, it answers with the launch kit: ``# Launch kit for X``
  followed by every specialist section found. Control flow therefore depends on the
  model's answers: a specialist that produced nothing is not asked again, and its section
  is missing from the kit.
* Specialists (domain, website, strategy, logo): write their section and, in the same
  reply, hand back with ``transfer_to_agent(marketing_coordinator)``. The logo designer
  first calls ``render_logo`` when the tool is offered (tools on) and cites the file.
* Every role fails with probability ``(1 - accuracy) / 2`` in the way the profile's
  ``failure_mix`` draws: ``empty`` (no text; the abstaining profile mostly does this),
  ``underspecified`` (the heading with a vague line and none of the labelled items) or
  ``wrong`` (a deliverable for another business). ``verbosity`` adds rationale lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from maestro.instances.sim_kit import MarkerPolicy, padding_count, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    COORDINATOR,
    COORDINATOR_MARKER,
    DOMAIN,
    DOMAIN_MARKER,
    LOGO,
    LOGO_MARKER,
    SECTION_HEADINGS,
    SPECIALISTS,
    STRATEGY,
    STRATEGY_MARKER,
    WEBSITE,
    WEBSITE_MARKER,
    Brief,
    parse_brief,
    sections,
    slugify,
)

__all__ = ["CoordinatorPolicy", "SpecialistPolicy", "POLICIES", "register_sim_policies", "OTHER_BUSINESSES",
           "visited_specialists"]

TRANSFER = "transfer_to_agent"
RENDER = "render_logo"

OTHER_BUSINESSES = ("Northwind Goods", "Brightmoor Books", "Saltmarsh Cider", "Hollowpine Studio")
"""Names a confabulating model writes about instead of the brief's business."""

_RATIONALE = (
    "Rationale: it keeps the message short and easy to remember.",
    "Rationale: it speaks to what the audience already cares about.",
    "Rationale: it leaves room to grow into new products later.",
    "Rationale: it works on a phone screen as well as on print.",
    "Rationale: it can be tested cheaply in the first weeks.",
)
_CHANNELS = ("Instagram", "local press", "email newsletter", "search ads", "partnerships with nearby businesses",
             "TikTok", "community events", "referral programme", "podcast sponsorships")
_PAGES = ("Home", "About", "Shop", "Services", "Contact", "FAQ", "Blog", "Pricing", "Visit us")


def _fails(ctx: PolicyContext) -> str | None:
    """The failure mode of this reply, or None when the role does its job."""
    if ctx.rng.random() < (1.0 - ctx.accuracy) / 2.0:
        return ctx.failure_mix.draw(ctx.rng)
    return None


def _rationale(ctx: PolicyContext) -> list[str]:
    n = padding_count(ctx.verbosity, cap=len(_RATIONALE), per_unit=2)
    return ctx.rng.sample(_RATIONALE, n) if n else []


def visited_specialists(request: SimRequest) -> set[str]:
    """Specialists the coordinator already handed over to (its own transfer calls) or that
    already spoke (ADK quotes other agents as ``[agent] ...``)."""
    seen = set()
    for m in request.messages:
        for tc in m.tool_calls:
            if tc.name == TRANSFER and isinstance(tc.arguments, dict):
                seen.add(str(tc.arguments.get("agent_name", "")))
    text = request.text
    seen.update(a for a in SPECIALISTS if f"[{a}]" in text)
    return seen & set(SPECIALISTS)


def _offers(request: SimRequest, name: str) -> bool:
    return any(t.name == name for t in request.tools)


@dataclass(frozen=True)
class CoordinatorPolicy(MarkerPolicy):
    """Routes to the next specialist, then assembles the kit (module docstring)."""

    name: str = "marketing.coordinator"
    marker: str = COORDINATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = request.text
        done = sections(text)
        if _offers(request, TRANSFER):
            visited = visited_specialists(request)
            for agent in SPECIALISTS:
                if agent not in done and agent not in visited:
                    return SimReply(tool_calls=(SimToolCall(TRANSFER, {"agent_name": agent}),))
        brief = parse_brief(text)
        business = brief.business if brief else "the business"
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        if mode == "underspecified":
            return SimReply(text=f"# Launch kit for {business}\n\nThe team has prepared what the brief asked for.")
        if mode == "wrong":
            business = ctx.rng.choice(OTHER_BUSINESSES)
        parts = [f"# Launch kit for {business}"]
        for agent in SPECIALISTS:
            if agent in done and done[agent]:
                parts.append(f"{SECTION_HEADINGS[agent]}\n{done[agent]}")
        return SimReply(text="\n\n".join(parts))


def _domain(brief: Brief, ctx: PolicyContext) -> list[str]:
    slug = slugify(brief.business) or "newbrand"
    place = slugify(brief.location.split(",")[0])[:12]
    pool = [f"{slug}.com", f"get{slug}.com", f"{slug}.co", f"{slug}.shop", f"hello{slug}.com", f"{slug}hq.com"]
    if place:
        pool.append(f"{slug}{place}.com")
    k = ctx.rng.randint(4, min(6, len(pool)))
    picked = ctx.rng.sample(pool, k)
    return [f"- {d}" for d in picked] + [f"Recommended: {picked[0]}"]


def _website(brief: Brief, ctx: PolicyContext) -> list[str]:
    pages = ["Home", "About"] + ctx.rng.sample(_PAGES[2:], ctx.rng.randint(2, 3))
    return [f"Headline: {brief.business}: {brief.product or 'made for you'}",
            f"Pages: {', '.join(pages)}",
            f"Call to action: {ctx.rng.choice(('Book now', 'Order today', 'Start free', 'Visit us this week'))}"]


def _strategy(brief: Brief, ctx: PolicyContext) -> list[str]:
    channels = ctx.rng.sample(_CHANNELS, 3)
    return [f"Audience: {brief.audience or 'early adopters nearby'}",
            f"Positioning: {brief.business} is the simplest way to get {brief.product or 'what it offers'}"
            + (f" in {brief.location}" if brief.location else ""),
            f"Channels: {', '.join(channels)}",
            f"Launch plan: a four-week push on {channels[0]} aimed to {brief.goal or 'win the first customers'}"]


def _logo(brief: Brief, ctx: PolicyContext, rendered: dict | None) -> list[str]:
    style = (rendered or {}).get("style") or ctx.rng.choice(("badge", "monogram", "emblem", "wordmark"))
    colours = (rendered or {}).get("colours") or ["#1B4965", "#BEE9E8"]
    lines = [f"Concept: a {style} carrying the name {brief.business}", f"Palette: {', '.join(colours)}"]
    if rendered and rendered.get("file"):
        lines.append(f"File: {rendered['file']}")
    return lines


_WRITERS = {DOMAIN: _domain, WEBSITE: _website, STRATEGY: _strategy}


def _tool_result(request: SimRequest, name: str) -> dict | None:
    for m in reversed(request.messages):
        if m.role == "tool" and (m.name in (None, name)):
            try:
                value = json.loads(m.content)
            except (TypeError, ValueError):
                continue
            if isinstance(value, dict):
                return value.get("result", value) if isinstance(value.get("result"), dict) else value
    return None


@dataclass(frozen=True)
class SpecialistPolicy(MarkerPolicy):
    """Writes one specialist's section and hands back to the coordinator."""

    agent: str = DOMAIN

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        brief = parse_brief(request.text) or Brief("the business")
        rendered = _tool_result(request, RENDER) if self.agent == LOGO else None
        if self.agent == LOGO and rendered is None and _offers(request, RENDER):
            args = {"business": brief.business, "style": ctx.rng.choice(("badge", "monogram", "emblem", "wordmark")),
                    "palette": ctx.rng.choice(("warm", "ocean", "forest", "mono", "copper"))}
            return SimReply(tool_calls=(SimToolCall(RENDER, args),))
        back = (SimToolCall(TRANSFER, {"agent_name": COORDINATOR}),) if _offers(request, TRANSFER) else ()
        heading = SECTION_HEADINGS[self.agent]
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="", tool_calls=back)
        if mode == "underspecified":
            return SimReply(text=f"{heading}\nSomething that fits the business well would work here.", tool_calls=back)
        if mode == "wrong":
            brief = Brief(ctx.rng.choice(OTHER_BUSINESSES), brief.product, brief.audience, brief.location, brief.goal)
        lines = _logo(brief, ctx, rendered) if self.agent == LOGO else _WRITERS[self.agent](brief, ctx)
        return SimReply(text="\n".join([heading, *lines, *_rationale(ctx)]), tool_calls=back)


POLICIES = (
    CoordinatorPolicy(),
    SpecialistPolicy("marketing.domain", DOMAIN_MARKER, DOMAIN),
    SpecialistPolicy("marketing.website", WEBSITE_MARKER, WEBSITE),
    SpecialistPolicy("marketing.strategy", STRATEGY_MARKER, STRATEGY),
    SpecialistPolicy("marketing.logo", LOGO_MARKER, LOGO),
)
"""The five policies, in registration order."""


def register_sim_policies() -> None:
    """Register the agency's policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
