"""Brand SEO's study-file options (``[instance_options.brand_seo]``), declared once: names,
types, defaults, docs. Framework-free, so a study checks its table without importing ADK."""

from __future__ import annotations

from maestro.contract import InstanceOption

from .browser import DEFAULT_CHROMIUM

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("temperature", float, 0.0, "sampling temperature of every model call"),
    InstanceOption("http_attempts", int, 4, "attempts per model call (google-genai retries 429/5xx)"),
    InstanceOption("max_llm_calls", int, 60, "ADK's cap on model calls per message"),
    InstanceOption("browser", str, "auto",
                   "browser tools' backend: auto (Playwright with Chromium when available, else fetch), playwright, fetch"),
    InstanceOption("chromium", str, DEFAULT_CHROMIUM, "Chromium executable Playwright drives"),
)
"""Brand SEO's options."""
