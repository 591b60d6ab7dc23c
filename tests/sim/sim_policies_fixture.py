"""A tiny policy module for the subprocess test (imported by ``--import``)."""

from __future__ import annotations

from maestro.sim.policy import PolicyContext, SimReply, SimRequest, register_policy


class EchoPolicy:
    """Answers ``ECHO: text`` with ``text``."""

    name = "echo-test"

    def matches(self, request: SimRequest) -> bool:
        return request.last_user.startswith("ECHO:")

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        return SimReply(text=request.last_user[len("ECHO:"):].strip())


def register_sim_policies() -> None:
    register_policy(EchoPolicy())
