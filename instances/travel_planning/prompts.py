"""Travel Planning's prompts, its task layout and the parsers both the team and the
simulated policies use.

Each agent's system prompt opens with a marker sentence (``*_MARKER``) no other role
uses, so a simulated-model policy recognises the role from the system prompt alone. The
travel request always contains the phrase ``<N>-day trip to <Destination>`` (``parse_request``
reads it back), and the summary agent ends its final plan with ``TERMINATE``.
"""

from __future__ import annotations

import re

__all__ = [
    "AGENT_NAMES",
    "PLANNER_MARKER",
    "LOCAL_MARKER",
    "LANGUAGE_MARKER",
    "SUMMARY_MARKER",
    "SYSTEM_PROMPTS",
    "DESCRIPTIONS",
    "TERMINATE",
    "format_request",
    "parse_request",
    "strip_terminate",
    "day_numbers",
]

AGENT_NAMES = ("planner_agent", "local_agent", "language_agent", "travel_summary_agent")
"""The four agents in speaking order (RoundRobinGroupChat keeps it)."""

TERMINATE = "TERMINATE"
"""Word the summary agent ends its final plan with; the team stops on it."""

PLANNER_MARKER = "You are the trip planner of a travel-planning team."
LOCAL_MARKER = "You are the local guide of a travel-planning team."
LANGUAGE_MARKER = "You are the language and etiquette adviser of a travel-planning team."
SUMMARY_MARKER = "You are the itinerary editor of a travel-planning team."

SYSTEM_PROMPTS = {
    "planner_agent": (
        f"{PLANNER_MARKER} Read the traveller's request and draft a day-by-day outline that covers "
        "exactly the number of days asked for, one line per day starting with 'Day <n>:'. Keep "
        "travel between places realistic and leave the details to your teammates."
    ),
    "local_agent": (
        f"{LOCAL_MARKER} Add what a resident would recommend for the destination in the request: "
        "neighbourhoods, food, sights off the usual route and how to get around. Refer to the "
        "days of the outline where your suggestions fit."
    ),
    "language_agent": (
        f"{LANGUAGE_MARKER} Give short, practical advice on the language spoken at the destination "
        "and on local customs: a few useful phrases, how to greet, tipping and what to avoid."
    ),
    "travel_summary_agent": (
        f"{SUMMARY_MARKER} Merge the outline and your teammates' suggestions into one final "
        "itinerary for the traveller: name the destination, give one section per day starting "
        "with 'Day <n>:' for exactly the requested number of days, then a short list of language "
        f"tips. When the itinerary is complete, end your reply with the single word {TERMINATE}."
    ),
}
"""System prompt of each agent."""

DESCRIPTIONS = {
    "planner_agent": "Drafts a day-by-day outline of the trip.",
    "local_agent": "Suggests local activities, food and places to visit.",
    "language_agent": "Advises on language and local customs.",
    "travel_summary_agent": "Writes the final itinerary and ends the conversation.",
}
"""Agent descriptions (what agentchat shows other agents)."""


def format_request(days: int, destination: str, extra: str = "") -> str:
    """A travel request in the layout ``parse_request`` reads."""
    text = f"Please plan a {days}-day trip to {destination}."
    return f"{text} {extra}".strip()


_REQUEST = re.compile(r"\b(\d{1,2})-day trip to ([A-Z][\w'’-]*(?:[ -][A-Z][\w'’-]*)*)")


def parse_request(text: str) -> tuple[int, str] | None:
    """``(days, destination)`` of the first ``<N>-day trip to <Destination>`` in ``text``."""
    m = _REQUEST.search(text or "")
    if not m:
        return None
    return int(m.group(1)), m.group(2).strip()


_DAY = re.compile(r"^\W*day\s+(\d{1,2})\b", re.IGNORECASE | re.MULTILINE)


def day_numbers(text: str) -> list[int]:
    """Numbers of the lines that start a day section (``Day 3: ...``, ``**Day 3**``), in order."""
    return [int(n) for n in _DAY.findall(text or "")]


def strip_terminate(text: str | None) -> str:
    """The reply without its closing ``TERMINATE`` word."""
    t = (text or "").rstrip()
    if t.endswith(TERMINATE):
        t = t[: -len(TERMINATE)].rstrip()
    return t
