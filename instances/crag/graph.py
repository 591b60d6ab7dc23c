"""The CRAG (Corrective RAG) graph: five agents as LangGraph nodes.

Control flow (``min_relevant`` and ``max_rewrites`` are build-time settings)::

    START -> retrieve -> grade_documents
    grade_documents -> generate                      if >= min_relevant documents were kept
                    -> transform_query -> web_search -> generate     (tools enabled)
                    -> transform_query -> retrieve -> grade_documents (tools disabled,
                       at most max_rewrites times; then generate with what was kept)
    generate -> END

Single-document evidence is CRAG's "ambiguous" case, so by default two relevant documents
are needed before answering without correction. Documents judged relevant accumulate
across retrieval rounds; a kept document is not graded again, a rejected one is regraded
if a later retrieval returns it (a second look, as a fresh CRAG round would take). Web results are
not graded (as in CRAG, web knowledge is used to correct the retrieval).

With tools disabled the ``web_search`` node is not added to the graph at all, so no trace
can show it. Every node takes the run's ``config`` and passes it to the model and tool
calls it makes, so callbacks reach them.
"""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph

from maestro.instances._common import message_text

from .prompts import (
    GENERATOR_SYSTEM,
    GRADER_SYSTEM,
    REWRITER_SYSTEM,
    format_generator_input,
    format_grader_input,
    format_rewriter_input,
    parse_grade,
    parse_rewrite,
)

__all__ = [
    "RETRIEVE",
    "GRADE_DOCUMENTS",
    "GENERATE",
    "TRANSFORM_QUERY",
    "WEB_SEARCH",
    "AGENT_NODES",
    "CragState",
    "build_graph",
    "message_text",
]

RETRIEVE = "retrieve"
GRADE_DOCUMENTS = "grade_documents"
GENERATE = "generate"
TRANSFORM_QUERY = "transform_query"
WEB_SEARCH = "web_search"
AGENT_NODES = (RETRIEVE, GRADE_DOCUMENTS, GENERATE, TRANSFORM_QUERY, WEB_SEARCH)
"""The five agents (graph nodes), in the order a corrected run meets them."""


class CragState(TypedDict, total=False):
    """The graph's state. Every node returns only the keys it changes."""

    question: str
    """The user question (never rewritten: graders and the generator judge against it)."""
    query: str
    """The current search query (the question, then the rewriter's queries)."""
    documents: list[dict[str, Any]]
    """Documents of the latest retrieval not already kept (the grader's input)."""
    relevant: list[dict[str, Any]]
    """Documents judged relevant so far, across rounds."""
    web_results: list[dict[str, Any]]
    """Web search results (only when tools are enabled)."""
    rewrites: int
    """How many times the query was rewritten."""
    retrievals: int
    """How many local retrievals ran."""
    generation: str
    """The generator's full reply."""


def build_graph(
    llm: BaseChatModel,
    *,
    tools_enabled: bool,
    retriever_tool: BaseTool,
    web_search_tool: BaseTool | None,
    max_rewrites: int = 2,
    min_relevant: int = 2,
    name: str = "crag",
) -> Any:
    """Compile the CRAG graph around any chat model and the two tools.

    ``web_search_tool`` may be None only when ``tools_enabled`` is False.
    """
    if tools_enabled and web_search_tool is None:
        raise ValueError("tools_enabled=True needs a web_search_tool")
    if max_rewrites < 0 or min_relevant < 1:
        raise ValueError("max_rewrites must be >= 0 and min_relevant >= 1")

    def retrieve(state: CragState, config: RunnableConfig) -> dict[str, Any]:
        query = state.get("query") or state["question"]
        docs = retriever_tool.invoke({"query": query}, config=config) or []
        kept = {d.get("id") for d in state.get("relevant") or []}
        fresh = [d for d in docs if d.get("id") not in kept]
        return {"query": query, "documents": fresh, "retrievals": state.get("retrievals", 0) + 1}

    def grade_documents(state: CragState, config: RunnableConfig) -> dict[str, Any]:
        question = state["question"]
        relevant = list(state.get("relevant") or [])
        # One grading call per document, in retrieval order (as CRAG's evaluator does).
        for doc in state.get("documents") or []:
            reply = llm.invoke(
                [SystemMessage(content=GRADER_SYSTEM), HumanMessage(content=format_grader_input(question, doc))],
                config=config,
            )
            if parse_grade(message_text(reply)):
                relevant.append(doc)
        return {"relevant": relevant, "documents": []}

    def transform_query(state: CragState, config: RunnableConfig) -> dict[str, Any]:
        question = state["question"]
        reply = llm.invoke(
            [SystemMessage(content=REWRITER_SYSTEM),
             HumanMessage(content=format_rewriter_input(question, state.get("relevant") or []))],
            config=config,
        )
        # An empty rewrite would search for nothing: fall back to the question itself.
        query = parse_rewrite(message_text(reply)) or question
        return {"query": query, "rewrites": state.get("rewrites", 0) + 1}

    def web_search(state: CragState, config: RunnableConfig) -> dict[str, Any]:
        assert web_search_tool is not None
        results = web_search_tool.invoke({"query": state.get("query") or state["question"]}, config=config) or []
        return {"web_results": list(results)}

    def generate(state: CragState, config: RunnableConfig) -> dict[str, Any]:
        docs: list[dict[str, Any]] = []
        ids: set[str | None] = set()
        for d in list(state.get("relevant") or []) + list(state.get("web_results") or []):
            doc_id = d.get("id")
            if doc_id not in ids:
                ids.add(doc_id)
                docs.append(d)
        reply = llm.invoke(
            [SystemMessage(content=GENERATOR_SYSTEM),
             HumanMessage(content=format_generator_input(state["question"], docs))],
            config=config,
        )
        return {"generation": message_text(reply)}

    def decide_after_grading(state: CragState) -> str:
        if len(state.get("relevant") or []) >= min_relevant:
            return GENERATE
        if tools_enabled or state.get("rewrites", 0) < max_rewrites:
            return TRANSFORM_QUERY
        return GENERATE  # out of rewrites without web search: answer with what was kept

    g = StateGraph(CragState)
    g.add_node(RETRIEVE, retrieve)
    g.add_node(GRADE_DOCUMENTS, grade_documents)
    g.add_node(TRANSFORM_QUERY, transform_query)
    g.add_node(GENERATE, generate)
    g.add_edge(START, RETRIEVE)
    g.add_edge(RETRIEVE, GRADE_DOCUMENTS)
    g.add_conditional_edges(GRADE_DOCUMENTS, decide_after_grading, [GENERATE, TRANSFORM_QUERY])
    if tools_enabled:
        g.add_node(WEB_SEARCH, web_search)
        g.add_edge(TRANSFORM_QUERY, WEB_SEARCH)
        g.add_edge(WEB_SEARCH, GENERATE)
    else:
        g.add_edge(TRANSFORM_QUERY, RETRIEVE)
    g.add_edge(GENERATE, END)
    return g.compile(name=name)
