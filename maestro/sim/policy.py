"""Role-aware response policies for the simulated LLM service.

The service knows no instance. Instances register ``Policy`` objects here (at import);
for every request the service asks each registered policy, in registration order,
whether it ``matches`` the request, and the first match answers. When none matches,
the service's generic fallback policy answers.

A policy is pure with respect to its inputs: given the same ``SimRequest`` and a
``PolicyContext`` whose ``rng`` is seeded the same way, it must return the same
``SimReply``. The service derives that seed from the run's seed, the request content and
how many times the same request was seen in the run, so a run's seed fixes its responses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "SimMessage",
    "SimTool",
    "SimRequest",
    "SimToolCall",
    "SimReply",
    "FailureMix",
    "PolicyContext",
    "Policy",
    "register_policy",
    "registered_policies",
    "unregister_policy",
    "clear_policies",
]


@dataclass(frozen=True)
class SimMessage:
    """One chat message, normalised from either protocol."""

    role: str
    """``system``, ``user``, ``assistant`` or ``tool`` (Gemini ``model`` maps to ``assistant``)."""
    content: str
    """Text content (parts joined with newlines; tool results as their text/JSON)."""
    tool_calls: tuple[SimToolCall, ...] = ()
    """Tool calls an assistant message made."""
    tool_call_id: str | None = None
    """For ``tool`` messages: the call this result answers."""
    name: str | None = None
    """Tool or participant name, when the protocol gives one."""


@dataclass(frozen=True)
class SimTool:
    """A function tool declared in the request."""

    name: str
    description: str
    parameters: dict[str, Any]
    """JSON schema of the arguments."""


@dataclass(frozen=True)
class SimToolCall:
    """A tool call the model makes."""

    name: str
    arguments: dict[str, Any]
    id: str = ""
    """Filled by the service when empty."""


@dataclass(frozen=True)
class SimRequest:
    """A model request, normalised from the OpenAI or Gemini wire format."""

    protocol: str
    """``openai`` or ``gemini``."""
    model: str
    """Model name as sent by the client."""
    messages: tuple[SimMessage, ...]
    """All messages, system first when present."""
    tools: tuple[SimTool, ...] = ()
    tool_choice: str | None = None
    """``auto``, ``none``, ``required`` or a forced function's name."""
    response_schema: dict[str, Any] | None = None
    """JSON schema when structured output was requested."""
    max_tokens: int | None = None
    n: int = 1
    stream: bool = False

    @property
    def system(self) -> str:
        """The system prompt(s), joined."""
        return "\n".join(m.content for m in self.messages if m.role == "system")

    @property
    def last_user(self) -> str:
        """The last user message's text ('' if none)."""
        for m in reversed(self.messages):
            if m.role == "user":
                return m.content
        return ""

    @property
    def text(self) -> str:
        """All message contents joined: what the model 'sees'."""
        return "\n".join(m.content for m in self.messages)


@dataclass(frozen=True)
class SimReply:
    """What a policy answers. The service turns it into either wire format."""

    text: str | None = None
    """Assistant text; None or '' for an empty answer."""
    tool_calls: tuple[SimToolCall, ...] = ()
    finish_reason: str | None = None
    """Defaults to ``tool_calls`` when there are calls, ``stop`` otherwise."""


@dataclass(frozen=True)
class FailureMix:
    """Relative weights of the ways a simulated model answers wrongly (paper Table 3)."""

    underspecified: float = 1.0
    """A vague answer that never names the entity."""
    wrong: float = 1.0
    """A confident answer naming a wrong entity."""
    empty: float = 1.0
    """An empty answer (abstention)."""

    def draw(self, rng: random.Random) -> str:
        """``underspecified``, ``wrong`` or ``empty`` by weight."""
        total = self.underspecified + self.wrong + self.empty
        x = rng.random() * total
        if x < self.underspecified:
            return "underspecified"
        if x < self.underspecified + self.wrong:
            return "wrong"
        return "empty"


@dataclass
class PolicyContext:
    """What a policy may use besides the request."""

    rng: random.Random
    """Seeded per request; the only source of randomness a policy may use."""
    profile_name: str
    accuracy: float
    """The profile's ``reasoning``: probability that one reasoning step over facts in hand
    (read from the context or recalled) is right."""
    failure_mix: FailureMix
    """Derived from calibration and abstention: how a model that lacks a fact fails."""
    verbosity: float
    """Output-length multiplier (1.0 = terse)."""
    strictness: float = 0.5
    """Derived (the profile's ``calibration``): how readily graders/reviewers reject."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Profile-specific knobs, free for policies to read."""
    knowledge: float = 0.0
    """Share of facts the model knows without evidence (which ones: fixed per profile name)."""
    instruction_following: float = 1.0
    """Probability of following a requested protocol or format."""
    calibration: float = 0.5
    """Probability of noticing that a needed fact is missing."""
    abstention: float = 0.5
    """When it notices: probability of saying so rather than hedging vaguely."""


@runtime_checkable
class Policy(Protocol):
    """A role-aware responder (e.g. CRAG's grader)."""

    @property
    def name(self) -> str:
        """Unique name, used in logs and in the response's ``system_fingerprint`` (read only:
        a frozen dataclass's field meets it)."""
        ...

    def matches(self, request: SimRequest) -> bool:
        """True when this policy should answer ``request`` (cheap: inspect the prompt)."""
        ...

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        """The reply for one choice of ``request``."""
        ...


_POLICIES: list[Policy] = []


def register_policy(policy: Policy) -> Policy:
    """Add ``policy`` (replacing one of the same name). Returns it, so it can decorate."""
    global _POLICIES
    _POLICIES = [p for p in _POLICIES if p.name != policy.name]
    _POLICIES.append(policy)
    return policy


def unregister_policy(policy: Policy | str) -> bool:
    """Remove one registered policy, leaving every other in place and in order.

    ``policy`` is the object ``register_policy`` was given, or its name. Given an object,
    only that object is removed: a different policy registered since under the same name
    (which replaced it) stays. Returns True when something was removed.
    """
    global _POLICIES
    if isinstance(policy, str):
        keep = [p for p in _POLICIES if p.name != policy]
    else:
        keep = [p for p in _POLICIES if p is not policy]
    removed = len(keep) != len(_POLICIES)
    _POLICIES = keep  # rebound, as register_policy does, never mutated in place
    return removed


def registered_policies() -> tuple[Policy, ...]:
    """Policies in registration order."""
    return tuple(_POLICIES)


def clear_policies() -> None:
    """Remove every registered policy (tests)."""
    _POLICIES.clear()
