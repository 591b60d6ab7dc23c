"""Model profiles: how a simulated model behaves (quality, failure signature, speed, errors).

A profile is named in the run's URL (``/sim/{profile}/...``). Its quality knobs reach the
policies through :class:`~maestro.sim.policy.PolicyContext`; its speed and error knobs are
applied by the service itself, so a policy never sleeps or raises to simulate them.

The built-in profiles reproduce the failure signatures the MAESTRO paper reports for real
models (Table 3): when a model is wrong, some mostly answer vaguely (``underspecified``),
some mostly abstain (``abstaining``) and some confidently name a wrong entity
(``confabulating``).

The four profiles of the architecture study (``strong``, ``underspecified``, ``abstaining``,
``confabulating``) differ in speed (time to first token, tokens per second), verbosity and
failure signature. Knobs of one instance's behaviour per profile live with that instance's
policies (e.g. ``maestro.instances.plan_execute.sim_policies.PROFILE_KNOBS``); a profile's
``extra`` may override them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from maestro.sim.policy import FailureMix
from maestro.sim.urls import PROFILE_RE

__all__ = ["Profile", "BUILTIN_PROFILES", "get_profile", "list_profiles", "register_profile", "profile_names"]


@dataclass(frozen=True)
class Profile:
    """One simulated model's behaviour."""

    name: str
    """Name used in URLs (``[A-Za-z0-9_.-]+``)."""
    description: str
    """One line for humans (listed by the CLI and in 404 errors)."""
    ttft_s: float
    """Mean time to first token, in real seconds before ``time_factor`` scaling."""
    tokens_per_s: float
    """Output speed after the first token (tokens by maestro's rule)."""
    verbosity: float
    """Output-length multiplier (1.0 = terse); passed to policies."""
    accuracy: float
    """Probability of a correct answer when the evidence is in context; passed to policies."""
    failure_mix: FailureMix = field(default_factory=FailureMix)
    """How wrong answers are wrong (underspecified / wrong entity / empty)."""
    strictness: float = 0.5
    """How readily the model rejects when acting as grader or reviewer (0..1)."""
    p_rate_limit: float = 0.0
    """Probability that a request is answered with HTTP 429 (``Retry-After: 0``)."""
    p_server_error: float = 0.0
    """Probability that a request is answered with HTTP 500."""
    p_stall: float = 0.0
    """Probability that the service stalls ``stall_s`` before answering."""
    stall_s: float = 0.0
    """Length of a stall, in real seconds before ``time_factor`` scaling."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free knobs for instance policies (read through ``PolicyContext.extra``)."""

    def __post_init__(self) -> None:
        # Validate early: a bad profile should fail at registration, not mid-run.
        if not PROFILE_RE.match(self.name):
            raise ValueError(f"bad profile name {self.name!r}: use only [A-Za-z0-9_.-]")
        for fname in ("accuracy", "strictness", "p_rate_limit", "p_server_error", "p_stall"):
            v = getattr(self, fname)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"profile {self.name}: {fname}={v} is not in [0, 1]")
        if self.p_rate_limit + self.p_server_error > 1.0:
            raise ValueError(f"profile {self.name}: p_rate_limit + p_server_error > 1")
        if self.tokens_per_s <= 0 or self.ttft_s < 0 or self.stall_s < 0 or self.verbosity <= 0:
            raise ValueError(f"profile {self.name}: speeds, times and verbosity must be positive")

    def summary(self) -> dict[str, Any]:
        """A JSON-able row (for listings)."""
        fm = self.failure_mix
        return {
            "name": self.name,
            "description": self.description,
            "accuracy": self.accuracy,
            "failure_mix": {"underspecified": fm.underspecified, "wrong": fm.wrong, "empty": fm.empty},
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "verbosity": self.verbosity,
            "strictness": self.strictness,
            "p_rate_limit": self.p_rate_limit,
            "p_server_error": self.p_server_error,
            "p_stall": self.p_stall,
            "stall_s": self.stall_s,
        }


BUILTIN_PROFILES: tuple[Profile, ...] = (
    Profile(
        name="strong",
        description="Accurate and fast; rare, evenly mixed failures.",
        ttft_s=0.35,
        tokens_per_s=150.0,
        verbosity=1.0,
        accuracy=0.9,
        failure_mix=FailureMix(underspecified=1.0, wrong=1.0, empty=0.5),
        strictness=0.6,
    ),
    Profile(
        name="verbose",
        description="Fairly accurate, long-winded and slow.",
        ttft_s=0.8,
        tokens_per_s=55.0,
        verbosity=2.5,
        accuracy=0.8,
        failure_mix=FailureMix(underspecified=2.0, wrong=1.0, empty=0.3),
        strictness=0.4,
    ),
    Profile(
        name="underspecified",
        description="When wrong, mostly vague: answers around the entity without naming it.",
        ttft_s=0.5,
        tokens_per_s=90.0,
        verbosity=1.8,
        accuracy=0.6,
        failure_mix=FailureMix(underspecified=8.0, wrong=1.0, empty=1.0),
        strictness=0.5,
    ),
    Profile(
        name="abstaining",
        description="When wrong, mostly abstains with an empty answer.",
        ttft_s=0.4,
        tokens_per_s=110.0,
        verbosity=0.8,
        accuracy=0.6,
        failure_mix=FailureMix(underspecified=1.0, wrong=1.0, empty=8.0),
        strictness=0.7,
    ),
    Profile(
        name="confabulating",
        description="When wrong, confidently names a wrong entity.",
        ttft_s=0.25,
        tokens_per_s=170.0,
        verbosity=1.1,
        accuracy=0.55,
        failure_mix=FailureMix(underspecified=1.0, wrong=8.0, empty=0.5),
        strictness=0.2,
    ),
    Profile(
        name="flaky",
        description="Decent answers behind a flaky endpoint: 429s, 500s and stalls.",
        ttft_s=0.6,
        tokens_per_s=80.0,
        verbosity=1.0,
        accuracy=0.75,
        failure_mix=FailureMix(underspecified=1.0, wrong=1.0, empty=1.0),
        strictness=0.5,
        p_rate_limit=0.15,
        p_server_error=0.08,
        p_stall=0.05,
        stall_s=30.0,
    ),
    Profile(
        name="oracle",
        description="Always right, instant, never fails (for tests and upper bounds).",
        ttft_s=0.0,
        tokens_per_s=1000.0,
        verbosity=1.0,
        accuracy=1.0,
        failure_mix=FailureMix(underspecified=1.0, wrong=1.0, empty=1.0),
        strictness=0.5,
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
