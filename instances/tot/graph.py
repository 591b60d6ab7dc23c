"""The Tree of Thoughts graph: proposer, evaluator and solver as LangGraph nodes.

Breadth-first search over partial solutions (Yao et al. 2023, the Game of 24 setup)::

    START -> proposer -> evaluator
    evaluator -> proposer    while states survive and the depth is not reached,
                             or (once per retry) when none survived: propose again
    evaluator -> solver      at full depth, or when nothing survived and no retry is left
    solver -> END

* ``proposer``: one model call per state of the beam; each reply lists next steps. The
  graph only parses them: a line whose operands are not among the state's remaining
  numbers is dropped; the claimed result is trusted (the graph does no arithmetic, so a
  model's slip travels down the tree). Children with the same remaining numbers are merged.
* ``evaluator``: one model call per new state: ``sure`` / ``likely`` / ``impossible``
  (scored 20 / 1 / 0.001, an unreadable reply 0). States judged impossible are pruned, the
  best ``beam_width`` survive (ties keep proposal order).
* ``solver``: one model call: the best surviving chain of steps -> the final expression.

Every node passes the run's ``config`` to the model, so callbacks reach each call. There are
no tools.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from maestro.instances._common import message_text

from .prompts import (
    EVALUATOR_SYSTEM,
    PROPOSER_SYSTEM,
    SOLVER_SYSTEM,
    VALUES,
    format_evaluator_input,
    format_numbers,
    format_proposer_input,
    format_solver_input,
    parse_numbers,
    parse_proposals,
    parse_value,
)
from .puzzles import format_number, parse_number

__all__ = ["PROPOSER", "EVALUATOR", "SOLVER", "AGENT_NODES", "PRUNE_BELOW", "TotState", "build_graph",
           "initial_state", "message_text"]

PROPOSER = "proposer"
EVALUATOR = "evaluator"
SOLVER = "solver"
AGENT_NODES = (PROPOSER, EVALUATOR, SOLVER)
"""The three agents (graph nodes)."""
PRUNE_BELOW = 0.01
"""States valued below this (``impossible``, or no verdict) leave the beam."""


class TotState(TypedDict, total=False):
    """The graph's state. Numbers travel as text (``8/3``) so the state stays JSON-able.

    A search state ("thought") is a dict ``{"steps": [...], "left": "4 6", "value": float}``.
    """

    target: str
    """The number to reach."""
    numbers: str
    """The puzzle's numbers, space-separated."""
    frontier: list[dict[str, Any]]
    """The beam: states the proposer expands next."""
    candidates: list[dict[str, Any]]
    """States proposed at this level, waiting for the evaluator."""
    rejected: list[list[str]]
    """Per frontier state, the steps whose results were all pruned (for a retry)."""
    depth: int
    """Steps taken by the frontier's states."""
    retries: int
    """Retries used (a level where nothing survived, proposed again)."""
    proposals: int
    """Steps proposed so far (valid ones)."""
    invalid: int
    """Proposed lines the graph could not use."""
    evaluated: int
    """States the evaluator valued."""
    survived: bool
    """Whether any state survived the last evaluation."""
    chain: list[str]
    """The steps handed to the solver."""
    generation: str
    """The solver's full reply."""


def initial_state(numbers, target) -> TotState:
    """The input for one puzzle: the root state is the puzzle itself."""
    nums = format_numbers(numbers)
    return {"target": format_number(Fraction(target)), "numbers": nums,
            "frontier": [{"steps": [], "left": nums, "value": 0.0}], "candidates": [], "rejected": [[]],
            "depth": 0, "retries": 0, "proposals": 0, "invalid": 0, "evaluated": 0}


def build_graph(
    llm: BaseChatModel,
    *,
    beam_width: int = 3,
    n_propose: int = 5,
    max_depth: int | None = None,
    max_retries: int = 1,
    name: str = "tot",
) -> Any:
    """Compile the ToT graph around any chat model.

    Args:
        beam_width: states kept per level (``b`` in the paper).
        n_propose: steps each proposer call is asked for.
        max_depth: steps before the solver writes up; default: numbers - 1 (a full chain).
        max_retries: how often, in a run, a level where nothing survived is proposed again.
    """
    if beam_width < 1 or n_propose < 1 or max_retries < 0 or (max_depth is not None and max_depth < 1):
        raise ValueError(f"need beam_width >= 1, n_propose >= 1, max_retries >= 0, max_depth >= 1; got "
                         f"beam_width={beam_width} n_propose={n_propose} max_retries={max_retries} max_depth={max_depth}")

    def depth_limit(state: TotState) -> int:
        full = len(state["numbers"].split()) - 1
        return full if max_depth is None else min(max_depth, full)

    def propose(state: TotState, config: RunnableConfig) -> dict[str, Any]:
        target, numbers = state["target"], state["numbers"]
        frontier = state.get("frontier") or []
        rejected = state.get("rejected") or [[] for _ in frontier]
        seen: set[str] = set()
        candidates: list[dict[str, Any]] = []
        proposals, invalid = state.get("proposals", 0), state.get("invalid", 0)
        for i, parent in enumerate(frontier):
            remaining = parse_numbers(parent["left"])
            avoid = rejected[i] if i < len(rejected) else []
            reply = llm.invoke(
                [SystemMessage(content=PROPOSER_SYSTEM),
                 HumanMessage(content=format_proposer_input(target, parse_numbers(numbers), parent["steps"],
                                                            remaining, n_propose, avoid))],
                config=config,
            )
            steps, bad = parse_proposals(message_text(reply), remaining)
            invalid += bad
            proposals += len(steps)
            for step, left in steps:
                key = format_numbers(left)
                if key in seen:
                    continue  # same remaining numbers: one state (its value would be the same)
                seen.add(key)
                candidates.append({"steps": parent["steps"] + [step.text], "left": key, "value": 0.0, "parent": i})
        return {"candidates": candidates, "proposals": proposals, "invalid": invalid}

    def evaluate(state: TotState, config: RunnableConfig) -> dict[str, Any]:
        target = state["target"]
        scored = []
        for cand in state.get("candidates") or []:
            reply = llm.invoke(
                [SystemMessage(content=EVALUATOR_SYSTEM),
                 HumanMessage(content=format_evaluator_input(parse_number(target), parse_numbers(cand["left"])))],
                config=config,
            )
            verdict = parse_value(message_text(reply))
            scored.append({**cand, "value": VALUES.get(verdict, 0.0) if verdict else 0.0, "verdict": verdict or ""})
        evaluated = state.get("evaluated", 0) + len(scored)
        kept = [c for c in scored if c["value"] >= PRUNE_BELOW]
        kept.sort(key=lambda c: -c["value"])  # stable: ties keep proposal order
        if kept:
            beam = [{k: v for k, v in c.items() if k != "parent"} for c in kept[:beam_width]]
            return {"frontier": beam, "candidates": [], "rejected": [[] for _ in beam],
                    "depth": state.get("depth", 0) + 1, "evaluated": evaluated, "survived": True}
        # Nothing survived: remember what was tried from each parent, in case of a retry.
        frontier = state.get("frontier") or []
        rejected = [list(r) for r in (state.get("rejected") or [[] for _ in frontier])]
        for c in scored:
            rejected[c["parent"]].append(c["steps"][-1])
        return {"candidates": [], "rejected": rejected, "retries": state.get("retries", 0) + 1,
                "evaluated": evaluated, "survived": False}

    def route(state: TotState) -> str:
        if state.get("survived"):
            return SOLVER if state.get("depth", 0) >= depth_limit(state) else PROPOSER
        return PROPOSER if state.get("retries", 0) <= max_retries else SOLVER

    def solve(state: TotState, config: RunnableConfig) -> dict[str, Any]:
        frontier = state.get("frontier") or []
        best = frontier[0] if frontier else {"steps": []}
        chain = list(best.get("steps") or [])
        reply = llm.invoke(
            [SystemMessage(content=SOLVER_SYSTEM),
             HumanMessage(content=format_solver_input(parse_number(state["target"]), parse_numbers(state["numbers"]),
                                                      chain))],
            config=config,
        )
        return {"chain": chain, "generation": message_text(reply)}

    g = StateGraph(TotState)
    g.add_node(PROPOSER, propose)
    g.add_node(EVALUATOR, evaluate)
    g.add_node(SOLVER, solve)
    g.add_edge(START, PROPOSER)
    g.add_edge(PROPOSER, EVALUATOR)
    g.add_conditional_edges(EVALUATOR, route, [PROPOSER, SOLVER])
    g.add_edge(SOLVER, END)
    return g.compile(name=name)
