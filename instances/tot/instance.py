"""``TotInstance``: Tree of Thoughts behind maestro's ``Instance`` interface.

``build`` makes one ``ChatOpenAI`` client per run, pointed at the run's endpoint (the
simulated service or a real provider: same code path), and compiles the graph; ``run``
invokes it synchronously and pulls the expression out of the solver's reply; ``judge``
verifies it exactly (:func:`.puzzles.verify`).

ToT has no tools: ``ctx.tools_enabled`` is ignored (a tools-on run is the same run).

Options (``RunContext.options``): declared in :mod:`.options` (names, types, defaults,
docs) and read through ``resolve_options``; client retries are ``max_retries_http``
because ``max_retries`` counts ToT's re-proposals.
"""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI

from maestro.contract import InstanceInfo, InstanceOption, JudgeResult, RunContext, Task, TaskResult, resolve_options
from maestro.instances._common import answer_result, invoke_graph, make_chat_openai

from . import puzzles
from .graph import build_graph, initial_state
from .options import OPTIONS
from .prompts import extract_answer
from .puzzles import DEFAULT_TARGET, Puzzle, generate_puzzles, load_puzzles, verify

__all__ = ["TOT_INFO", "DEFAULT_N_TASKS", "TotInstance", "make_chat_model", "puzzle_task", "load_tasks"]

TOT_INFO = InstanceInfo(
    name="tot",
    title="Tree of Thoughts",
    app_field="Cross-domain",
    framework="langgraph",
    interaction="Debate",
    n_agents=3,
    n_tools=0,
    data_in="Artifacts",
    data_out="Closed-Form",
    suites="F",
    source="Yao et al., Tree of Thoughts: Deliberate Problem Solving with Large Language Models, 2023 "
           "(arXiv:2305.10601)",
)
"""ToT's row of the paper's Table 2."""

DEFAULT_N_TASKS = 30
"""Size of the generated task set when no ``n`` is given (10 per difficulty)."""


def make_chat_model(ctx: RunContext) -> ChatOpenAI:
    """The run's chat model: ChatOpenAI against ``ctx.endpoint``. Client retries come from
    the option ``max_retries_http`` (``max_retries`` counts ToT's re-proposals)."""
    return make_chat_openai(ctx, retries_option="max_retries_http")


def puzzle_task(p: Puzzle) -> Task:
    """A puzzle as a runner task (gold: one known solution)."""
    return Task(task_id=p.puzzle_id, question=p.question(), gold=p.solution,
                meta={"numbers": list(p.numbers), "target": p.target, "difficulty": p.difficulty,
                      "solvable_share": p.solvable_share})


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0,
               target: int = DEFAULT_TARGET, lo: int = 1, hi: int = 13) -> list[Task]:
    """Generated puzzles (stratified by difficulty, seeded), or the first ``n`` of a JSONL file."""
    if source:
        puzzles = load_puzzles(source)
        return [puzzle_task(p) for p in (puzzles if n is None else puzzles[:n])]
    return [puzzle_task(p) for p in generate_puzzles(DEFAULT_N_TASKS if n is None else n, seed,
                                                     target=target, lo=lo, hi=hi)]


class TotInstance:
    """Tree of Thoughts on seeded Game-of-24 puzzles."""

    info: InstanceInfo = TOT_INFO
    options: tuple[InstanceOption, ...] = OPTIONS

    def tasks(self, *, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
        """``n`` generated puzzles (default 30) for ``seed``, or puzzles from a JSONL ``source``
        (``{"numbers": [...], "target": 24, "id": ...}`` per line)."""
        return load_tasks(n=n, source=source, seed=seed)

    def warm(self) -> None:
        """Parse the precomputed puzzle table once (the runner calls this in the forkserver,
        so every forked run starts with it)."""
        puzzles._table()

    def build(self, ctx: RunContext) -> Any:
        """Compile the graph for one run (no tools, whatever ``ctx.tools_enabled`` says)."""
        opts = resolve_options(self.options, ctx.options)
        return build_graph(
            make_chat_model(ctx),
            beam_width=opts["beam_width"],
            n_propose=opts["n_propose"],
            max_depth=opts["max_depth"],
            max_retries=opts["max_retries"],
        )

    def run(self, app: Any, task: Task, ctx: RunContext) -> TaskResult:
        """Solve one puzzle. Model/HTTP errors propagate (the runner records them)."""
        numbers = task.meta.get("numbers")
        target = task.meta.get("target", DEFAULT_TARGET)
        if not numbers:
            raise ValueError(f"task {task.task_id!r} has no meta['numbers']: not a ToT puzzle task")
        limit = resolve_options(self.options, ctx.options)["recursion_limit"]
        state, failed = invoke_graph(app, initial_state(numbers, target), limit)
        if failed:
            return failed
        return answer_result(extract_answer(state.get("generation") or ""), "empty answer from solver")

    def judge(self, task: Task, answer: str | None) -> JudgeResult:
        """Exact verification: ``correct`` when the expression uses each number once and
        equals the target; otherwise ``wrong`` with the verifier's reason (``empty answer``,
        a number reused or missing, division by zero, its actual value, not an expression)."""
        numbers = task.meta.get("numbers")
        if not numbers:
            return JudgeResult("unknown", "task has no numbers to verify against")
        v = verify(answer, numbers, task.meta.get("target", DEFAULT_TARGET))
        return JudgeResult("correct" if v.correct else "wrong", f"{v.kind}: {v.reason}",
                           exact_match=1.0 if v.correct else 0.0)

