"""LLM judges for failure attribution, and agreement between judges (figure 11b).

:class:`LLMJudge` asks any OpenAI-compatible chat endpoint (a provider, a local server,
or maestro's simulated service) to put one failed run into one category of a taxonomy:

* :data:`TABLE3_TAXONOMY`: the paper's Table 3 categories (:class:`FailureCategory`);
* :data:`MAST_TAXONOMY`: the 14 failure modes of MAST (Cemri et al., "Why Do Multi-Agent
  LLM Systems Fail?", 2025), grouped in its three categories (specification issues,
  inter-agent misalignment, task verification); names from the paper, definitions in our
  own words.

The judge sees what an offline judge sees: question, gold answer, final answer and, when
``online=True``, the run's runtime facts (status, error spans, loop) as well.
:func:`judge_agreement` gives pairwise Cohen's kappa between judges.

Judges take a resolved endpoint (base URL, model, key): this module reads parquet and
talks HTTP, nothing else. ``maestro.runner.judges.open_judges(["sim/strong",
"openai/gpt-4o-mini"])`` makes judges from backend specs, resolved like a study's backends,
and serves the ``sim/...`` ones from a simulated service it starts and stops.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from maestro.analysis.failures import FailureCategory

__all__ = [
    "Taxonomy",
    "TABLE3_TAXONOMY",
    "MAST_TAXONOMY",
    "JUDGE_MARKER",
    "LLMJudge",
    "judge_runs",
    "cohen_kappa",
    "judge_agreement",
    "judge_failures",
]

JUDGE_MARKER = "[maestro-judge:failure-attribution]"
"""Role marker at the start of every judge system prompt (the simulated judge matches on it)."""


@dataclass(frozen=True)
class Taxonomy:
    """A set of labels a judge chooses from."""

    name: str
    """Short name, e.g. ``table3`` or ``mast``."""
    labels: tuple[tuple[str, str], ...]
    """(label, one-line definition) pairs, in the order shown to the judge."""
    fallback: str | None
    """Label used when the reply names none (None: the run stays unlabelled)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(lb for lb, _ in self.labels)


TABLE3_TAXONOMY = Taxonomy(
    "table3",
    (
        (FailureCategory.MISSING_UNDERSPECIFIED.value,
         "an answer is given but it is vague or incomplete and does not name what the question asks for"),
        (FailureCategory.WRONG_FACT.value, "a specific, confident answer naming the wrong entity or fact"),
        (FailureCategory.EMPTY_PREDICTION.value, "no answer at all, or the system declines to answer"),
        (FailureCategory.EXCEPTION.value, "the system raised an error instead of answering"),
        (FailureCategory.TIMEOUT.value, "the system did not finish in time or kept looping"),
        (FailureCategory.OTHER.value, "none of the above"),
    ),
    fallback=FailureCategory.OTHER.value,
)
"""The paper's Table 3 categories."""

MAST_TAXONOMY = Taxonomy(
    "mast",
    (
        # specification issues
        ("disobey_task_specification", "an agent ignores constraints or requirements stated in the task"),
        ("disobey_role_specification", "an agent acts outside the role it was assigned"),
        ("step_repetition", "work that was already done is needlessly done again"),
        ("loss_of_conversation_history", "context from earlier turns is dropped, so the agent regresses"),
        ("unaware_of_termination_conditions", "the system does not recognise when it should stop"),
        # inter-agent misalignment
        ("conversation_reset", "the dialogue restarts without reason, losing progress"),
        ("fail_to_ask_for_clarification", "an agent proceeds on unclear input instead of asking"),
        ("task_derailment", "the agents drift away from the task's objective"),
        ("information_withholding", "an agent keeps back information another agent needed"),
        ("ignored_other_agent_input", "an agent disregards a peer's input or correction"),
        ("reasoning_action_mismatch", "what an agent does contradicts its own stated reasoning"),
        # task verification
        ("premature_termination", "the run ends before the task is complete"),
        ("no_or_incomplete_verification", "results are not checked, or checked only partly"),
        ("incorrect_verification", "a check is performed but reaches the wrong verdict"),
    ),
    fallback=None,
)
"""MAST's 14 failure modes (Cemri et al., 2025); definitions paraphrased."""


def _system_prompt(tax: Taxonomy) -> str:
    lines = [JUDGE_MARKER, f"taxonomy: {tax.name}",
             "You attribute the failure of one run of a multi-agent system to exactly one category.",
             "Categories:"]
    lines += [f"- {label}: {definition}" for label, definition in tax.labels]
    lines.append("Reply with the category name only.")
    return "\n".join(lines)


def _user_prompt(run: Mapping[str, Any], online: bool) -> str:
    def show(v: Any) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return "(none)"
        return str(v)

    lines = [f"Question: {show(run.get('question'))}", f"Gold answer: {show(run.get('gold'))}",
             f"Final answer: {show(run.get('answer'))}"]
    if online:
        lines += [f"Run status: {show(run.get('status'))}", f"Error spans: {show(run.get('n_error_spans'))}",
                  f"Loop: {show(run.get('loop_cycle'))}"]
    return "\n".join(lines)


def parse_label(text: str | None, tax: Taxonomy) -> str | None:
    """The first taxonomy label named in a reply (case and separators ignored)."""
    if not text:
        return tax.fallback
    norm = re.sub(r"[^a-z0-9]+", "_", text.lower())
    hits = [(norm.find(lb), lb) for lb in sorted(tax.names, key=len, reverse=True) if lb in norm]
    return min(hits)[1] if hits else tax.fallback


class LLMJudge:
    """A judge behind an OpenAI-compatible chat endpoint.

    >>> judge = LLMJudge("gpt-4o-mini", base_url="https://api.openai.com/v1", model="gpt-4o-mini")  # doctest: +SKIP
    >>> judge.label({"gold": "Paris", "answer": "Lyon"})   # doctest: +SKIP
    'wrong_fact_entity'
    """

    def __init__(self, name: str, *, base_url: str, model: str, api_key: str = "not-needed",
                 taxonomy: Taxonomy = TABLE3_TAXONOMY, online: bool = False, max_tokens: int = 32,
                 timeout_s: float = 60.0, client: Any = None):
        self.name = name
        """Judge name (column ``judge_<name>`` in failure frames)."""
        self.model = model
        self.taxonomy = taxonomy
        self.online = online
        """Whether the judge also sees runtime facts (the paper's online attribution)."""
        self.max_tokens = max_tokens
        if client is None:
            import openai

            client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=2)
        self.client = client

    def label(self, run: Mapping[str, Any]) -> str | None:
        """One taxonomy label for a failed run (a ``failures_df``/``runs_df`` row as a dict)."""
        reply = self.client.chat.completions.create(
            model=self.model, temperature=0, max_tokens=self.max_tokens,
            messages=[{"role": "system", "content": _system_prompt(self.taxonomy)},
                      {"role": "user", "content": _user_prompt(run, self.online)}])
        return parse_label(reply.choices[0].message.content, self.taxonomy)


def judge_runs(judges: Iterable[Any], runs: pd.DataFrame, *, key: str = "run_id") -> pd.DataFrame:
    """Every judge's label for every run: one column per judge, indexed by ``key``.
    A judge that fails on a run leaves its label missing."""
    out = {}
    records = runs.to_dict("records")
    for j in judges:
        labels = []
        for r in records:
            try:
                labels.append(j.label(r))
            except Exception:  # noqa: BLE001 - one failed request must not lose the other labels
                labels.append(None)
        out[j.name] = labels
    return pd.DataFrame(out, index=pd.Index(runs[key], name=key))


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa of two label sequences: (p_o - p_e) / (1 - p_e).

    NaN when there are no items or when chance agreement is 1 (both judges used one and
    the same label throughout: agreement is then undefined, not perfect).
    """
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"label sequences differ in length ({len(a)} vs {len(b)})")
    n = len(a)
    if n == 0:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = pd.Series(a).value_counts() / n, pd.Series(b).value_counts() / n
    pe = float(sum(ca.get(k, 0.0) * cb.get(k, 0.0) for k in set(ca.index) | set(cb.index)))
    if pe >= 1.0:
        return float("nan")
    return (po - pe) / (1 - pe)


def judge_agreement(labels_by_judge: Mapping[str, Sequence[Any] | pd.Series] | pd.DataFrame | Any, *,
                    judges: Sequence[LLMJudge] | None = None) -> pd.DataFrame:
    """Pairwise agreement between judges: one row per unordered judge pair with ``n``
    (items both labelled), ``agreement`` (observed share) and ``kappa`` (Cohen's).

    ``labels_by_judge``: judge name -> labels (lists aligned by position, or Series aligned
    by index), or a DataFrame with one column per judge (:func:`judge_runs`). With
    ``judges=`` the first argument is instead one or more studies: their failed runs are
    labelled by every judge first (:func:`judge_failures`).
    """
    if judges is not None:
        labels_by_judge = judge_failures(labels_by_judge, judges)
    frame = labels_by_judge if isinstance(labels_by_judge, pd.DataFrame) else pd.DataFrame(
        {k: (v if isinstance(v, pd.Series) else pd.Series(list(v))) for k, v in labels_by_judge.items()})
    rows = []
    for ja, jb in itertools.combinations(frame.columns, 2):
        both = frame[[ja, jb]].dropna()
        a, b = both[ja].tolist(), both[jb].tolist()
        rows.append({"judge_a": ja, "judge_b": jb, "n": len(a),
                     "agreement": float(np.mean([x == y for x, y in zip(a, b)])) if a else float("nan"),
                     "kappa": cohen_kappa(a, b)})
    return pd.DataFrame(rows, columns=["judge_a", "judge_b", "n", "agreement", "kappa"])


def judge_failures(studies: Any, judges: Sequence[Any]) -> pd.DataFrame:
    """Every judge's label for every failed run of ``studies`` (one column per judge,
    indexed by run id; ``(study_id, run_id)`` when several studies are given). ``judges``
    are judge objects (:class:`LLMJudge`; ``maestro.runner.judges.open_judges`` makes them
    from backend specs)."""
    from maestro.analysis.failures import failures_df

    fails = failures_df(studies)
    multi = "study_id" in fails.columns and fails["study_id"].nunique() > 1
    labels = judge_runs(judges, fails)
    if multi:
        labels.index = pd.MultiIndex.from_arrays([fails["study_id"], fails["run_id"]], names=["study_id", "run_id"])
    return labels
