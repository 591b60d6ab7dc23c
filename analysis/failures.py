"""Failure taxonomy and layered failure attribution (the paper's section 4.6, Table 3).

Categories (:class:`FailureCategory`) are Table 3's rows. Visibility follows how Table 3's
totals add up: *silent* (semantic) failures are plausible-looking answers that are wrong
(missing/underspecified output, wrong fact/entity: 47.61 + 27.66 = 75.27 %; the paper
prints 75.17 %); *explicit* failures are visible without reading the answer (empty
prediction, exception, timeout, other: 15.96 + 6.38 + 1.86 + 0.54 = 24.74 %; the paper
prints 24.84 %).

:func:`classify_failures` lists exactly the failed runs: those whose status is a failure
(``failure``, ``exception``, ``timeout``, ``crashed``) and those a scorer judged ``wrong``,
with ``failed_by`` saying which (``status`` first). A successful run that was not judged
(``unjudged``: no scorer or no gold) is not a failure and is never listed. Each failed run is
attributed in layers, first match wins, and every row names its ``layer`` and the
``evidence_span_id`` it rests on:

1. ``runtime``: run status ``timeout`` -> timeout (evidence: the innermost span the
   watchdog closed); ``exception``/``crashed`` -> exception (evidence: the first error
   span to end, where the error surfaced); a run with error spans and no final output ->
   exception; a non-terminating loop with no final output -> timeout (the run would not
   have ended). A loop (:func:`run_loop`) is a cycle of the same hand-overs repeated back
   to back without new information: each repeat carries the same messages (the same
   content fingerprint where content was captured, else the same byte sizes), a parallel
   fan-out counts once (:func:`hand_over_waves`), and the run did not end with an answer
   or hit its time cap. A multi-step plan whose messages change from step to step is not
   a loop.
   Retry lineage (``agent.retry.attempt_number`` > 1) is reported in ``retries``.
2. ``rules``: against the gold answer: no answer or an abstention ("I cannot answer",
   "unknown", ...) -> empty prediction; partial overlap with the gold (0 < F1 < 1) or an
   answer that names no specific entity (several words, no proper noun or number), or one
   whose instance judge reported a missing or incomplete part (``judgement_reason``) ->
   missing/underspecified output; any other non-matching answer -> wrong fact/entity;
   a failed status without gold to compare against -> other. Evidence: the final hand-over to ``__end__``.
3. ``judge:<name>``: optional LLM judges (:mod:`maestro.analysis.judges`) relabel the
   semantic (rules-layer) rows; every judge's label is kept in a ``judge_<name>`` column.
   Runtime-layer rows are never overridden: an offline judge cannot see stalls.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Protocol

import numpy as np
import pandas as pd

from maestro.semconv import RunStatus

__all__ = [
    "FailureCategory",
    "rule_category",
    "FAILED_STATUSES",
    "failed_by_of",
    "SILENT_CATEGORIES",
    "EXPLICIT_CATEGORIES",
    "Judge",
    "detect_loop",
    "hand_over_waves",
    "hand_over_payloads",
    "run_loop",
    "loops_df",
    "CONTENT_KEYS",
    "classify_failures",
    "failures_df",
    "answers_stored_by_study",
    "failure_breakdown",
    "failure_composition",
    "is_abstention",
    "names_no_entity",
]


class FailureCategory(str, Enum):
    """Table 3's failure categories."""

    MISSING_UNDERSPECIFIED = "missing_underspecified_output"
    """An answer is returned but lacks the detail the task asks for."""
    WRONG_FACT = "wrong_fact_entity"
    """A fully formed answer naming a wrong entity or fact."""
    EMPTY_PREDICTION = "empty_prediction"
    """No answer, or an explicit abstention."""
    EXCEPTION = "exception"
    """The run raised (or crashed) instead of answering."""
    TIMEOUT = "timeout"
    """The run hit its time cap, or looped without terminating."""
    OTHER = "other"
    """Anything else (e.g. a failed status with no gold answer or judgement to compare against)."""

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def silent(self) -> bool:
        return self in SILENT_CATEGORIES


_LABELS = {
    FailureCategory.MISSING_UNDERSPECIFIED: "Missing / underspecified output",
    FailureCategory.WRONG_FACT: "Wrong fact / entity",
    FailureCategory.EMPTY_PREDICTION: "Empty prediction",
    FailureCategory.EXCEPTION: "Exception",
    FailureCategory.TIMEOUT: "Timeout",
    FailureCategory.OTHER: "Other",
}

SILENT_CATEGORIES = frozenset({FailureCategory.MISSING_UNDERSPECIFIED, FailureCategory.WRONG_FACT})
"""Semantic failures that raise no visible signal."""
EXPLICIT_CATEGORIES = frozenset(FailureCategory) - SILENT_CATEGORIES
"""Failures visible without reading the answer."""


class Judge(Protocol):
    """What :func:`classify_failures` needs of a judge (see :class:`maestro.analysis.judges.LLMJudge`)."""

    name: str

    def label(self, run: Mapping[str, Any]) -> str:
        """A :class:`FailureCategory` value for one failed run (question/answer/gold in ``run``)."""
        ...


# --- rules -----------------------------------------------------------------------------------

_ABSTAIN = re.compile(
    r"\b(i (?:am )?(?:sorry|unable)|i can(?:'|no)t (?:answer|determine|find)|cannot (?:answer|determine|be determined)|"
    r"i do(?:n't| not) know|no answer|not (?:enough|sufficient) information)\b",
    re.IGNORECASE,
)
# bare placeholders abstain only as (nearly) the whole answer: "Dietary notes: none" inside
# a full itinerary is an answer, not an empty prediction
_PLACEHOLDER = re.compile(r"^\W*(?:the answer is\s+)?(?:unknown|n/a|none|nothing)\W*$", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9][\w'-]*")
# an instance judge that names a missing or incomplete part (marketing: "missing or
# incomplete: website"; travel planning: "missing day 4") saw an underspecified answer
_REPORTED_MISSING = re.compile(r"\b(missing|incomplete)\b", re.IGNORECASE)


def is_abstention(answer: str | None) -> bool:
    """True for a missing or blank answer or one that declines to answer."""
    if answer is None or (isinstance(answer, float) and np.isnan(answer)):
        return True
    text = str(answer).strip()
    return not text or bool(_ABSTAIN.search(text)) or bool(_PLACEHOLDER.match(text))


def names_no_entity(answer: str) -> bool:
    """True when a multi-word answer names nothing specific: no capitalised word after the
    first and no number (e.g. "It is a country that the sources describe")."""
    tokens = _TOKEN.findall(str(answer))
    if len(tokens) <= 3:
        return False  # a short answer is a claim about some entity
    return not any(t[0].isupper() or any(c.isdigit() for c in t) for t in tokens[1:])


def _closed_walk(hand_overs: Sequence[Any]) -> bool:
    """Whether ``hand_overs`` can be a cycle: ``(source, target)`` pairs must form a closed
    walk (each target sends the next hand-over, the last one returns to the first source);
    any other hand-over labels always can."""
    if not all(isinstance(h, tuple) and len(h) == 2 for h in hand_overs):
        return True
    return all(h[1] == hand_overs[(k + 1) % len(hand_overs)][0] for k, h in enumerate(hand_overs))


def detect_loop(seq: Sequence[Any], *, payloads: Sequence[Any] | None = None, max_period: int = 4,
                min_repeats: int = 3) -> tuple[tuple, int, int] | None:
    """A cycle of ``1..max_period`` hand-overs repeated back to back at least ``min_repeats``
    times: ``(cycle, repeats, start_index)`` of the longest such run, else None.

    E.g. ``[a->b, b->a, a->b, b->a, a->b, b->a]`` gives ``((a->b, b->a), 3, 0)``. Hand-overs
    given as ``(source, target)`` pairs form a cycle only as a closed walk, so a fan-out
    (``[p->w, p->w, p->w]``: one sender, parallel receivers) is not a loop; merge parallel
    hand-overs first (:func:`hand_over_waves`) to see loops made of fan-outs.

    ``payloads`` (one per hand-over: its content fingerprint or byte size, None when
    unknown) makes a repeat count only when it carries what the first pass carried, position
    by position: a plan whose steps hand over different messages is not a loop. Without
    ``payloads`` only the agents are compared.
    """
    if payloads is not None and len(payloads) != len(seq):
        raise ValueError(f"payloads has {len(payloads)} entries for {len(seq)} hand-overs")
    tokens = list(seq) if payloads is None else list(zip(seq, payloads))
    best = None
    n = len(seq)
    for p in range(1, max_period + 1):
        i = 0
        while i + p <= n:
            reps = 1
            while i + (reps + 1) * p <= n and tokens[i + reps * p:i + (reps + 1) * p] == tokens[i:i + p]:
                reps += 1
            closed = _closed_walk(seq[i:i + p])
            if closed and reps >= min_repeats and (best is None or reps * p > best[1] * len(best[0])):
                best = (tuple(seq[i:i + p]), reps, i)
            i += max(1, (reps - 1) * p) if closed and reps > 1 else 1
    return best


def hand_over_waves(edges: Sequence[tuple[str, str]], starts: Sequence[int],
                    receiver_ends: Sequence[int | None]) -> tuple[list[tuple[str, str]], list[int]]:
    """Time-ordered hand-overs with each parallel fan-out merged into one wave.

    Consecutive equal hand-overs ``s -> t`` are one wave when ``s != t`` (one sender handing
    to parallel copies of ``t``, e.g. LangGraph ``Send``: a sequential repeat needs a
    hand-over back to ``s`` in between) or when the receiving span of the earlier one was
    still running at the later one's ``start`` (``receiver_ends``: end of the receiving
    agent's span, None when unknown). Returns the waves and, per wave, the index of its last
    hand-over in ``edges``.
    """
    waves: list[tuple[str, str]] = []
    last: list[int] = []
    for k, edge in enumerate(edges):
        if waves and edge == waves[-1]:
            end = receiver_ends[last[-1]]
            if edge[0] != edge[1] or (end is not None and starts[k] < end):
                last[-1] = k
                continue
        waves.append(edge)
        last.append(k)
    return waves, last


def _na(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def rule_category(run: Mapping[str, Any], answers_stored: bool) -> tuple[FailureCategory, str]:
    """The rules layer's (category, reason) for a failed run from its judgement, answer, gold
    and F1 (``answers_stored=False``: the answer text is unknown, not empty)."""
    gold, answer, raw_f1 = run.get("gold"), run.get("answer"), run.get("f1")
    f1 = None if raw_f1 is None or _na(raw_f1) else float(raw_f1)
    if run.get("judgement") == "correct":
        return FailureCategory.OTHER, f"judged correct but status {run.get('status')!r}"
    if _na(gold) and _na(f1) and run.get("judgement") != "wrong":
        return FailureCategory.OTHER, f"run {run.get('status')}; no gold answer or judgement to tell the kind of failure"
    why = run.get("judgement_reason")
    reported_missing = not _na(why) and bool(_REPORTED_MISSING.search(str(why)))
    if not answers_stored:
        if f1 is not None and 0 < f1 < 1:
            return FailureCategory.MISSING_UNDERSPECIFIED, f"answers not stored; partial overlap f1={f1:.2f}"
        if reported_missing:
            return FailureCategory.MISSING_UNDERSPECIFIED, f"answers not stored; judge reported: {why}"
        return FailureCategory.OTHER, "answers not stored; cannot tell empty, vague and wrong apart"
    if is_abstention(answer):
        return FailureCategory.EMPTY_PREDICTION, "no answer" if _na(answer) or not str(answer).strip() else \
            "abstention"
    if reported_missing:
        return FailureCategory.MISSING_UNDERSPECIFIED, f"judge reported: {why}"
    if f1 is not None and 0 < f1 < 1:
        return FailureCategory.MISSING_UNDERSPECIFIED, f"partial overlap with gold (f1={f1:.2f})"
    if names_no_entity(str(answer)):
        return FailureCategory.MISSING_UNDERSPECIFIED, "answer names no specific entity"
    return FailureCategory.WRONG_FACT, "answer names an entity that does not match the gold"


# --- attribution -----------------------------------------------------------------------------

_SPAN_COLS = ["run_id", "span_id", "parent_span_id", "span_type", "agent_name", "status_code", "start_time_ns",
              "end_time_ns", "message_source", "message_target", "retry_attempt", "input_bytes", "total_bytes",
              "attributes_json"]

CONTENT_KEYS = ("maestro.message.content_hash", "maestro.message.hash", "gen_ai.input.messages",
                "gen_ai.output.messages", "gen_ai.tool.call.arguments", "message")
"""Span attributes that carry a hand-over's content (or its hash): when a message span has
one of them, its fingerprint is the hash of their values instead of its byte size."""
_TOOL_ARG_KEYS = ("gen_ai.tool.call.arguments", "gcp.vertex.agent.tool_call_args")


def _attrs(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or len(raw) < 3:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _fingerprint(values: Sequence[Any]) -> str:
    return hashlib.blake2b(json.dumps(list(values), sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


def hand_over_payloads(messages: pd.DataFrame) -> list[Any]:
    """What each hand-over (a message span row) carried, to tell a repeat from new
    information: ``"content:<hash>"`` of its content attributes (:data:`CONTENT_KEYS`) when
    the span has any (captured content or a recorded content hash), else its byte size
    (``input_bytes``, else ``total_bytes``), else None (unknown: equal only to another
    unknown, so a run without any byte counts is compared by its agents alone)."""
    if not len(messages):
        return []

    def column(name: str) -> list[Any]:
        return messages[name].tolist() if name in messages.columns else [None] * len(messages)

    return _payloads(column("attributes_json"), column("input_bytes"), column("total_bytes"))


def _payloads(raw_attrs: Sequence[Any], input_bytes: Sequence[Any], total_bytes: Sequence[Any]) -> list[Any]:
    """:func:`hand_over_payloads` of hand-overs given column by column."""
    out: list[Any] = []
    for raw, size_in, size_total in zip(raw_attrs, input_bytes, total_bytes):
        attrs = _attrs(raw)
        content = [attrs[k] for k in CONTENT_KEYS if k in attrs]
        size = size_in if not _na(size_in) else size_total
        out.append(f"content:{_fingerprint(content)}" if content else None if _na(size) else int(size))
    return out


def _run_key(row: Mapping[str, Any], multi: bool):
    return (row.get("study_id"), row["run_id"]) if multi else row["run_id"]


def _is(value: Any, text: str) -> bool:
    """``value == text`` for a cell that may be missing (None, NaN, pd.NA)."""
    return isinstance(value, str) and value == text


def _start_order(starts: Sequence[Any]) -> list[int]:
    """Positions in start order, stable, missing starts last (as ``sort_values`` orders them)."""
    return sorted(range(len(starts)), key=lambda k: (True, 0) if _na(starts[k]) else (False, starts[k]))


class _RunSpans:
    """Evidence lookups over one run's spans, held in start order as one Python list per
    column: a study's thousands of failed runs are classified without a pandas filter per
    lookup (that made ``maestro report`` on 10,000 runs spend 20 s here)."""

    def __init__(self, cols: Mapping[str, list[Any]]):
        self.c = cols
        self.n = len(next(iter(cols.values()))) if cols else 0

    @classmethod
    def of_frame(cls, s: pd.DataFrame) -> _RunSpans:
        cols = {c: s[c].to_numpy(dtype=object) for c in s.columns}
        order = _start_order(cols["start_time_ns"]) if "start_time_ns" in cols else list(range(len(s)))
        return cls({c: v[order].tolist() for c, v in cols.items()})

    def col(self, name: str) -> list[Any]:
        return self.c.get(name) or [None] * self.n

    def _of_type(self, span_type: str) -> list[int]:
        return [i for i, t in enumerate(self.col("span_type")) if _is(t, span_type)]

    def root(self) -> str | None:
        runs = self._of_type("run")
        if runs:
            return self.c["span_id"][runs[0]]
        return self.c["span_id"][0] if self.n else None

    def errors(self) -> list[int]:
        """Positions of the error spans other than the run root, in start order."""
        types = self.col("span_type")
        return [i for i, code in enumerate(self.col("status_code")) if _is(code, "ERROR") and not _is(types[i], "run")]

    def first_error(self) -> str | None:
        """The error span that ended first (the earliest-starting one on a tie)."""
        errors, ends = self.errors(), self.col("end_time_ns")
        if not errors:
            return None
        first = min(errors, key=lambda i: (True, 0) if _na(ends[i]) else (False, ends[i]))
        return self.c["span_id"][first]

    def innermost_error(self) -> str | None:
        errors = self.errors()
        return self.c["span_id"][errors[-1]] if errors else None

    def messages(self) -> list[int]:
        return self._of_type("message")

    def waves(self) -> tuple[list[tuple[str, str]], list[int]]:
        """:func:`hand_over_waves` of the run's messages; a message's receiving span is its
        parent when that is the target's agent span."""
        m = self.messages()
        if not m:
            return [], []
        targets = self.col("message_target")
        receiver_ends: list[Any] = [None] * len(m)
        if {"parent_span_id", "agent_name", "end_time_ns"} <= set(self.c):
            ids, names, ends, parents = self.c["span_id"], self.c["agent_name"], self.c["end_time_ns"], \
                self.c["parent_span_id"]
            agent_end = {(ids[i], names[i]): None if _na(ends[i]) else ends[i] for i in self._of_type("agent")}
            receiver_ends = [agent_end.get((parents[i], targets[i])) for i in m]
        sources, starts = self.col("message_source"), self.col("start_time_ns")
        return hand_over_waves([(sources[i], targets[i]) for i in m], [starts[i] for i in m], receiver_ends)

    def wave_payloads(self, last: list[int]) -> list[Any]:
        """What each wave carried (:func:`hand_over_payloads` of its hand-overs, sorted so a
        fan-out's order does not matter), plus the fingerprints of the captured tool
        arguments of tool calls that started before it and after the previous wave."""
        m = self.messages()
        per_msg = _payloads([self.col("attributes_json")[i] for i in m], [self.col("input_bytes")[i] for i in m],
                            [self.col("total_bytes")[i] for i in m])
        tools = self.tool_fingerprints()
        starts = [self.c["start_time_ns"][i] for i in m] if "start_time_ns" in self.c else []
        out: list[Any] = []
        first, prev_t = 0, None
        for k in last:
            members = tuple(sorted(repr(x) for x in per_msg[first:k + 1]))
            t_end = starts[k] if starts else None
            called = tuple(h for t, h in tools if (prev_t is None or t > prev_t) and (t_end is None or t <= t_end))
            out.append((members, called) if called else members)
            first, prev_t = k + 1, t_end
        return out

    def tool_fingerprints(self) -> list[tuple[int, str]]:
        """``(start_time_ns, hash)`` of each tool call whose arguments were captured."""
        if "attributes_json" not in self.c:
            return []
        raw, names, starts = self.c["attributes_json"], self.col("agent_name"), self.col("start_time_ns")
        out = []
        for i in self._of_type("tool"):
            attrs = _attrs(raw[i])
            args = [attrs[k] for k in _TOOL_ARG_KEYS if k in attrs]
            if args:
                out.append((int(starts[i]), f"tool:{_fingerprint([None if _na(names[i]) else names[i], *args])}"))
        return out

    def loop(self, *, status: Any = None, ended_with_answer: bool | None = None, max_period: int = 4,
             min_repeats: int = 3) -> tuple[tuple, int, int] | None:
        """:func:`run_loop` over these spans."""
        waves, last = self.waves()
        if not waves:
            return None
        ended = self.has_final_output() if ended_with_answer is None else ended_with_answer
        if ended and status != "timeout":
            return None  # it ended with an answer on its own: whatever repeated, it did not loop forever
        return detect_loop(waves, payloads=self.wave_payloads(last), max_period=max_period, min_repeats=min_repeats)

    def final_output(self) -> str | None:
        targets = self.col("message_target")
        ends = [i for i in self.messages() if _is(targets[i], "__end__")]
        if ends:
            return self.c["span_id"][ends[-1]]
        agents = self._of_type("agent")
        return self.c["span_id"][agents[-1]] if agents else self.root()

    def has_final_output(self) -> bool:
        targets = self.col("message_target")
        return any(_is(targets[i], "__end__") for i in self.messages())

    def max_attempt(self) -> int:
        attempts = [v for v in self.col("retry_attempt") if not _na(v)]
        numeric = []
        for v in attempts:
            try:
                numeric.append(float(v))
            except (TypeError, ValueError):
                continue  # not a number: ignored, as pd.to_numeric(errors="coerce") would
        return int(max(numeric)) if numeric else 1


def _runs_by_key(spans: pd.DataFrame | None, multi: bool) -> Callable[[Any], _RunSpans]:
    """A lookup from a run's key (:func:`_run_key`) to its :class:`_RunSpans`, built lazily:
    the frame is grouped once and only the runs asked for are converted."""
    empty = _RunSpans({})
    if spans is None or not len(spans) or "run_id" not in spans.columns:
        return lambda key: empty
    keep = [c for c in _SPAN_COLS if c in spans.columns]
    keys = ["study_id", "run_id"] if multi and "study_id" in spans.columns else ["run_id"]
    positions = spans.groupby(keys if len(keys) > 1 else keys[0], sort=False).indices
    cols = {c: spans[c].to_numpy(dtype=object) for c in keep}
    starts = cols.get("start_time_ns")

    def lookup(key: Any) -> _RunSpans:
        if multi and len(keys) == 1:
            key = key[1]  # runs from several studies, spans without study_id: match by run id
        pos = positions.get(key)
        if pos is None:
            return empty
        if starts is not None:
            pos = pos[_start_order(starts[pos])]
        return _RunSpans({c: v[pos].tolist() for c, v in cols.items()})

    return lookup


def run_loop(spans: pd.DataFrame, *, status: Any = None, ended_with_answer: bool | None = None,
             max_period: int = 4, min_repeats: int = 3) -> tuple[tuple, int, int] | None:
    """The non-terminating loop of one run's spans, ``(cycle, repeats, start_wave)`` as
    :func:`detect_loop` returns it, else None.

    A loop is a cycle of 1 to ``max_period`` hand-overs (parallel fan-outs merged,
    :func:`hand_over_waves`) repeated back to back at least ``min_repeats`` times **without
    new information** (every repeat carries the same payloads, :func:`hand_over_payloads`:
    the same content fingerprint when content or a content hash was recorded, else the same
    byte sizes) **in a run that did not end with an answer or hit its time cap**
    (``status == "timeout"``). ``ended_with_answer`` defaults to "the run handed over to
    ``__end__``". A multi-step plan (planner -> executor -> replanner, repeated with
    growing messages) and a fan-out are therefore not loops, and neither is a run that
    ended on its own with an answer.
    """
    return _RunSpans.of_frame(spans).loop(status=status, ended_with_answer=ended_with_answer, max_period=max_period,
                                 min_repeats=min_repeats)


def loops_df(runs: pd.DataFrame, spans: pd.DataFrame, *, answers_stored: bool | Mapping[str, bool] = True,
             max_period: int = 4, min_repeats: int = 3) -> pd.DataFrame:
    """:func:`run_loop` for every run (failed or not): the run's identity columns plus
    ``loop_detected``, ``loop_cycle`` and ``loop_repeats``. A run "ended with an answer"
    when it handed over to ``__end__`` and, where answers are stored, its answer is not an
    abstention (:func:`is_abstention`)."""
    multi = "study_id" in runs.columns and runs["study_id"].nunique() > 1
    spans_of = _runs_by_key(spans, multi)
    rows = []
    ident = [c for c in ("study_id", "run_id", "instance", "backend", "tools_enabled", "task_id", "repeat", "status",
                         "judgement") if c in runs.columns]
    for run in runs.to_dict("records"):
        rs = spans_of(_run_key(run, multi))
        stored = answers_stored.get(run.get("study_id"), True) if isinstance(answers_stored, Mapping) \
            else answers_stored
        ended = rs.has_final_output() and not (stored and "answer" in run and is_abstention(run.get("answer")))
        loop = rs.loop(status=run.get("status"), ended_with_answer=ended, max_period=max_period,
                       min_repeats=min_repeats)
        rows.append({**{c: run.get(c) for c in ident}, "loop_detected": loop is not None,
                     "loop_cycle": _fmt_cycle(loop[0]) if loop else None, "loop_repeats": loop[1] if loop else 0})
    return pd.DataFrame(rows, columns=[*ident, "loop_detected", "loop_cycle", "loop_repeats"])


FAILED_STATUSES = frozenset(s.value for s in RunStatus if s is not RunStatus.SUCCESS)
"""Run statuses that are failures by themselves, whatever the judgement."""


def failed_by_of(status: Any, judgement: Any) -> str | None:
    """Why a run counts as failed: ``"status"`` when its status is one of
    :data:`FAILED_STATUSES`, else ``"judgement"`` when a scorer judged it ``wrong``, else None
    (a successful run judged ``correct`` or ``unjudged`` did not fail)."""
    if status in FAILED_STATUSES:
        return "status"
    return "judgement" if judgement == "wrong" else None


def classify_failures(runs: pd.DataFrame, spans: pd.DataFrame | None, *, judges: Iterable[Judge] = (),
                      answers_stored: bool | Mapping[str, bool] = True, loop_period: int = 4,
                      loop_repeats: int = 3) -> pd.DataFrame:
    """One row per failed run (:func:`failed_by_of`) with why it counts as failed
    (``failed_by``), its category, visibility, layer and evidence span.

    Args:
        runs: a ``runs_df`` frame (needs ``run_id``, ``status``, ``judgement``, ``answer``,
            ``gold``, ``f1``; identity columns are carried through when present).
        spans: the runs' spans (``spans_df``, or any frame with the stored span columns);
            None attributes without runtime evidence (evidence falls back to nothing).
        judges: optional judges relabelling the semantic rows (first judge decides).
        answers_stored: False when the study did not store answers (or study_id -> bool).
        loop_period / loop_repeats: :func:`detect_loop` parameters.
    """
    judges = list(judges)
    multi = "study_id" in runs.columns and runs["study_id"].nunique() > 1
    spans_of = _runs_by_key(spans, multi)
    rows = []
    for run in runs.to_dict("records"):
        status = run.get("status")
        failed_by = failed_by_of(status, run.get("judgement"))
        if failed_by is None:
            continue  # succeeded, and judged correct or not judged at all
        rs = spans_of(_run_key(run, multi))
        msgs = rs.messages()
        seq, wave_end = rs.waves()
        n_err = len(rs.errors())
        stored = answers_stored.get(run.get("study_id"), True) if isinstance(answers_stored, Mapping) \
            else answers_stored
        layer, evidence = "runtime", None
        no_output = is_abstention(run.get("answer")) if stored else not rs.has_final_output()
        loop = rs.loop(status=status, ended_with_answer=rs.has_final_output() and not no_output,
                       max_period=loop_period, min_repeats=loop_repeats)
        if status == "timeout":
            cat, reason = FailureCategory.TIMEOUT, "run hit its time cap"
            evidence = rs.innermost_error() or rs.root()
            if loop:
                reason += f"; non-terminating loop ({_fmt_cycle(loop[0])} x{loop[1]})"
        elif status in ("exception", "crashed"):
            cat = FailureCategory.EXCEPTION
            reason = f"run {status}: {run.get('outcome_reason') or run.get('error') or 'no error text'}"
            evidence = rs.first_error() or rs.root()
        elif loop and no_output and not rs.has_final_output():
            cat = FailureCategory.TIMEOUT
            reason = f"non-terminating loop ({_fmt_cycle(loop[0])} x{loop[1]}) and no final output"
            # the loop's last hand-over: where the run was still cycling when it stopped
            evidence = rs.c["span_id"][msgs[wave_end[loop[2] + loop[1] * len(loop[0]) - 1]]]
        elif n_err and no_output:
            cat, reason = FailureCategory.EXCEPTION, f"{n_err} error span(s) and no final output"
            evidence = rs.first_error()
        else:
            layer = "rules"
            cat, reason = rule_category(run, stored)
            evidence = rs.final_output()
        row = {c: run.get(c) for c in ("study_id", "run_id", "instance", "framework", "backend", "model",
                                        "tools_enabled", "task_id", "repeat", "seed", "status", "judgement",
                                        "question", "answer", "gold", "f1") if c in run}
        row.update(failed_by=failed_by, category=cat.value, category_label=cat.label, silent=cat.silent,
                   visibility="silent" if cat.silent else "explicit", layer=layer, evidence_span_id=evidence,
                   reason=reason, loop_detected=loop is not None,
                   loop_cycle=_fmt_cycle(loop[0]) if loop else None, loop_repeats=loop[1] if loop else 0,
                   retries=rs.max_attempt() - 1, n_error_spans=n_err)
        labels = {}
        for j in judges:
            labels[j.name] = _judge_label(j, run)
            row[f"judge_{j.name}"] = labels[j.name]
        if judges and layer == "rules" and labels[judges[0].name] is not None:
            cat = FailureCategory(labels[judges[0].name])
            row.update(failed_by=failed_by, category=cat.value, category_label=cat.label, silent=cat.silent,
                       visibility="silent" if cat.silent else "explicit", layer=f"judge:{judges[0].name}",
                       reason=f"{judges[0].name} judged {cat.value} (rules said {row['category']})")
        rows.append(row)
    cols = ["study_id", "run_id", "instance", "framework", "backend", "model", "tools_enabled", "task_id", "repeat",
            "seed", "status", "judgement", "failed_by", "category", "category_label", "silent", "visibility", "layer",
            "evidence_span_id", "reason", "loop_detected", "loop_cycle", "loop_repeats", "retries", "n_error_spans",
            "question", "answer", "gold", "f1"]
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=cols)
    return df[[c for c in cols if c in df.columns] + [c for c in df.columns if c.startswith("judge_")]]


def _fmt_cycle(cycle: tuple) -> str:
    return " ".join(f"{a}->{b}" if isinstance(a, str) else str(a) for a, b in cycle) if cycle and \
        isinstance(cycle[0], tuple) else str(cycle)


def _judge_label(judge: Judge, run: Mapping[str, Any]) -> str | None:
    try:
        label = judge.label(run)
        return FailureCategory(label).value
    except Exception:  # noqa: BLE001 - a judge's failure is recorded as a missing label, never fatal
        return None


def failures_df(studies, *, judges: Iterable[Judge] = (), strict: bool = True, **kwargs: Any):
    """``classify_failures`` straight from study folders (or ``maestro.Study`` objects).

    ``judges`` are judge objects (``maestro.runner.judges.open_judges`` makes them from
    backend specs such as ``sim/strong``). ``strict=False`` returns ``(df, errors)`` like the
    other frames.
    """
    from maestro.analysis.frames import runs_df, spans_df, study_infos

    errors: list[tuple[str, str]] = []
    if strict:
        runs, spans = runs_df(studies), spans_df(studies, columns=_SPAN_FRAME_COLS)
    else:
        runs, e1 = runs_df(studies, strict=False)
        spans, e2 = spans_df(studies, columns=_SPAN_FRAME_COLS, strict=False)
        errors = list(dict.fromkeys(e1 + e2))
    # non-strict too: a study run with store_answers=false must not read as all-empty answers
    stored = answers_stored_by_study(study_infos(studies, strict=strict))
    df = classify_failures(runs, spans, judges=list(judges), answers_stored=stored, **kwargs)
    return df if strict else (df, errors)


def answers_stored_by_study(infos: Mapping[str, Mapping[str, Any]]) -> dict[str, bool]:
    """study_id -> whether the study stored final answers (its ``store_answers`` setting),
    from ``study_infos``; the ``answers_stored`` argument of :func:`classify_failures`."""
    return {sid: bool((info.get("config") or {}).get("store_answers", True)) for sid, info in infos.items()}


_SPAN_FRAME_COLS = ["study_id", "run_id", "span_id", "parent_span_id", "span_type", "agent_name", "status_code",
                    "start_time_ns", "end_time_ns", "message_source", "message_target", "retry_attempt",
                    "input_bytes", "total_bytes", "attributes_json"]


def failure_breakdown(failures: pd.DataFrame, by: str | Sequence[str] | None = "backend", *,
                      column: str = "category") -> pd.DataFrame:
    """Failure composition per group (figure 11a data): one row per group and category
    (every category listed, zeros included) with ``n`` and ``percent`` of the group's
    failures. ``column="visibility"`` gives the silent/explicit split instead."""
    levels = [c.value for c in FailureCategory] if column == "category" else \
        (["silent", "explicit"] if column == "visibility" else sorted(failures[column].dropna().unique()))
    cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    groups = failures.groupby(cols, dropna=False) if cols else [((), failures)]
    rows = []
    for key, g in groups:
        keyvals = dict(zip(cols, key if isinstance(key, tuple) else (key,)))
        counts = g[column].value_counts()
        total = len(g)
        for lv in levels:
            n = int(counts.get(lv, 0))
            rows.append({**keyvals, column: lv, "n": n, "percent": 100.0 * n / total if total else 0.0})
    return pd.DataFrame(rows, columns=[*cols, column, "n", "percent"])


def failure_composition(failures: pd.DataFrame) -> pd.DataFrame:
    """Table 3: percentage of all failures per category, then silent and explicit totals."""
    cat = failure_breakdown(failures, by=None)
    vis = failure_breakdown(failures, by=None, column="visibility")
    rows = [{"failure": FailureCategory(r.category).label, "n": r.n, "percent": r.percent} for r in cat.itertuples()]
    rows += [{"failure": "Silent semantic failures" if r.visibility == "silent" else "Explicit failures", "n": r.n,
              "percent": r.percent} for r in vis.itertuples()]
    return pd.DataFrame(rows, columns=["failure", "n", "percent"])
