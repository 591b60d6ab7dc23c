"""Model profiles: a simulated model's capabilities, speed and endpoint faults.

A profile is named in the run's URL (``/sim/{profile}/...``). Its capabilities (knowledge,
reasoning, instruction following, calibration, abstention, verbosity) reach the policies
through :class:`~maestro.sim.policy.PolicyContext`; its speed and error knobs are applied by
the service itself, so a policy never sleeps or raises to simulate them.

The built-in profiles differ only in those numbers (docs/simulation.md). The failure
signatures the MAESTRO paper reports for real models (Table 3) are not set directly: a model
that lacks a fact and notices (calibration) abstains or hedges, one that does not notice
names a wrong entity, and how often it lacks a fact depends on what it knows and what the
architecture put in its context.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from maestro.sim.policy import FailureMix
from maestro.sim.urls import PROFILE_RE

__all__ = ["Profile", "failure_mix_of", "BUILTIN_PROFILES", "get_profile", "list_profiles", "register_profile", "profile_names"]


@dataclass(frozen=True)
class Profile:
    """One simulated model: a few capability parameters, its speed, and its endpoint's faults.

    The capabilities are the whole model of behaviour (docs/simulation.md): whether an answer
    is right, how it is wrong, whether the failure is silent or explicit and how long the
    reply is follow from them and from what the request contains. ``accuracy``,
    ``failure_mix`` and ``strictness`` are derived from them for policies that need one number.
    """

    name: str
    """Name used in URLs (``[A-Za-z0-9_.-]+``)."""
    description: str
    """One line for humans (listed by the CLI and in 404 errors)."""
    ttft_s: float
    """Mean time to first token, in real seconds before ``time_factor`` scaling."""
    tokens_per_s: float
    """Output speed after the first token (tokens by maestro's rule)."""
    verbosity: float
    """Output-length multiplier (1.0 = terse)."""
    reasoning: float
    """Probability that one reasoning step over facts the model has (read from evidence in its
    context, or recalled) is right: reading a passage, chaining a hop, grading a document.
    Longer contexts lower it (docs/simulation.md)."""
    knowledge: float = 0.5
    """Share of the world's facts the model knows without evidence. Which facts it knows is
    fixed per model (a hash of the profile name and the fact), as training fixes it."""
    instruction_following: float = 0.9
    """Probability of following a requested protocol: one plan step per hop, a query aimed at
    the missing fact, the requested answer format."""
    calibration: float = 0.5
    """Probability that the model notices it lacks a fact it needs (then it abstains or
    hedges, or doubts an unsupported claim); otherwise it answers confidently anyway."""
    abstention: float = 0.5
    """When it notices: probability of saying it cannot answer (explicit) rather than hedging
    with a vague answer that names nothing (silent)."""
    p_rate_limit: float = 0.0
    """Probability that a request is answered with HTTP 429 (``Retry-After: 0``)."""
    p_server_error: float = 0.0
    """Probability that a request is answered with HTTP 500."""
    p_stall: float = 0.0
    """Probability that the service stalls ``stall_s`` before answering."""
    stall_s: float = 0.0
    """Length of a stall, in real seconds before ``time_factor`` scaling."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free knobs for your own policies (read through ``PolicyContext.extra``); the built-in
    profiles set none."""

    def __post_init__(self) -> None:
        # Validate early: a bad profile should fail at registration, not mid-run.
        if not PROFILE_RE.match(self.name):
            raise ValueError(f"bad profile name {self.name!r}: use only [A-Za-z0-9_.-]")
        for fname in ("reasoning", "knowledge", "instruction_following", "calibration", "abstention",
                      "p_rate_limit", "p_server_error", "p_stall"):
            v = getattr(self, fname)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"profile {self.name}: {fname}={v} is not in [0, 1]")
        if self.p_rate_limit + self.p_server_error > 1.0:
            raise ValueError(f"profile {self.name}: p_rate_limit + p_server_error > 1")
        if self.tokens_per_s <= 0 or self.ttft_s < 0 or self.stall_s < 0 or self.verbosity <= 0:
            raise ValueError(f"profile {self.name}: speeds, times and verbosity must be positive")

    @property
    def accuracy(self) -> float:
        """Derived: the reliability of one reasoning step (``reasoning``)."""
        return self.reasoning

    @property
    def failure_mix(self) -> FailureMix:
        """Derived: how a model that lacks a fact fails. Unaware (``1 - calibration``) it names a
        wrong entity; aware, it abstains (``abstention``) or hedges vaguely."""
        return failure_mix_of(self.calibration, self.abstention)

    @property
    def strictness(self) -> float:
        """Derived: how readily it rejects unsupported material as grader or reviewer (a model
        that notices what it lacks notices what a text lacks): ``calibration``."""
        return self.calibration

    def summary(self) -> dict[str, Any]:
        """A JSON-able row (for listings)."""
        return {
            "name": self.name,
            "description": self.description,
            "knowledge": self.knowledge,
            "reasoning": self.reasoning,
            "instruction_following": self.instruction_following,
            "calibration": self.calibration,
            "abstention": self.abstention,
            "verbosity": self.verbosity,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "p_rate_limit": self.p_rate_limit,
            "p_server_error": self.p_server_error,
            "p_stall": self.p_stall,
            "stall_s": self.stall_s,
        }


def failure_mix_of(calibration: float, abstention: float) -> FailureMix:
    """The failure weights a model with these two capabilities shows when it lacks a fact."""
    return FailureMix(underspecified=calibration * (1.0 - abstention), wrong=1.0 - calibration,
                      empty=calibration * abstention)


BUILTIN_PROFILES: tuple[Profile, ...] = (
    Profile(
        name="strong",
        description="Knows much, reasons reliably, follows instructions; fast.",
        ttft_s=0.35, tokens_per_s=150.0, verbosity=1.0,
        knowledge=0.6, reasoning=0.95, instruction_following=0.95, calibration=0.7, abstention=0.4,
    ),
    Profile(
        name="verbose",
        description="Fairly capable, long-winded and slow.",
        ttft_s=0.8, tokens_per_s=55.0, verbosity=2.5,
        knowledge=0.5, reasoning=0.88, instruction_following=0.85, calibration=0.6, abstention=0.3,
    ),
    Profile(
        name="underspecified",
        description="Knows little and notices it, then hedges: vague answers that name nothing.",
        ttft_s=0.5, tokens_per_s=90.0, verbosity=1.8,
        knowledge=0.3, reasoning=0.85, instruction_following=0.8, calibration=0.85, abstention=0.1,
    ),
    Profile(
        name="abstaining",
        description="Knows little and notices it, then says it cannot answer.",
        ttft_s=0.4, tokens_per_s=110.0, verbosity=0.8,
        knowledge=0.3, reasoning=0.85, instruction_following=0.85, calibration=0.9, abstention=0.9,
    ),
    Profile(
        name="confabulating",
        description="Rarely notices what it does not know: confidently names a wrong entity.",
        ttft_s=0.25, tokens_per_s=170.0, verbosity=1.1,
        knowledge=0.4, reasoning=0.8, instruction_following=0.8, calibration=0.1, abstention=0.3,
    ),
    Profile(
        name="flaky",
        description="A decent model behind a flaky endpoint: 429s, 500s and stalls.",
        ttft_s=0.6, tokens_per_s=80.0, verbosity=1.0,
        knowledge=0.45, reasoning=0.88, instruction_following=0.85, calibration=0.5, abstention=0.5,
        p_rate_limit=0.15, p_server_error=0.08, p_stall=0.05, stall_s=30.0,
    ),
    Profile(
        name="oracle",
        description="Knows everything, never slips, instant (for tests and upper bounds).",
        ttft_s=0.0, tokens_per_s=1000.0, verbosity=1.0,
        knowledge=1.0, reasoning=1.0, instruction_following=1.0, calibration=1.0, abstention=0.5,
    ),
)

_LOCK = threading.Lock()
_PROFILES: dict[str, Profile] = {p.name: p for p in BUILTIN_PROFILES}


def register_profile(profile: Profile, *, replace: bool = True) -> Profile:
    """Make ``profile`` available to every server in this process. Returns it.

    With ``replace=False`` an existing name raises ValueError (guards against typos that
    would silently shadow a built-in).
    """
    if not isinstance(profile, Profile):
        raise TypeError(f"expected a Profile, got {type(profile).__name__}")
    with _LOCK:
        if not replace and profile.name in _PROFILES:
            raise ValueError(f"profile {profile.name!r} already registered")
        _PROFILES[profile.name] = profile
    return profile


def get_profile(name: str) -> Profile:
    """The profile called ``name``; KeyError naming the known ones otherwise."""
    with _LOCK:
        p = _PROFILES.get(name)
        if p is None:
            raise KeyError(f"unknown profile {name!r}; known profiles: {', '.join(sorted(_PROFILES))}")
        return p


def list_profiles() -> list[Profile]:
    """All registered profiles, built-ins first, in registration order."""
    with _LOCK:
        return list(_PROFILES.values())


def profile_names() -> list[str]:
    """Names of all registered profiles."""
    return [p.name for p in list_profiles()]
