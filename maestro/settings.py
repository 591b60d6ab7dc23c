"""Every ``MAESTRO_*`` environment variable maestro reads: its default and what it does.

Each is read when it is used, not at import (an argument beats the variable, the
variable beats the default, as in the OpenTelemetry SDK), so a test or a notebook can set
one at any time. Nothing of maestro's own passes data between its processes through the
environment: these are the user's knobs only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Setting", "SETTINGS", "FSYNC", "SAMPLE_INTERVAL_S", "HARD_KILL_GRACE_S", "ENVIRONMENT", "SIM_API_KEY",
           "markdown_table"]

T = TypeVar("T")


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 0/1/true/false, got {raw!r}")


def _positive(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a finite number > 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable."""

    name: str
    """The variable, ``MAESTRO_...``."""
    default: T
    """Its value when the variable is unset or empty."""
    doc: str
    """What it controls (the docs table is made from these)."""
    parse: Callable[[str], T]
    """Text to value; a ValueError names the variable."""

    def get(self, value: T | None = None) -> T:
        """``value`` when given, else the variable (parsed), else the default."""
        if value is not None:
            return value
        raw = os.environ.get(self.name, "")
        if not raw.strip():
            return self.default
        try:
            return self.parse(raw)
        except ValueError as e:
            raise ValueError(f"environment variable {self.name}: {e}") from None


FSYNC: Setting[bool] = Setting("MAESTRO_FSYNC", True, "Flush every written file and its folder to disk before "
                               "counting it written (about 0.4 ms per file); `0` keeps the atomic renames only.", _flag)
SAMPLE_INTERVAL_S: Setting[float] = Setting("MAESTRO_SAMPLE_INTERVAL_S", 0.1, "Seconds between CPU/memory samples "
                                            "of a run.", _positive)
HARD_KILL_GRACE_S: Setting[float] = Setting("MAESTRO_HARD_KILL_GRACE_S", 15.0, "Seconds past a run's timeout before "
                                            "the runner kills a run that did not stop itself.", _positive)
ENVIRONMENT: Setting[str] = Setting("MAESTRO_ENVIRONMENT", "local", "`deployment.environment` on every run's "
                                    "telemetry resource.", str)
SIM_API_KEY: Setting[str] = Setting("MAESTRO_SIM_API_KEY", "sim-key-not-secret", "The key clients send to the "
                                    "simulated service (it checks none).", str)

SETTINGS: tuple[Setting[Any], ...] = (FSYNC, SAMPLE_INTERVAL_S, HARD_KILL_GRACE_S, ENVIRONMENT, SIM_API_KEY)
"""All of them."""


def markdown_table() -> str:
    """The settings as a Markdown table (README embeds it; a test keeps it in step)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | `{s.default}` | {s.doc} |" for s in SETTINGS]
    return "\n".join(rows)
