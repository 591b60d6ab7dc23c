"""Building blocks every instance's simulated-model policies share (simulated behaviour).

A role policy recognises its role by a marker sentence in the system prompt
(:class:`MarkerPolicy`), pads its reply with filler sentences in proportion to the
profile's verbosity (:func:`pad`) and is registered with the simulated service by name
(:func:`register_policies`). Framework-free: the simulated service imports it.
Every random choice takes the caller's seeded ``rng``, in the order the docstrings give.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maestro.sim.policy import Policy, SimRequest, register_policy

__all__ = ["MarkerPolicy", "register_policies", "clamp", "padding_count", "pad"]


@dataclass(frozen=True)
class MarkerPolicy:
    """Matches requests whose system prompt contains ``marker`` (subclasses add ``respond``)."""

    name: str
    """Unique policy name (registering another policy under it replaces this one)."""
    marker: str
    """The role's marker sentence."""

    def matches(self, request: SimRequest) -> bool:
        return self.marker in request.system


def register_policies(policies: Iterable[Policy]) -> None:
    """Register ``policies`` with the simulated service, in order (idempotent: same names
    replace)."""
    for p in policies:
        register_policy(p)


def clamp(p: float) -> float:
    """``p`` as a probability: clipped to [0, 1]."""
    return max(0.0, min(1.0, float(p)))


def padding_count(verbosity: float, cap: int, per_unit: float = 3.0) -> int:
    """How many filler sentences a reply gets: ``per_unit`` for each unit of verbosity above
    1 (rounded), at most ``cap``; none for a terse profile."""
    return min(cap, max(0, round((verbosity - 1.0) * per_unit)))


def pad(text: str, rng: random.Random, verbosity: float, sentences: Sequence[str], cap: int,
        first: str | None = None) -> str:
    """``text``, then a line of filler sentences (``padding_count(verbosity, cap)`` of them,
    each drawn with ``rng.choice(sentences)`` in turn) led by ``first`` when given; ``text``
    alone when the count is 0."""
    n = padding_count(verbosity, cap)
    extra = ([first] if first and n else []) + [rng.choice(sentences) for _ in range(n)]
    return text if not extra else text + "\n" + " ".join(extra)
