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

from maestro.instances._common import lazy_exports

from .options import OPTIONS
from .prompts import EVALUATOR_MARKER, PROPOSER_MARKER, SOLVER_MARKER, extract_answer
from .puzzles import Puzzle, Verdict, generate_puzzles, solvable, solve, verify
from .sim_policies import register_sim_policies

__all__ = [
    "INSTANCE",
    "OPTIONS",
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

__getattr__ = lazy_exports(
    __name__,
    {
        "TotInstance": ".instance",
        "TOT_INFO": ".instance",
        "make_chat_model": ".instance",
        "build_graph": ".graph",
        "initial_state": ".graph",
    },
    instance=(".instance", "TotInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
