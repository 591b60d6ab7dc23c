"""CRAG (Corrective RAG, Yan et al. 2024) as a LangGraph MAS instance.

Paper Table 2: Cross-domain, LangGraph, Coordination, 5 agents (retrieve,
grade_documents, generate, transform_query, web_search), 2 tools (local retriever, web
search), Datasets in, Open-End out, suites F and A.

Importing this package registers CRAG's simulated-model policies (cheap, idempotent).
The LangChain/LangGraph-dependent names (``INSTANCE``, ``CragInstance``, ``build_graph``,
the tool factories) load on first access, so the simulated service can import the
policies without pulling in the frameworks.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .prompts import (
    GENERATOR_MARKER,
    GENERATOR_SYSTEM,
    GRADER_MARKER,
    GRADER_SYSTEM,
    REWRITER_MARKER,
    REWRITER_SYSTEM,
    extract_answer,
)
from .sim_policies import register_sim_policies

__all__ = [
    "INSTANCE",
    "OPTIONS",
    "CragInstance",
    "CRAG_INFO",
    "build_graph",
    "make_chat_model",
    "make_retriever_tool",
    "make_web_search_tool",
    "register_sim_policies",
    "extract_answer",
    "GRADER_MARKER",
    "REWRITER_MARKER",
    "GENERATOR_MARKER",
    "GRADER_SYSTEM",
    "REWRITER_SYSTEM",
    "GENERATOR_SYSTEM",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "CragInstance": ".instance",
        "CRAG_INFO": ".instance",
        "make_chat_model": ".instance",
        "build_graph": ".graph",
        "make_retriever_tool": ".tools",
        "make_web_search_tool": ".tools",
    },
    instance=(".instance", "CragInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
