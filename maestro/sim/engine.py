"""Protocol-independent core: from a normalised request to a simulated outcome.

For one request the engine (1) derives the request's rng from the run seed, profile,
canonical request and occurrence count; (2) draws, before any policy runs, whether the
request fails (429/500), stalls, and its timing jitter; (3) dispatches to the first matching
registered policy or the fallback, once per choice with a per-choice rng; (4) applies
``max_tokens`` truncation, fills tool-call ids and counts usage by maestro's token rule.
The HTTP layer renders the outcome in either wire format and does the sleeping.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace

from maestro.sim.fallback import FALLBACK_POLICY
from maestro.sim.policy import Policy, PolicyContext, SimReply, SimRequest, SimToolCall, registered_policies
from maestro.sim.profiles import Profile
from maestro.sim.seeding import OccurrenceCounter, canonical_request, rng_for, stable_hex, stable_seed
from maestro.sim.synth import truncate_to_tokens
from maestro.tokens import END_OF_SEQUENCE_TOKENS, count_message_tokens, count_tokens

__all__ = ["Engine", "BadRequest", "SimOutcome", "SimChoice", "PolicyError", "prompt_tokens", "completion_tokens"]

log = logging.getLogger("maestro.sim")


class BadRequest(ValueError):
    """The body is JSON but not a valid request; answered with HTTP 400 and this message."""


class PolicyError(RuntimeError):
    """A policy raised or returned something unusable; the message names the policy."""

    def __init__(self, policy_name: str, message: str) -> None:
        super().__init__(f"policy {policy_name!r} failed: {message}")
        self.policy_name = policy_name


@dataclass(frozen=True)
class SimChoice:
    """One finished choice."""

    index: int
    """Position among the request's ``n`` choices."""
    text: str | None
    """Reply text after ``max_tokens`` truncation (None or '' for an empty answer)."""
    tool_calls: tuple[SimToolCall, ...]
    """Calls with ids filled in."""
    finish_reason: str
    """OpenAI vocabulary: ``stop``, ``length``, ``tool_calls`` (or what the policy set)."""
    completion_tokens: int
    """This choice's output tokens by maestro's rule."""


@dataclass
class SimOutcome:
    """What the service answers to one request."""

    request: SimRequest
    """The normalised request."""
    profile: Profile
    """The profile named in the URL."""
    seed: int
    """The request's derived rng seed (ids derive from it)."""
    occurrence: int
    """How many identical requests this run saw before this one."""
    error: str | None = None
    """``rate_limit`` or ``server_error`` when the request fails; then no choices."""
    stall_s: float = 0.0
    """Unscaled stall before answering (0 when none)."""
    ttft_s: float = 0.0
    """Unscaled time to first token (jittered)."""
    gen_s: float = 0.0
    """Unscaled generation time after the first token."""
    policy_name: str = ""
    """Name of the policy that answered (``fallback`` when none matched)."""
    choices: list[SimChoice] = field(default_factory=list)
    """The ``n`` finished choices (empty when ``error`` is set)."""
    prompt_tokens: int = 0
    """Input tokens by maestro's rule."""
    completion_tokens: int = 0
    """Output tokens summed over choices."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def response_id(self) -> str:
        return stable_hex(self.seed, "response-id", n=24)


def prompt_tokens(req: SimRequest) -> int:
    """Input tokens by maestro's rule: (role, content) of every message plus the tools.

    Tools are counted in one protocol-neutral shape (name, description, parameters) so the
    same conversation costs the same over OpenAI and Gemini REST.
    """
    tools = [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in req.tools]
    return count_message_tokens([(m.role, m.content) for m in req.messages], tools or None)


def completion_tokens(text: str | None, tool_calls: tuple[SimToolCall, ...] = ()) -> int:
    """Output tokens by maestro's rule: the text plus the JSON of every call's arguments,
    plus the end-of-sequence token."""
    return END_OF_SEQUENCE_TOKENS + count_tokens(text) + sum(count_tokens(json.dumps(tc.arguments, sort_keys=True)) for tc in tool_calls)


class Engine:
    """Turns normalised requests into outcomes; one per server (it owns the occurrence counts)."""

    def __init__(self) -> None:
        self.counter = OccurrenceCounter()

    def simulate(self, profile: Profile, seed: int, runkey: str, req: SimRequest) -> SimOutcome:
        """Simulate ``req`` for the run ``runkey`` (whose seed is ``seed``) on ``profile``.

        Raises :class:`PolicyError` when a policy fails.
        """
        canon = canonical_request(req)
        # The counter is keyed by the whole runkey (nonce included) so a new attempt of a
        # run starts counting afresh; the rng seed uses only the seed. It counts this exact
        # content only: the arrival order of *different* requests (a MAS calling its model
        # concurrently) never shifts a draw. Everything random about the request (error,
        # stall, latency jitter, each choice's policy rng) derives from ``rseed`` below, so
        # it is keyed the same way. Runs sharing a runkey share these counts: give every
        # run its own nonce (seeding.run_nonce).
        occ = self.counter.next(profile.name, runkey, canon)
        rseed = stable_seed(seed, profile.name, canon, occ)
        rng = rng_for(rseed)
        out = SimOutcome(request=req, profile=profile, seed=rseed, occurrence=occ)

        # Always draw the same four numbers in the same order, so an error or a stall
        # never shifts the draws that follow.
        x_err, x_stall, x_jitter, x_gen = rng.random(), rng.random(), rng.random(), rng.random()
        if x_err < profile.p_rate_limit:
            out.error = "rate_limit"
            return out
        if x_err < profile.p_rate_limit + profile.p_server_error:
            out.error = "server_error"
            return out
        if x_stall < profile.p_stall:
            out.stall_s = profile.stall_s

        policy = self._dispatch(req)
        out.policy_name = policy.name
        for i in range(max(1, req.n)):
            ctx = PolicyContext(
                rng=rng_for(rseed, "choice", i),
                profile_name=profile.name,
                accuracy=profile.accuracy,
                failure_mix=profile.failure_mix,
                verbosity=profile.verbosity,
                strictness=profile.strictness,
                extra=dict(profile.extra),  # a copy: a policy can't alter the profile
                knowledge=profile.knowledge,
                instruction_following=profile.instruction_following,
                calibration=profile.calibration,
                abstention=profile.abstention,
            )
            try:
                reply = policy.respond(req, ctx)
            except Exception as exc:  # noqa: BLE001 - reported as HTTP 500 naming the policy
                raise PolicyError(policy.name, f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(reply, SimReply):
                raise PolicyError(policy.name, f"respond() returned {type(reply).__name__}, not SimReply")
            out.choices.append(self._finish(reply, req, rseed, i, policy.name))

        out.prompt_tokens = prompt_tokens(req)
        out.completion_tokens = sum(c.completion_tokens for c in out.choices)
        out.ttft_s = profile.ttft_s * (0.8 + 0.4 * x_jitter)
        out.gen_s = out.completion_tokens / profile.tokens_per_s * (0.9 + 0.2 * x_gen)
        return out

    @staticmethod
    def _dispatch(req: SimRequest) -> Policy:
        for p in registered_policies():
            try:
                if p.matches(req):
                    return p
            except Exception as exc:  # noqa: BLE001
                raise PolicyError(getattr(p, "name", repr(p)), f"matches() raised {type(exc).__name__}: {exc}") from exc
        return FALLBACK_POLICY

    @staticmethod
    def _finish(reply: SimReply, req: SimRequest, rseed: int, index: int, policy_name: str) -> SimChoice:
        text = reply.text
        calls = tuple(reply.tool_calls or ())
        for tc in calls:
            if not isinstance(tc, SimToolCall) or not isinstance(tc.arguments, dict):
                raise PolicyError(policy_name, "tool_calls must be SimToolCall with dict arguments")
        calls = tuple(
            tc if tc.id else replace(tc, id="call_" + stable_hex(rseed, "call", index, k, n=24))
            for k, tc in enumerate(calls)
        )
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        if req.max_tokens is not None and text:
            # The end-of-sequence token counts against the budget too, so a choice's usage
            # never exceeds max_tokens (a cut choice reports exactly max_tokens).
            text, cut = truncate_to_tokens(text, max(0, req.max_tokens - END_OF_SEQUENCE_TOKENS))
            if cut:
                # Generation stopped inside the text, so the calls after it were never made.
                calls = ()
                finish = "length"
        return SimChoice(index, text, calls, finish, completion_tokens(text, calls))
