"""The marketing agency's study-file options (``[instance_options.marketing]``), declared
once: names, types, defaults, docs. Framework-free, so a study checks its table without
importing ADK."""

from __future__ import annotations

from maestro.contract import InstanceOption

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("temperature", float, 0.0, "sampling temperature of every model call"),
    InstanceOption("http_attempts", int, 4, "attempts per model call (google-genai retries 429/5xx)"),
    InstanceOption("max_llm_calls", int, 30, "ADK's cap on model calls per message"),
)
"""The marketing agency's options."""
