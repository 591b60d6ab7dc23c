"""Task sets: the bundled world's questions or a user JSONL file, optionally sampled.

The bundled task set always comes from ``build_world(DEFAULT_SEED)``: the simulated
service (possibly another process) must recognise the same questions, so the ``seed`` of
``load_tasks`` only picks the sample, never the world.

User JSONL: one object per line with ``id`` (str), ``question`` (str) and ``answer`` (str,
list of str, or null), and optionally ``hops`` (int) and ``context`` (str or list of str).
A list answer's first entry is the gold, the others are accepted aliases. Context
passages join the local retriever's corpus; questions become known to the policy lookup.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from maestro.contract import Task

from .lookup import register_user_question
from .retriever import add_user_passages
from .world import DEFAULT_QUESTIONS_PER_HOP, DEFAULT_SEED, Passage, Question, build_world

__all__ = ["evidence_location", "question_task", "read_jsonl_tasks", "stratified_sample", "load_tasks"]


def question_task(q: Question) -> Task:
    """The ``Task`` for a world question (meta is JSON-friendly)."""
    return Task(
        task_id=q.qid,
        question=q.text,
        gold=q.answer,
        meta={
            "hops": q.hops,
            "template": q.template,
            "answer_type": q.answer_type,
            "support_ids": list(q.support_ids),
            "support_pools": list(q.support_pools),
            "local_complete": q.local_complete,
            "evidence": evidence_location(q),
        },
    )


def evidence_location(q: Question) -> str:
    """Where a question's evidence lives: ``local`` (every hop's fact is in the local corpus
    only: web search cannot reach any), ``web`` (every hop's fact is on the web only: only
    web search reaches it) or ``both`` (the rest: a hop stated in both pools, or hops in
    different pools)."""
    pools = {"local" if web is None else ("web" if pool == "web" else "both")
             for pool, web in zip(q.support_pools, q.web_support_ids)}
    return pools.pop() if len(pools) == 1 and pools != {"both"} else "both"


def _fail(path: Path, lineno: int, msg: str) -> ValueError:
    return ValueError(f"{path}:{lineno}: {msg}")


def read_jsonl_tasks(path: str | Path) -> list[Task]:
    """Parse a user task file; errors name the file and the 1-based line number."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValueError(f"{p}: cannot read task file: {e}") from e
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj: Any = json.loads(line)
        except json.JSONDecodeError as e:
            raise _fail(p, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from e
        if not isinstance(obj, dict):
            raise _fail(p, lineno, f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "question", "answer"):
            if key not in obj:
                raise _fail(p, lineno, f"missing required field {key!r}")
        tid, question, answer = obj["id"], obj["question"], obj["answer"]
        if not isinstance(tid, str) or not tid.strip():
            raise _fail(p, lineno, "field 'id' must be a non-empty string")
        if tid in seen:
            raise _fail(p, lineno, f"duplicate id {tid!r} (first on line {seen[tid]})")
        seen[tid] = lineno
        if not isinstance(question, str) or not question.strip():
            raise _fail(p, lineno, "field 'question' must be a non-empty string")
        aliases: list[str] = []
        if isinstance(answer, list):
            if not answer or not all(isinstance(a, str) for a in answer):
                raise _fail(p, lineno, "field 'answer' as a list must hold at least one string")
            gold, aliases = answer[0], answer[1:]
        elif answer is None or isinstance(answer, str):
            gold = answer
        else:
            raise _fail(p, lineno, "field 'answer' must be a string, a list of strings or null")
        meta: dict[str, Any] = {}
        if "hops" in obj and obj["hops"] is not None:
            if not isinstance(obj["hops"], int) or isinstance(obj["hops"], bool) or obj["hops"] < 0:
                raise _fail(p, lineno, "field 'hops' must be a non-negative integer")
            meta["hops"] = obj["hops"]
        if "context" in obj and obj["context"] is not None:
            ctx = obj["context"]
            if isinstance(ctx, str):
                ctx = [ctx]
            if not isinstance(ctx, list) or not all(isinstance(c, str) for c in ctx):
                raise _fail(p, lineno, "field 'context' must be a string or a list of strings")
            meta["context"] = ctx
        if aliases:
            meta["aliases"] = aliases
        meta["source"] = str(p)
        tasks.append(Task(task_id=tid, question=question, gold=gold, meta=meta))
    return tasks


_EVIDENCE_ORDER = {"local": 0, "web": 1, "both": 2}


def stratified_sample(tasks: list[Task], n: int, seed: int = 0) -> list[Task]:
    """``n`` tasks balanced over strata of ``meta["hops"]`` and ``meta["evidence"]`` (where the
    evidence lives, for world questions), deterministic in ``seed``.

    Each stratum is shuffled by a seeded rng; then strata give one task each in turn (local
    evidence first, then web, then both; by hop count within), round after round, until
    ``n`` are taken, so every stratum is represented equally as far as its size allows (a
    balanced design: rare strata such as web-only questions are not drowned by common ones).
    A smaller ``n`` always gives a subset of a larger one. The result keeps the input order.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n >= len(tasks):
        return list(tasks)
    rng = random.Random(f"qa_world.sample:{seed}")
    strata: dict[tuple[Any, Any], list[int]] = {}
    for i, t in enumerate(tasks):
        strata.setdefault((t.meta.get("hops"), t.meta.get("evidence")), []).append(i)
    # Sort keys by repr first so the shuffles run in one fixed order whatever the input order.
    shuffled = {}
    for key in sorted(strata, key=repr):
        idxs = strata[key][:]
        rng.shuffle(idxs)
        shuffled[key] = idxs
    order = sorted(shuffled, key=lambda k: (_EVIDENCE_ORDER.get(k[1], 3), repr(k[0])))
    chosen: list[int] = []
    for j in range(max(len(v) for v in shuffled.values())):
        for key in order:
            if j < len(shuffled[key]) and len(chosen) < n:
                chosen.append(shuffled[key][j])
    return [tasks[i] for i in sorted(chosen)]


def load_tasks(source: str | None = None, n: int | None = None, seed: int = 0) -> list[Task]:
    """The bundled questions (``source`` None) or a user JSONL file, optionally sampled.

    Loading a user file registers its questions with the policy lookup and its context
    passages with the local retriever (both per process).
    """
    if source is None:
        world = build_world(DEFAULT_SEED, DEFAULT_QUESTIONS_PER_HOP)
        tasks = [question_task(q) for q in world.questions]
    else:
        tasks = read_jsonl_tasks(source)
        for t in tasks:
            register_user_question(t.question, t.gold, tuple(t.meta.get("aliases", ())))
            ctx = t.meta.get("context") or []
            add_user_passages([
                Passage(pid=f"U-{t.task_id}-{j}", pool="local", title=t.task_id, text=c, kind="user")
                for j, c in enumerate(ctx)
            ])
    if n is None:
        return tasks
    return stratified_sample(tasks, n, seed)
