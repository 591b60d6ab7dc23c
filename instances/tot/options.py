"""Tree of Thoughts' study-file options (``[instance_options.tot]``), declared once: names,
types, defaults, docs. Framework-free, so a study checks its table without importing
LangChain."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("beam_width", int, 3, "partial solutions kept per level"),
    InstanceOption("n_propose", int, 5, "steps asked of each proposer call"),
    InstanceOption("max_depth", int, None, "steps before writing up; unset: numbers - 1"),
    InstanceOption("max_retries", int, 1, "levels proposed again when nothing survived"),
    InstanceOption("recursion_limit", int, 60, "LangGraph step limit; reaching it fails the run"),
    # ``max_retries`` is taken by ToT's re-proposals, so the client's retries have their own name.
    *client_options(retries_option="max_retries_http"),
)
"""ToT's options (the last three configure the chat-model client)."""
