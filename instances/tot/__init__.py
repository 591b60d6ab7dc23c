"""Tree of Thoughts (Yao et al. 2023) as a LangGraph MAS instance.

Paper Table 2: Cross-domain, LangGraph, Debate, 3 agents (proposer, evaluator, solver),
0 tools, Artifacts in, Closed-Form out, suite F. The task is a seeded Game-of-24-style
puzzle set verified exactly (:mod:`.puzzles`).

Importing this package registers ToT's simulated-model policies (cheap, idempotent). The
LangChain/LangGraph-dependent names (``INSTANCE``, ``TotInstance``, ``build_graph``, ...)
load on first access, so the simulated service can import the policies without the
frameworks.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .prompts import EVALUATOR_MARKER, PROPOSER_MARKER, SOLVER_MARKER, extract_answer
from .puzzles import Puzzle, Verdict, generate_puzzles, solvable, solve, verify
from .sim_policies import register_sim_policies

__all__ = [
    "INSTANCE",
    "TotInstance",
    "TOT_INFO",
    "build_graph",
    "initial_state",
    "make_chat_model",
    "register_sim_policies",
    "extract_answer",
    "Puzzle",
    "Verdict",
    "generate_puzzles",
    "solvable",
    "solve",
    "verify",
    "PROPOSER_MARKER",
    "EVALUATOR_MARKER",
    "SOLVER_MARKER",
]

_LAZY = {
    "TotInstance": ".instance",
    "TOT_INFO": ".instance",
    "make_chat_model": ".instance",
    "build_graph": ".graph",
    "initial_state": ".graph",
}


def __getattr__(name: str) -> Any:
    # PEP 562: resolve framework-dependent names on first use.
    if name == "INSTANCE":
        inst = import_module(".instance", __name__).TotInstance()
        globals()["INSTANCE"] = inst
        return inst
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_sim_policies()
