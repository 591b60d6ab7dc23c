"""Image Scoring's study-file options (``[instance_options.image_scoring]``), declared once:
names, types, defaults, docs. Framework-free, so a study checks its table without
importing ADK."""

from __future__ import annotations

from maestro.contract import InstanceOption

__all__ = ["OPTIONS"]

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("temperature", float, 0.0, "sampling temperature of every model call"),
    InstanceOption("http_attempts", int, 4, "attempts per model or image call (google-genai retries 429/5xx)"),
    InstanceOption("max_llm_calls", int, 40, "ADK's cap on model calls per message"),
    InstanceOption("max_iterations", int, 4, "the loop's cap on rounds (write, render, score)"),
    InstanceOption("score_threshold", float, 1.0, "share of the brief's requirements the score must reach to stop"),
    InstanceOption("image_model", str, "imagen-3.0-generate-002", "image generation model called by generate_image"),
)
"""Image Scoring's options."""
