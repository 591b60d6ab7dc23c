"""The LATS graph (Language Agent Tree Search, Zhou et al. 2023) on LangGraph.

Three agents take turns, one tree node per turn, so every step of the search is one
agent span that names its tree node::

    START -> select -> expand (x width) -> reflect (x width) -> select ... -> END

* ``select`` picks the leaf to grow by UCT (``tree.select``); nothing left to expand, or
  ``max_iterations`` selections done, ends the search.
* ``expand`` draws one candidate action for the selected leaf: the model either calls a
  search tool (the local retriever always, web search only when tools are enabled), which
  ``expand`` executes, or answers (a terminal node). It runs ``width`` times per selection.
* ``reflect`` scores one new candidate (the model's reflection: a 0-10 score and whether
  an answer is solved) and backpropagates the score to the root. A solved answer ends the
  search; otherwise the next candidate is reflected, then ``select`` runs again.

The answer is the solved node's, else the best-scored answer node's (``tree.best_answer``).
Each step annotates its agent span through a LangChain custom event
(``maestro.semconv.MAESTRO_SPAN_ATTRIBUTES_EVENT``) with ``maestro.search.*`` attributes:
node id, parent id, depth, action, score, value and visits, so the explored tree can be
rebuilt from the trace alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, TypedDict

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph

from maestro import semconv as sc
from maestro.instances._common import message_text

from .prompts import (
    EXPAND_SYSTEM,
    REFLECT_SYSTEM,
    format_expand_input,
    format_reflect_input,
    parse_candidate_answer,
    parse_reflection,
)
from .tree import ROOT_ID, add_child, backpropagate, best_answer, select, trajectory, tree_from_state, tree_to_state

__all__ = ["SELECT", "EXPAND", "REFLECT", "AGENT_NODES", "LatsState", "build_graph", "final_answer", "docs_text",
           "message_text"]

log = logging.getLogger(__name__)

SELECT = "select"
EXPAND = "expand"
REFLECT = "reflect"
AGENT_NODES = (SELECT, EXPAND, REFLECT)
"""The three agents (graph nodes)."""


class LatsState(TypedDict, total=False):
    """The graph's state. Every node returns only the keys it changes."""

    question: str
    """The user question."""
    tree: dict[str, dict[str, Any]]
    """The search tree (``tree.tree_to_state`` form)."""
    frontier: str | None
    """The node being expanded (None when the search is over)."""
    pending: list[str]
    """New candidates not reflected yet."""
    iterations: int
    """Selections made."""
    answer: str | None
    """The solved answer, once one is found."""
    done: bool
    """True when the search ended."""


def docs_text(content: Any) -> str:
    """Search results (a list of ``{title, text}`` dicts, or their JSON) as lines of text."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return content
    if isinstance(content, list):
        lines = []
        for d in content:
            if isinstance(d, dict):
                title, text = str(d.get("title") or "").strip(), str(d.get("text") or "").strip()
                lines.append(f"{title}: {text}" if title else text)
            else:
                lines.append(str(d))
        return " | ".join(lines)
    return "" if content is None else str(content)


def _annotate(config: RunnableConfig, attrs: dict[str, Any]) -> None:
    # Tracing is optional: without a handler (or outside a run) the event goes nowhere.
    try:
        dispatch_custom_event(sc.MAESTRO_SPAN_ATTRIBUTES_EVENT, {k: v for k, v in attrs.items() if v is not None},
                              config=config)
    except Exception:  # noqa: BLE001 - annotation must never break the search
        log.debug("could not annotate the span", exc_info=True)


def build_graph(
    llm: BaseChatModel,
    tools: Sequence[BaseTool],
    *,
    width: int = 3,
    max_depth: int = 4,
    max_iterations: int = 6,
    exploration: float = 1.0,
    name: str = "lats",
) -> Any:
    """Compile the LATS graph around any tool-calling chat model.

    Args:
        llm: the chat model (expansion and reflection share it).
        tools: the search tools (the local retriever, plus web search when enabled).
        width: candidate actions drawn per expanded node.
        max_depth: deepest node that may be created (the root is depth 0).
        max_iterations: selections (expansions of a node) before the search stops.
        exploration: the UCT exploration constant ``c``.
    """
    if not tools:
        raise ValueError("LATS needs at least one tool (the local retriever)")
    if width < 1 or max_depth < 1 or max_iterations < 1 or exploration < 0:
        raise ValueError("width, max_depth and max_iterations must be >= 1 and exploration >= 0")
    by_name = {t.name: t for t in tools}
    expand_llm = llm.bind_tools(tools)

    def select_node(state: LatsState, config: RunnableConfig) -> dict[str, Any]:
        tree = tree_from_state(state.get("tree"))
        iterations = state.get("iterations", 0)
        chosen = select(tree, c=exploration, max_depth=max_depth) if iterations < max_iterations else None
        if chosen is None:
            _annotate(config, {sc.MAESTRO_SEARCH_NODE_ID: ROOT_ID, sc.MAESTRO_SEARCH_ACTION: "stop"})
            return {"tree": tree_to_state(tree), "frontier": None, "done": True}
        node = tree[chosen]
        _annotate(config, {sc.MAESTRO_SEARCH_NODE_ID: chosen, sc.MAESTRO_SEARCH_PARENT_NODE_ID: node.parent_id,
                           sc.MAESTRO_SEARCH_DEPTH: node.depth, sc.MAESTRO_SEARCH_ACTION: "select",
                           sc.MAESTRO_SEARCH_VALUE: node.value, sc.MAESTRO_SEARCH_VISITS: node.visits})
        return {"tree": tree_to_state(tree), "frontier": chosen, "pending": [], "iterations": iterations + 1}

    def expand(state: LatsState, config: RunnableConfig) -> dict[str, Any]:
        tree = tree_from_state(state.get("tree"))
        parent_id = state["frontier"]
        assert parent_id is not None
        steps = trajectory(tree, parent_id)
        k = len(tree[parent_id].children) + 1
        reply = expand_llm.invoke([SystemMessage(content=EXPAND_SYSTEM),
                                   HumanMessage(content=format_expand_input(state["question"], steps, k, width))],
                                  config=config)
        calls = [c for c in (getattr(reply, "tool_calls", None) or []) if c.get("name") in by_name]
        if calls:
            call = calls[0]  # one action per candidate
            result = by_name[call["name"]].invoke(call, config=config)
            child = add_child(tree, parent_id, action="search", tool=call["name"],
                              query=str((call.get("args") or {}).get("query", "")),
                              observation=docs_text(getattr(result, "content", result)))
        else:
            child = add_child(tree, parent_id, action="answer", answer=parse_candidate_answer(message_text(reply)))
        _annotate(config, {sc.MAESTRO_SEARCH_NODE_ID: child.node_id, sc.MAESTRO_SEARCH_PARENT_NODE_ID: parent_id,
                           sc.MAESTRO_SEARCH_DEPTH: child.depth, sc.MAESTRO_SEARCH_ACTION: child.action})
        return {"tree": tree_to_state(tree), "pending": list(state.get("pending") or []) + [child.node_id]}

    def reflect(state: LatsState, config: RunnableConfig) -> dict[str, Any]:
        tree = tree_from_state(state.get("tree"))
        pending = list(state.get("pending") or [])
        node = tree[pending.pop(0)]
        reply = llm.invoke([SystemMessage(content=REFLECT_SYSTEM),
                            HumanMessage(content=format_reflect_input(state["question"],
                                                                      trajectory(tree, node.parent_id or ROOT_ID),
                                                                      node))],
                           config=config)
        score, solved = parse_reflection(message_text(reply))
        node.score, node.solved = score, solved and node.terminal
        backpropagate(tree, node.node_id, score)
        _annotate(config, {sc.MAESTRO_SEARCH_NODE_ID: node.node_id, sc.MAESTRO_SEARCH_PARENT_NODE_ID: node.parent_id,
                           sc.MAESTRO_SEARCH_DEPTH: node.depth, sc.MAESTRO_SEARCH_ACTION: node.action,
                           sc.MAESTRO_SEARCH_SCORE: score, sc.MAESTRO_SEARCH_VALUE: node.value,
                           sc.MAESTRO_SEARCH_VISITS: node.visits})
        out: dict[str, Any] = {"tree": tree_to_state(tree), "pending": pending}
        if node.solved:
            out.update(answer=node.answer or "", done=True)
        return out

    def after_select(state: LatsState) -> str:
        return END if state.get("done") else EXPAND

    def after_expand(state: LatsState) -> str:
        frontier = state.get("frontier")
        node = (state.get("tree") or {}).get(frontier, {}) if frontier is not None else {}
        n_children = len(node.get("children") or [])
        return EXPAND if n_children < width else REFLECT

    def after_reflect(state: LatsState) -> str:
        if state.get("done"):
            return END
        return REFLECT if state.get("pending") else SELECT

    g = StateGraph(LatsState)
    g.add_node(SELECT, select_node)
    g.add_node(EXPAND, expand)
    g.add_node(REFLECT, reflect)
    g.add_edge(START, SELECT)
    g.add_conditional_edges(SELECT, after_select, [EXPAND, END])
    g.add_conditional_edges(EXPAND, after_expand, [EXPAND, REFLECT])
    g.add_conditional_edges(REFLECT, after_reflect, [REFLECT, SELECT, END])
    return g.compile(name=name)


def final_answer(state: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(answer, node id)`` of a finished search: the solved answer, else the best-scored
    answer node's, else ``(None, None)`` when the search produced no answer."""
    tree = tree_from_state(state.get("tree"))
    node = best_answer(tree)
    if state.get("answer") is not None:
        solved = next((n for n in tree.values() if n.solved), None)
        return state["answer"], solved.node_id if solved else None
    if node is None:
        return None, None
    return node.answer or "", node.node_id
