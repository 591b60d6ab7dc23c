"""What the AutoGen instances share: the run's model client against its endpoint."""

from __future__ import annotations

from autogen_core.models import ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient

from maestro.contract import RunContext
from maestro.instances._common import client_settings

__all__ = ["UNKNOWN_MODEL_INFO", "make_model_client"]

UNKNOWN_MODEL_INFO: ModelInfo = {
    "vision": False,
    "function_calling": True,
    "json_output": True,
    "structured_output": False,
    "family": "unknown",
}
"""Capabilities declared for model names AutoGen does not know (the simulated ones, or any
OpenAI-compatible endpoint's own names): function calling and JSON mode, no vision."""


def make_model_client(ctx: RunContext) -> OpenAIChatCompletionClient:
    """The run's model client: ``OpenAIChatCompletionClient`` against ``ctx.endpoint``."""
    kwargs = client_settings(ctx)
    try:
        return OpenAIChatCompletionClient(**kwargs)
    except ValueError:  # a model name AutoGen has no capabilities for: declare them
        return OpenAIChatCompletionClient(**kwargs, model_info=UNKNOWN_MODEL_INFO)
