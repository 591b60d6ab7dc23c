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
           "OTLP_FLUSH_S", "EXECUTOR", "EXECUTORS", "S3_ENDPOINT", "COMPACT_MIN_RUNS", "SPAN_SINK_HOST",
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

OTLP_FLUSH_S: Setting[float] = Setting("MAESTRO_OTLP_FLUSH_S", 2.0, "Seconds a run waits at its end for its OTLP "
                                       "export (when on) to flush, after the run's measured work; spans not "
                                       "delivered by then count in `spans_export_failed`.", _positive)

EXECUTORS = ("local", "ray")
"""Where a study's runs can execute (``maestro.runner.executors``)."""


def _executor(raw: str) -> str:
    value = raw.strip()
    if value not in EXECUTORS:
        raise ValueError(f"expected one of {', '.join(EXECUTORS)}, got {raw!r}")
    return value


EXECUTOR: Setting[str] = Setting("MAESTRO_EXECUTOR", "local", "Where a study's runs execute when neither its config "
                                 "nor the call names an executor: `local` (process pool) or `ray` (the Ray cluster "
                                 "at `RAY_ADDRESS`, else a Ray instance started on this machine).", _executor)

S3_ENDPOINT: Setting[str] = Setting("MAESTRO_S3_ENDPOINT", "", "Endpoint of S3-compatible storage for `s3://` study "
                                    "locations (e.g. `http://127.0.0.1:9000`); empty: the provider's default.", str)
COMPACT_MIN_RUNS: Setting[int] = Setting("MAESTRO_COMPACT_MIN_RUNS", 200, "A study compacts its per-run files at its "
                                         "end when at least this many runs have them (`maestro compact` always "
                                         "does).", lambda raw: max(1, int(raw)))

SPAN_SINK_HOST: Setting[str] = Setting("MAESTRO_SPAN_SINK_HOST", "127.0.0.1", "Address a run's span sink (OTLP/HTTP "
                                      "receiver of its remote agents' spans, e.g. A2A servers) listens on and gives "
                                      "them; with remote agents on other machines, an address of this machine they "
                                      "reach.", str)

SETTINGS: tuple[Setting[Any], ...] = (FSYNC, SAMPLE_INTERVAL_S, HARD_KILL_GRACE_S, ENVIRONMENT, SIM_API_KEY,
                                      OTLP_FLUSH_S, EXECUTOR, S3_ENDPOINT, COMPACT_MIN_RUNS, SPAN_SINK_HOST)
"""All of them."""


def markdown_table() -> str:
    """The settings as a Markdown table (README embeds it; a test keeps it in step)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | `{s.default}` | {s.doc} |" for s in SETTINGS]
    return "\n".join(rows)
