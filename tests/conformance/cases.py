"""The runs the conformance suite checks: one small study per case, through the real runner.

Add a case for every instance: ``ConformanceCase(id, instance, backend, tools, options)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConformanceCase", "CASES"]


@dataclass(frozen=True)
class ConformanceCase:
    id: str
    """pytest id, ``{framework}-{instance}[-variant]``."""
    instance: str
    """Instance name in ``maestro.instances.INSTANCE_MODULES``."""
    backend: str = "sim/strong"
    """Backend spec of the one run."""
    tools: bool = True
    """Tool setting of the run."""
    options: dict[str, Any] = field(default_factory=dict)
    """Instance options (``[instance_options.<name>]`` in a study file)."""
    expects_tools: bool = True
    """Whether the run must contain at least one ``execute_tool`` span."""
    expects_edges: bool = True
    """Whether the run must contain agent-to-agent message edges."""


CASES: list[ConformanceCase] = [
    ConformanceCase("langgraph-crag", "crag", tools=True),
    ConformanceCase("langgraph-crag-tools-off", "crag", tools=False),
    ConformanceCase("langgraph-plan_execute", "plan_execute", tools=True),
    ConformanceCase("langgraph-lats", "lats", tools=True),
    ConformanceCase("langgraph-tot", "tot", tools=False, expects_tools=False),
    ConformanceCase("autogen-travel_planning", "travel_planning", tools=False, expects_tools=False),
    ConformanceCase("autogen-stock_research", "stock_research", tools=True),
    ConformanceCase("autogen-stock_research-tools-off", "stock_research", tools=False),
    ConformanceCase("autogen-magentic_one", "magentic_one", tools=True),
    ConformanceCase("adk-marketing", "marketing", tools=True),
    # Remote agents in their own processes over A2A: their spans join the run through the span sink.
    ConformanceCase("adk-content_creation", "content_creation", tools=True),
    ConformanceCase("adk-content_creation-verbose-tools-off", "content_creation", backend="sim/verbose", tools=False),
    ConformanceCase("adk-image_scoring", "image_scoring", tools=True),
    ConformanceCase("adk-image_scoring-tools-off", "image_scoring", tools=False, expects_tools=False),
    ConformanceCase("adk-brand_seo", "brand_seo", tools=True),
    ConformanceCase("adk-brand_seo-tools-off", "brand_seo", tools=False, expects_tools=False),
    # Tools are MCP servers in their own processes (stdio); tools off starts none.
    ConformanceCase("mcp_agent-financial_analyzer", "financial_analyzer", tools=True),
    ConformanceCase("mcp_agent-financial_analyzer-tools-off", "financial_analyzer", tools=False, expects_tools=False),
]
