"""Travel Planning's study-file options (``[instance_options.travel_planning]``), declared
once: names, types, defaults, docs. Framework-free, so a study checks its table without
importing AutoGen."""

from __future__ import annotations

from maestro.contract import InstanceOption
from maestro.instances._common import client_options

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("max_rounds", int, 2, "full rounds of the four agents before the team stops without TERMINATE"),
    *client_options(),
)
"""Travel Planning's options (the last three configure the model client)."""
