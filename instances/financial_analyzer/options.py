"""The financial analyzer's study-file options (``[instance_options.financial_analyzer]``),
declared once: names, types, defaults, docs. Framework-free, so a study checks its table
without importing mcp-agent."""

from __future__ import annotations

from maestro.contract import InstanceOption

__all__ = ["OPTIONS", "MIN_RATINGS"]

MIN_RATINGS = ("POOR", "FAIR", "GOOD", "EXCELLENT")
"""mcp-agent's ``QualityRating`` names, lowest first."""

OPTIONS: tuple[InstanceOption, ...] = (
    InstanceOption("max_plan_iterations", int, 8,
                   "safety cap: the orchestrator's plan-and-execute rounds (also each agent's tool-call rounds)"),
    InstanceOption("max_refinements", int, 2, "evaluator-optimizer: at most this many refinements of the collected data"),
    InstanceOption("min_rating", str, "EXCELLENT",
                   f"evaluator-optimizer: the rating that ends the refinement loop ({', '.join(MIN_RATINGS)})"),
    InstanceOption("workdir", str, "",
                   "folder for each run's own folder (MCP call log, saved report); empty: a temporary folder "
                   "removed after the run"),
)
"""The financial analyzer's options."""
