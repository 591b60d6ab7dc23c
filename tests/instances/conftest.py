"""Shared fixtures for instance tests: a chat model that answers through the sim policies.

``PolicyChat`` is a LangChain ``BaseChatModel`` that turns its messages into a
``SimRequest`` and lets the first matching registered policy reply, seeding each reply's
rng from (seed, request text, repeat count) the way the simulated service does. Tests can
so run CRAG end to end without the HTTP service.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, registered_policies

__all__ = ["PolicyChat", "to_sim_request"]

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def to_sim_request(messages: list[BaseMessage]) -> SimRequest:
    """LangChain messages -> the service's normalised request."""
    msgs = tuple(SimMessage(role=_ROLES.get(m.type, m.type), content=str(m.content)) for m in messages)
    return SimRequest(protocol="openai", model="policy-chat", messages=msgs)


class PolicyChat(BaseChatModel):
    """A zero-latency chat model answering through the registered sim policies."""

    seed: int = 0
    accuracy: float = 1.0
    strictness: float = 0.0
    verbosity: float = 1.0
    mix: FailureMix = Field(default_factory=FailureMix)
    knowledge: float = 0.0
    calibration: float = 0.5
    abstention: float = 0.5
    instruction: float = 1.0
    calls: list[str] = Field(default_factory=list)
    """Name of the policy that answered each call, in order."""
    seen: dict[str, int] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "policy-chat"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        req = to_sim_request(messages)
        policy = next((p for p in registered_policies() if p.matches(req)), None)
        assert policy is not None, f"no policy matches system prompt {req.system[:80]!r}"
        # Same derivation idea as the service: seed, request content and repeat count.
        count = self.seen.get(req.text, 0)
        self.seen[req.text] = count + 1
        digest = hashlib.sha256(f"{self.seed}|{count}|{req.text}".encode()).digest()
        ctx = PolicyContext(rng=random.Random(int.from_bytes(digest[:8], "big")), profile_name="policy-chat",
                            accuracy=self.accuracy, failure_mix=self.mix, verbosity=self.verbosity,
                            strictness=self.strictness, knowledge=self.knowledge, calibration=self.calibration,
                            abstention=self.abstention, instruction_following=self.instruction)
        reply = policy.respond(req, ctx)
        self.calls.append(policy.name)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.text or ""))])


@pytest.fixture
def policy_chat():
    """The ``PolicyChat`` class, with CRAG's policies registered."""
    from maestro.instances.crag import register_sim_policies

    register_sim_policies()
    return PolicyChat


@pytest.fixture
def crag_policies():
    """CRAG's policies registered (idempotent)."""
    from maestro.instances.crag import register_sim_policies

    register_sim_policies()
    return registered_policies()
