"""LLM failure judges from backend specs, and the simulated judge.

``open_judges(["sim/strong", "openai/gpt-4o-mini"])`` resolves each spec exactly as a
study's backends are resolved (``maestro.backends.resolve_endpoint``: a missing key is an
error, never a placeholder), serves the ``sim/...`` judges from an in-process simulated
service it starts and stops, and yields :class:`maestro.analysis.judges.LLMJudge` objects for
``maestro.analysis`` (which itself never starts a simulator or reads a key).

The simulated judge (:class:`SimJudgePolicy`) answers judge prompts with the label our
rules layer would give, right with the profile's accuracy; it registers with the simulated
service through this module's ``register_sim_policies()`` (the simulator's naming convention).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from maestro.analysis.failures import FailureCategory, rule_category
from maestro.analysis.judges import JUDGE_MARKER, TABLE3_TAXONOMY, LLMJudge, Taxonomy
from maestro.backends import parse_backend, resolve_endpoint

__all__ = ["open_judges", "SimJudgePolicy", "register_sim_policies"]


@contextlib.contextmanager
def open_judges(specs: Sequence[str | LLMJudge], *, taxonomy: Taxonomy = TABLE3_TAXONOMY, online: bool = False,
                seed: int = 0) -> Iterator[list[LLMJudge]]:
    """Judges for backend specs (ready-made judges pass through). Names are the specs, made
    unique with ``#2``, ``#3`` when repeated; each sim judge gets a nonce of its own, so its
    replies are a function of its seed alone.

    Raises:
        BackendError: a spec is malformed or its provider key is missing.
    """
    backends = {i: parse_backend(s) for i, s in enumerate(specs) if isinstance(s, str)}
    sim = None
    with contextlib.ExitStack() as stack:
        if any(b.simulated for b in backends.values()):
            from maestro.sim import SimServer

            stack.enter_context(_registered())
            sim = stack.enter_context(SimServer(time_factor=0))
        judges: list[LLMJudge] = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(specs):
            if not isinstance(spec, str):
                judges.append(spec)
                continue
            backend = backends[i]
            seen[spec] = seen.get(spec, 0) + 1
            name = spec if seen[spec] == 1 else f"{spec}#{seen[spec]}"
            endpoint = resolve_endpoint(backend, sim_url=sim.url if sim else None, seed=seed, nonce=f"judge{i}")
            judges.append(LLMJudge(name, base_url=endpoint.base_url, model=endpoint.model, api_key=endpoint.api_key,
                                   taxonomy=taxonomy, online=online))
        yield judges


def _rule_label(user: str) -> str:
    """What a careful judge would say from the prompt alone (our rules layer)."""
    fields = dict(re.findall(r"^(Question|Gold answer|Final answer|Run status): (.*)$", user, re.MULTILINE))
    status = fields.get("Run status")
    if status == "timeout":
        return FailureCategory.TIMEOUT.value
    if status in ("exception", "crashed"):
        return FailureCategory.EXCEPTION.value
    answer = fields.get("Final answer")
    gold = fields.get("Gold answer")
    run = {"judgement": "wrong", "answer": None if answer in (None, "(none)") else answer,
           "gold": None if gold in (None, "(none)") else gold, "f1": None}
    return rule_category(run, True)[0].value


class SimJudgePolicy:
    """Answers judge prompts with one label: right (by our rules) with the profile's
    accuracy, otherwise another label of the prompt's taxonomy drawn by the seeded rng."""

    name = "maestro.runner.judges"

    def matches(self, request) -> bool:
        return JUDGE_MARKER in request.system

    def respond(self, request, ctx):
        from maestro.sim.policy import SimReply

        labels = re.findall(r"^- ([a-z0-9_]+):", request.system, re.MULTILINE)
        if not labels:
            return SimReply(text="other")
        rng = ctx.rng
        if FailureCategory.OTHER.value in labels:
            best = _rule_label(request.last_user)
            if rng.random() < ctx.accuracy:
                return SimReply(text=best)
            return SimReply(text=rng.choice([lb for lb in labels if lb != best] or labels))
        return SimReply(text=rng.choice(labels))  # MAST: no ground truth to lean on in the sim


def register_sim_policies() -> Any:
    """Register the simulated judge (replaces an earlier registration). Returns it."""
    from maestro.sim.policy import register_policy

    return register_policy(SimJudgePolicy())


@contextlib.contextmanager
def _registered():
    """The simulated judge registered for the block, unless one already is (a test's
    recording subclass, say): then it is left as it was."""
    from maestro.sim.policy import registered_policies, unregister_policy

    if any(p.name == SimJudgePolicy.name for p in registered_policies()):
        yield
        return
    policy = register_sim_policies()
    try:
        yield
    finally:
        unregister_policy(policy)
