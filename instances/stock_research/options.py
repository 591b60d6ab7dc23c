"""Stock Research's study-file options (``[instance_options.stock_research]``), declared
once: names, types, defaults, docs. Framework-free, so a study checks its table without
importing AutoGen."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("max_messages", int, 40,
                   "safety cap: the Swarm stops after this many chat messages (task included) without TERMINATE"),
    *client_options(),
)
"""Stock Research's options (the last three configure the model client)."""
