"""Magentic-One's study-file options (``[instance_options.magentic_one]``), declared once:
names, types, defaults, docs. Framework-free, so a study checks its table without
importing AutoGen."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("max_turns", int, 20, "orchestrator rounds (progress-ledger steps) before it must give a final answer"),
    InstanceOption("max_stalls", int, 3, "stalled or looping rounds before the orchestrator re-plans (new task ledger)"),
    InstanceOption("code_timeout_s", int, 30, "time limit in seconds of each code block the computer terminal runs"),
    *client_options(),
)
"""Magentic-One's options (the last three configure the model client)."""
