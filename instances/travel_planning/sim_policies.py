"""Simulated-model behaviour for Travel Planning's four roles.

Each policy recognises its role by the marker sentence opening the role's system prompt
and reads the travel request (``<N>-day trip to <Destination>``) from the conversation;
randomness comes only from ``ctx.rng``. Length follows the profile's ``verbosity``
(more sentences per day or tip). Nobody calls a tool (the team has none).

* Planner: one ``Day <n>:`` line per requested day.
* Local guide: suggestions tied to days of the trip.
* Language adviser: a few tips on language and customs.
* Summary (itinerary editor): the final itinerary, always ending with ``TERMINATE`` so the
  round-robin order stays fixed. With probability ``accuracy`` it is complete (destination
  named, days 1..N); otherwise it fails as ``ctx.failure_mix`` draws: ``underspecified``
  (never names the destination), ``wrong`` (drops the last day, or adds one beyond N for
  one-day trips) or ``empty`` (just ``TERMINATE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maestro.instances.sim_kit import MarkerPolicy, padding_count, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest

from .prompts import LANGUAGE_MARKER, LOCAL_MARKER, PLANNER_MARKER, SUMMARY_MARKER, TERMINATE, parse_request

__all__ = ["PlannerPolicy", "LocalGuidePolicy", "LanguagePolicy", "SummaryPolicy", "POLICIES",
           "register_sim_policies", "request_of"]

_ACTIVITIES = (
    "a walk through the old town", "the main museum", "a food market at lunchtime", "a viewpoint at sunset",
    "a half-day trip to the surroundings", "a local cooking class", "a boat or tram ride across town",
    "a slow morning in a neighbourhood cafe", "the botanical garden", "an evening food tour",
)
_LOCAL = (
    "eat where the queue is made of residents, not tourists", "buy a transit day pass on arrival",
    "visit the busiest sights right at opening time", "try the market stalls for breakfast",
    "walk between the central districts rather than taking taxis", "book dinner a day ahead at weekends",
)
_LANGUAGE = (
    "learn the words for hello, please and thank you", "greet shop staff when you walk in",
    "carry a card with your hotel address written in the local language",
    "ask before taking photos of people", "check whether tipping is expected before you pay",
    "speak slowly and simply; a translation app covers the rest",
)
_PADDING = (
    "This keeps the pace comfortable.", "It leaves room for the weather to change plans.",
    "Distances stay short between stops.", "It balances busy and quiet moments.",
)


def request_of(request: SimRequest) -> tuple[int, str]:
    """``(days, destination)`` from the first message that holds a travel request;
    ``(3, "your destination")`` when none does."""
    for m in request.messages:
        if m.role == "system":
            continue
        parsed = parse_request(m.content)
        if parsed:
            return parsed
    return 3, "your destination"


def _extra(ctx: PolicyContext) -> int:
    """Sentences added per item for the profile's verbosity (0 when terse)."""
    return padding_count(ctx.verbosity, cap=6, per_unit=2)


def _pad(ctx: PolicyContext) -> str:
    n = _extra(ctx)
    return (" " + " ".join(ctx.rng.choice(_PADDING) for _ in range(n))) if n else ""


def _tips(title: str, n: int, ctx: PolicyContext, tip: Callable[[], str]) -> SimReply:
    """``title`` over ``n`` bullet lines, each ``tip()`` then its padding (drawn in that order)."""
    return SimReply(text=title + "\n" + "\n".join(f"- {tip()}.{_pad(ctx)}" for _ in range(n)))


def _days(days: int, dest: str, ctx: PolicyContext) -> list[str]:
    picks = [ctx.rng.choice(_ACTIVITIES) for _ in range(days)]
    return [f"Day {d}: {a} in {dest}.{_pad(ctx)}" for d, a in enumerate(picks, start=1)]


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """Day-by-day outline."""

    name: str = "travel_planning.planner"
    marker: str = PLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        days, dest = request_of(request)
        lines = [f"Outline for {days} days in {dest}:"] + _days(days, dest, ctx)
        return SimReply(text="\n".join(lines))


@dataclass(frozen=True)
class LocalGuidePolicy(MarkerPolicy):
    """Local suggestions, tied to days."""

    name: str = "travel_planning.local"
    marker: str = LOCAL_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        days, dest = request_of(request)
        return _tips(f"Local suggestions for {dest}:", min(days, 2 + _extra(ctx)), ctx,
                     lambda: f"On day {ctx.rng.randint(1, days)}, {ctx.rng.choice(_LOCAL)}")


@dataclass(frozen=True)
class LanguagePolicy(MarkerPolicy):
    """Language and etiquette tips."""

    name: str = "travel_planning.language"
    marker: str = LANGUAGE_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        _, dest = request_of(request)
        return _tips(f"Language and customs in {dest}:", 2 + _extra(ctx), ctx,
                     lambda: ctx.rng.choice(_LANGUAGE).capitalize())


@dataclass(frozen=True)
class SummaryPolicy(MarkerPolicy):
    """The final itinerary (complete, or failing as the profile's failure mix says)."""

    name: str = "travel_planning.summary"
    marker: str = SUMMARY_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        days, dest = request_of(request)
        rng = ctx.rng
        if rng.random() < ctx.accuracy:
            mode = "complete"
        else:
            mode = ctx.failure_mix.draw(rng)
        if mode == "empty":
            return SimReply(text=TERMINATE)
        shown_days = days
        name = dest
        if mode == "wrong":
            shown_days = days - 1 if days > 1 else days + 1
        elif mode == "underspecified":
            name = "the destination"
        body = [f"Final itinerary: {shown_days} days in {name}."] + _days(shown_days, name, ctx)
        tip = rng.choice(_LANGUAGE)
        body.append(f"Language tip: {tip}.")
        body.append(TERMINATE)
        return SimReply(text="\n".join(body))


POLICIES = (PlannerPolicy(), LocalGuidePolicy(), LanguagePolicy(), SummaryPolicy())
"""The four role policies."""


def register_sim_policies() -> None:
    """Register the four policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
