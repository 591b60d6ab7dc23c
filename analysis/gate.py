"""``maestro gate``: a release decision from two studies, a baseline and a candidate.

Metrics (after the production-gates seed; maestro records no human interventions or policy
violations, so those two of the seed's metrics are absent):

==================================  =====  ==========================================================
metric                              better definition (over a side's runs of the shared tasks)
==================================  =====  ==========================================================
``task_success_rate``               high   share of runs that did not fail: status ``success`` and not
                                           judged ``wrong`` (:func:`~maestro.analysis.failures.failed_by_of`)
``p95_latency_s``                   low    95th percentile (linear) of ``duration_s``, the MAS's own work
``cost_per_success_usd``            low    all runs' ``cost_usd`` summed / successful runs (failed runs
                                           cost too); n/a when a run is unpriced
``failure_rate_<category>``         low    runs failed with that Table 3 category / runs, one metric per
                                           :class:`~maestro.analysis.failures.FailureCategory`
``tool_failure_rate``               low    tool spans with status ERROR / tool spans
``spans_dropped``                   low    dropped spans summed over the candidate's runs (a telemetry
                                           defect, checked exactly, not sampled)
==================================  =====  ==========================================================

**Pairing.** Runs are matched by task: the ``pair_by`` columns (default ``instance``,
``tools_enabled``, ``task_id``; not the backend, which is what usually changes). Only tasks
both studies ran count; two studies without a shared task are invalid input.

**Noise.** Each difference (candidate - baseline) gets a paired, task-clustered bootstrap
CI: every draw resamples the shared tasks with replacement and recomputes both sides'
metric over the drawn tasks' runs (the same tasks on both sides). A rule's threshold is
either a ``tolerance`` (how much worse the candidate may be, in the metric's unit: 0.02 = 2
points of a rate) or a ``relative_tolerance`` (a fraction of the baseline's value: 0.10 = 10
%), and/or a ``limit`` on the candidate's own value. A metric **regresses only when its
whole CI lies beyond the threshold**; a point estimate beyond it with a CI that reaches the
threshold is reported as ``within noise`` and passes.

**Missing data** never fails the gate and is always reported with its reason (``n/a (no
prices)``, ``n/a (no tool calls)``, ...).

Exit codes of :attr:`GateResult.exit_code`: 0 pass, 1 regression; invalid input (unreadable
study, no shared task, a missing column, a bad policy) raises :class:`GateError` (the CLI
exits 2).
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from maestro.analysis.columns import is_missing
from maestro.analysis.failures import FailureCategory, failed_by_of

__all__ = ["GateError", "MetricSpec", "METRICS", "Rule", "GateSettings", "GatePolicy", "DEFAULT_POLICY_TOML",
           "default_policy", "load_policy", "MetricResult", "GateResult", "run_gate", "to_json_text"]


class GateError(ValueError):
    """Invalid input to the gate (the CLI exits 2): the message is one line naming the culprit."""


@dataclass(frozen=True)
class MetricSpec:
    """One gate metric."""

    name: str
    label: str
    """How the tables name it."""
    better: Literal["higher", "lower"]
    unit: Literal["rate", "s", "usd", "count"]
    exact: bool = False
    """Checked on the observed values, without a bootstrap (a defect count, not a sample)."""


METRICS: dict[str, MetricSpec] = {m.name: m for m in [
    MetricSpec("task_success_rate", "task success rate", "higher", "rate"),
    MetricSpec("p95_latency_s", "p95 end-to-end latency (s)", "lower", "s"),
    MetricSpec("cost_per_success_usd", "cost per successful task (USD)", "lower", "usd"),
    *[MetricSpec(f"failure_rate_{c.value}", f"failure rate: {c.label.lower()}", "lower", "rate")
      for c in FailureCategory],
    MetricSpec("tool_failure_rate", "tool failure rate", "lower", "rate"),
    MetricSpec("spans_dropped", "spans dropped", "lower", "count", exact=True),
]}
"""Every metric the gate knows, by name (policy files name them)."""

DEFAULT_POLICY_TOML = """\
# maestro gate default policy (the production-gates seed's starter thresholds).
# tolerance: how much worse the candidate may be, in the metric's unit (0.02 = 2 points);
# relative_tolerance: a fraction of the baseline's value (0.10 = 10 %);
# limit: a bound on the candidate's own value. A metric fails only when its whole
# bootstrap CI lies beyond the threshold.
[gate]
confidence = 0.95
bootstrap = 2000
seed = 0
pair_by = ["instance", "tools_enabled", "task_id"]

[metrics]
task_success_rate = { tolerance = 0.02 }
p95_latency_s = { relative_tolerance = 0.10 }
cost_per_success_usd = { relative_tolerance = 0.10 }
tool_failure_rate = { tolerance = 0.02 }
failure_rate_missing_underspecified_output = { tolerance = 0.02 }
failure_rate_wrong_fact_entity = { tolerance = 0.02 }
failure_rate_empty_prediction = { tolerance = 0.02 }
failure_rate_exception = { tolerance = 0.02 }
failure_rate_timeout = { tolerance = 0.02 }
failure_rate_other = { tolerance = 0.02 }
spans_dropped = { limit = 0 }
"""
"""The default policy as a policy file (docs/analysis.md shows it verbatim)."""

_Finite = Annotated[float, Field(allow_inf_nan=False)]


class Rule(BaseModel):
    """The threshold of one metric."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    tolerance: _Finite | None = None
    """How much worse the candidate may be, in the metric's unit (negative: it must improve)."""
    relative_tolerance: _Finite | None = Field(default=None, ge=-1)
    """How much worse as a fraction of the baseline's value."""
    limit: _Finite | None = None
    """A bound on the candidate's value (a ceiling, or a floor for higher-is-better metrics)."""

    @model_validator(mode="after")
    def _one_threshold(self) -> Rule:
        if self.tolerance is not None and self.relative_tolerance is not None:
            raise ValueError("give tolerance or relative_tolerance, not both")
        if self.enabled and self.tolerance is None and self.relative_tolerance is None and self.limit is None:
            raise ValueError("needs tolerance, relative_tolerance or limit (or enabled = false)")
        return self


class GateSettings(BaseModel):
    """The ``[gate]`` table."""

    model_config = ConfigDict(extra="forbid")
    confidence: float = Field(default=0.95, gt=0, lt=1)
    bootstrap: int = Field(default=2000, ge=100, le=100_000)
    seed: int = 0
    pair_by: list[str] = Field(default_factory=lambda: ["instance", "tools_enabled", "task_id"], min_length=1)

    @field_validator("pair_by")
    @classmethod
    def _task_in_pairs(cls, v: list[str]) -> list[str]:
        if "task_id" not in v:
            raise ValueError("must include task_id (runs are paired by task)")
        return v


class GatePolicy(BaseModel):
    """A gate policy: ``[gate]`` settings and one :class:`Rule` per metric."""

    model_config = ConfigDict(extra="forbid")
    gate: GateSettings = Field(default_factory=GateSettings)
    metrics: dict[str, Rule] = Field(default_factory=dict)

    @field_validator("metrics")
    @classmethod
    def _known(cls, v: dict[str, Rule]) -> dict[str, Rule]:
        for name in v:
            if name not in METRICS:
                raise ValueError(f"unknown metric {name!r} (known: {', '.join(METRICS)})")
        return v


def _one_line(e: ValidationError, source: str) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "policy"
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    msg = err["msg"].removeprefix("Value error, ")
    more = f"; and {len(e.errors()) - 1} more problem(s)" if len(e.errors()) > 1 else ""
    return f"{source}: {where}: {msg}{got}{more}"


def _parse(text: str, source: str) -> GatePolicy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise GateError(f"{source}: not valid TOML ({e})") from None
    try:
        return GatePolicy.model_validate(data)
    except ValidationError as e:
        raise GateError(_one_line(e, source)) from None


def default_policy() -> GatePolicy:
    """The policy of :data:`DEFAULT_POLICY_TOML`."""
    return _parse(DEFAULT_POLICY_TOML, "default policy")


def load_policy(path: str | os.PathLike[str] | None = None) -> GatePolicy:
    """The default policy with ``path``'s settings and rules laid over it: a ``[gate]`` key
    replaces that setting, a metric named under ``[metrics]`` takes the file's rule instead
    of the default (``enabled = false`` drops it), metrics it does not name keep theirs.

    Raises:
        GateError: the file is missing, not TOML, or not a valid policy (one line naming
            the file, the key and the problem).
    """
    base = default_policy()
    if path is None:
        return base
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GateError(f"{p}: cannot read the policy file ({getattr(e, 'strerror', None) or e})") from None
    user = _parse(text, str(p))
    raw = tomllib.loads(text)
    settings = base.gate.model_copy(update={k: getattr(user.gate, k) for k in (raw.get("gate") or {})})
    return GatePolicy(gate=settings, metrics={**base.metrics, **user.metrics})


# --------------------------------------------------------------------------- data

@dataclass
class _Side:
    """One study's runs of the shared tasks as arrays, plus what it is."""

    path: str
    study_id: str
    runs_total: int
    tasks_total: int
    code: np.ndarray  # task index (into the shared tasks) of each run
    success: np.ndarray
    duration: np.ndarray
    cost: np.ndarray
    category: np.ndarray
    tool_calls: np.ndarray
    tool_errors: np.ndarray
    dropped: np.ndarray


_SPAN_COLUMNS = ["study_id", "run_id", "span_id", "parent_span_id", "span_type", "agent_name", "status_code",
                 "start_time_ns", "end_time_ns", "message_source", "message_target", "retry_attempt", "input_bytes",
                 "total_bytes", "attributes_json"]
_NEEDED = ("run_id", "status", "judgement", "duration_s", "cost_usd", "spans_dropped")


def _load(path: str | os.PathLike[str], pair_by: list[str], which: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """runs (one row per run, plus ``_task`` and ``_category``) and per-run tool counts."""
    from maestro.analysis.failures import answers_stored_by_study, classify_failures
    from maestro.analysis.frames import runs_df, spans_df, study_infos
    from maestro.store.reader import TraceFormatError

    try:
        infos = study_infos(path)
        runs = runs_df(path)
        spans = spans_df(path, columns=_SPAN_COLUMNS)
    except TraceFormatError as e:
        raise GateError(f"{which} study: {e}") from None
    study_id = next(iter(infos), Path(path).name)
    if not len(runs):
        raise GateError(f"{which} study {path}: no runs recorded")
    for col in [*_NEEDED, *pair_by]:
        if col not in runs.columns:
            raise GateError(f"{which} study {path}: runs have no column {col!r}")
    fails = classify_failures(runs, spans, answers_stored=answers_stored_by_study(infos))
    cat = dict(zip(fails["run_id"], fails["category"])) if len(fails) else {}
    runs = runs.assign(_category=runs["run_id"].map(cat),
                       _task=[tuple("(none)" if is_missing(v) else str(v) for v in row)
                              for row in runs[pair_by].itertuples(index=False)])
    tools = spans[spans["span_type"] == "tool"] if len(spans) else spans
    counts = pd.DataFrame({"tool_calls": tools.groupby("run_id").size() if len(tools) else pd.Series(dtype=int),
                           "tool_errors": (tools["status_code"] == "ERROR").groupby(tools["run_id"]).sum()
                           if len(tools) else pd.Series(dtype=int)})
    return runs, counts, study_id


def _side(path: str | os.PathLike[str], runs: pd.DataFrame, counts: pd.DataFrame, study_id: str,
          tasks: dict[tuple, int]) -> _Side:
    shared = runs[runs["_task"].isin(tasks)]
    rid = shared["run_id"]
    return _Side(
        path=str(path), study_id=study_id, runs_total=len(runs), tasks_total=runs["_task"].nunique(),
        code=np.array([tasks[t] for t in shared["_task"]], dtype=int),
        success=np.array([failed_by_of(s, j) is None for s, j in zip(shared["status"], shared["judgement"])],
                         dtype=float),
        duration=pd.to_numeric(shared["duration_s"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        cost=pd.to_numeric(shared["cost_usd"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        category=shared["_category"].astype(object).to_numpy(),
        tool_calls=rid.map(counts["tool_calls"]).fillna(0).to_numpy(dtype=float),
        tool_errors=rid.map(counts["tool_errors"]).fillna(0).to_numpy(dtype=float),
        dropped=pd.to_numeric(shared["spans_dropped"], errors="coerce").fillna(0).to_numpy(dtype=float))


# --------------------------------------------------------------------------- statistics

def _ratio(w: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Per draw (rows of the run weights ``w``): sum(w * num) / sum(w * den); NaN for a
    zero denominator."""
    n, d = w @ num, w @ den
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)


def _weighted_percentile(w: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """Per draw: ``np.percentile`` (linear) of ``values`` each repeated ``w`` times (NaN
    values left out; NaN when nothing is left)."""
    ok = ~np.isnan(values)
    v, w = values[ok], w[:, ok]
    if not len(v):
        return np.full(w.shape[0], np.nan)
    order = np.argsort(v, kind="stable")
    v, cw = v[order], np.cumsum(w[:, order], axis=1)
    total = cw[:, -1]
    h = (total - 1) * q / 100
    lo = np.floor(h)
    # element of rank r in the repeated sorted array: first position whose cumulative weight exceeds r
    lo_i = (cw <= lo[:, None]).sum(axis=1)
    hi_i = (cw <= np.minimum(lo + 1, total - 1)[:, None]).sum(axis=1)
    lo_i, hi_i = np.minimum(lo_i, len(v) - 1), np.minimum(hi_i, len(v) - 1)
    out = v[lo_i] + (h - lo) * (v[hi_i] - v[lo_i])
    return np.where(total > 0, out, np.nan)


def _metric(name: str, s: _Side, w: np.ndarray) -> np.ndarray:
    """The metric ``name`` of side ``s`` for each row of run weights ``w``."""
    ones = np.ones(len(s.code))
    if name == "task_success_rate":
        return _ratio(w, s.success, ones)
    if name == "p95_latency_s":
        return _weighted_percentile(w, s.duration, 95)
    if name == "cost_per_success_usd":
        return _ratio(w, np.nan_to_num(s.cost), s.success) if len(s.cost) else np.full(w.shape[0], np.nan)
    if name.startswith("failure_rate_"):
        return _ratio(w, (s.category == name.removeprefix("failure_rate_")).astype(float), ones)
    if name == "tool_failure_rate":
        return _ratio(w, s.tool_errors, s.tool_calls)
    if name == "spans_dropped":
        return w @ s.dropped
    raise GateError(f"unknown metric {name!r}")


def _why_missing(name: str, s: _Side) -> str | None:
    """Why ``name`` has no value on side ``s`` (None when it has one)."""
    if name == "p95_latency_s" and not np.isfinite(s.duration).any():
        return "no run duration"
    if name == "cost_per_success_usd":
        unpriced = int(np.isnan(s.cost).sum())
        if unpriced == len(s.cost):
            return "no prices"
        if unpriced:
            return f"{unpriced} of {len(s.cost)} runs unpriced"
        if not s.success.any():
            return "no successful run"
    if name == "tool_failure_rate" and not s.tool_calls.any():
        return "no tool calls"
    return None


# --------------------------------------------------------------------------- results

@dataclass
class MetricResult:
    """One metric's comparison."""

    name: str
    label: str
    better: str
    unit: str
    baseline: float | None
    candidate: float | None
    difference: float | None
    """candidate - baseline."""
    ci_low: float | None
    ci_high: float | None
    """Bootstrap CI of the difference (None for exact metrics and missing values)."""
    candidate_ci_low: float | None
    candidate_ci_high: float | None
    """Bootstrap CI of the candidate's value (for a ``limit``)."""
    rule: dict[str, Any]
    allowed_difference: float | None
    """The threshold on the difference in the metric's unit, signed like the difference
    (``-0.02`` for a success rate: at most 2 points lower); None without a tolerance."""
    status: Literal["pass", "within noise", "regression", "n/a", "disabled"]
    reason: str
    """Why the status: the rule that failed, or why a value is missing."""
    baseline_missing: str | None = None
    candidate_missing: str | None = None
    """Why that side has no value (``no prices``, ``no tool calls``, ...); None when it has one."""
    note: str | None = None
    """What the values leave out (e.g. runs without a duration in the p95 latency)."""


@dataclass
class GateResult:
    """The gate's decision and every comparison behind it."""

    baseline: dict[str, Any]
    candidate: dict[str, Any]
    pair_by: list[str]
    shared_tasks: int
    confidence: float
    bootstrap: int
    seed: int
    policy: dict[str, Any] = field(default_factory=dict)
    """The policy applied (defaults included)."""
    metrics: list[MetricResult] = field(default_factory=list)

    @property
    def regressions(self) -> list[str]:
        """Names of the metrics that regressed."""
        return [m.name for m in self.metrics if m.status == "regression"]

    @property
    def verdict(self) -> str:
        """``pass`` or ``regression``."""
        return "regression" if self.regressions else "pass"

    @property
    def exit_code(self) -> int:
        """0 pass, 1 regression."""
        return 1 if self.regressions else 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (missing numbers as None)."""
        return {"verdict": self.verdict, "exit_code": self.exit_code, "regressions": self.regressions,
                "baseline": self.baseline, "candidate": self.candidate, "pair_by": self.pair_by,
                "shared_tasks": self.shared_tasks, "confidence": self.confidence, "bootstrap": self.bootstrap,
                "seed": self.seed, "policy": self.policy, "metrics": [asdict(m) for m in self.metrics]}

    def markdown(self) -> str:
        """The decision as a Markdown section with one table row per metric."""
        from maestro.analysis.html import format_number

        def val(m: MetricResult, v: float | None) -> str:
            if v is None:
                return "n/a"
            if m.unit == "rate":
                return f"{_pct(v)}%"
            return format_number(v)

        def diff(m: MetricResult, v: float | None) -> str:
            if v is None:
                return "n/a"
            text = _pct(v) if m.unit == "rate" else format_number(v)
            return (text if text.startswith("-") or text == "0" else f"+{text}") + (" pp" if m.unit == "rate" else "")

        head = (f"## maestro gate: {self.verdict.upper()} (exit {self.exit_code})\n\n"
                f"baseline `{self.baseline['study_id']}` ({self.baseline['runs']} runs of the shared tasks), "
                f"candidate `{self.candidate['study_id']}` ({self.candidate['runs']} runs); {self.shared_tasks} shared "
                f"tasks paired by {', '.join(self.pair_by)}; {format_number(100 * self.confidence)}% task-clustered "
                f"bootstrap CIs ({self.bootstrap:,} draws, seed {self.seed}). A metric fails only when its whole CI "
                "lies beyond its threshold.\n\n")
        lines = ["| metric | baseline | candidate | difference [CI] | threshold | verdict |", "|---|---|---|---|---|---|"]
        for m in self.metrics:
            base = f"n/a ({m.baseline_missing})" if m.baseline_missing else val(m, m.baseline)
            cand = f"n/a ({m.candidate_missing})" if m.candidate_missing else val(m, m.candidate)
            d = diff(m, m.difference)
            if m.ci_low is not None and m.ci_high is not None:
                unit = " pp" if m.unit == "rate" else ""
                d += f" [{diff(m, m.ci_low).removesuffix(unit)}, {diff(m, m.ci_high).removesuffix(unit)}]"
            elif m.status not in ("n/a", "disabled") and METRICS[m.name].exact:
                d += " (exact)"
            verdict = "REGRESSION" if m.status == "regression" else \
                (f"n/a: {m.reason}" if m.status == "n/a" and not (m.baseline_missing or m.candidate_missing)
                 else m.status)
            lines.append(f"| {m.label} | {base} | {cand} | {d} | {_threshold_text(m)} | {verdict} |")
        notes = "".join(f"\n- {m.label}: {m.note}" for m in self.metrics if m.note)
        tail = (f"\n\nNotes:{notes}" if notes else "") + \
            (f"\n\nRegressions: {', '.join(self.regressions)}.\n" if self.regressions else "\n\nNo regression.\n")
        return head + "\n".join(lines) + tail


def _pct(rate: float) -> str:
    """A rate in percent with at most 2 decimals and no trailing zeros (87.5, 11.11, 0)."""
    text = f"{100 * rate:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _threshold_text(m: MetricResult) -> str:
    from maestro.analysis.html import format_number

    r = m.rule
    if not r.get("enabled", True):
        return "off"
    parts = []
    sign = "≥" if m.better == "higher" else "≤"
    if r.get("tolerance") is not None or r.get("relative_tolerance") is not None:
        if r.get("relative_tolerance") is not None:
            pct = format_number(100 * r["relative_tolerance"])
            text = f"{sign} baseline {'-' if m.better == 'higher' else '+'} {pct}%"
        else:
            t = r["tolerance"]
            amount = f"{_pct(t)} pp" if m.unit == "rate" else format_number(t)
            text = f"{sign} baseline {'-' if m.better == 'higher' else '+'} {amount}"
        if m.allowed_difference is not None and r.get("relative_tolerance") is not None:
            x = m.allowed_difference
            amount = f"{_pct(x)} pp" if m.unit == "rate" else format_number(x)
            text += f" ({'' if amount.startswith('-') else '+'}{amount})"
        parts.append(text)
    if r.get("limit") is not None:
        lim = r["limit"]
        parts.append(f"{sign} {_pct(lim) + '%' if m.unit == 'rate' else format_number(lim)}")
    return "; ".join(parts)


def _f(v: Any) -> float | None:
    """A finite float, else None."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _quantiles(x: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Percentile interval of the bootstrap draws (NaN draws left out; +-inf kept)."""
    x = x[~np.isnan(x)]
    if not len(x):
        return None, None
    a = (1 - confidence) / 2
    lo, hi = np.quantile(x, [a, 1 - a], method="inverted_cdf")  # no interpolation across an infinite draw
    return float(lo), float(hi)


def _compare(spec: MetricSpec, rule: Rule, base: _Side, cand: _Side, ones_b: np.ndarray,
             ones_c: np.ndarray, wb: np.ndarray, wc: np.ndarray, confidence: float) -> MetricResult:
    rd = rule.model_dump()
    common: dict[str, Any] = dict(name=spec.name, label=spec.label, better=spec.better, unit=spec.unit, rule=rd)
    if not rule.enabled:
        return MetricResult(**common, baseline=None, candidate=None, difference=None, ci_low=None, ci_high=None,
                            candidate_ci_low=None, candidate_ci_high=None, allowed_difference=None,
                            status="disabled", reason="disabled by the policy")
    b_point, c_point = _metric(spec.name, base, ones_b)[0], _metric(spec.name, cand, ones_c)[0]
    why_b, why_c = _why_missing(spec.name, base), _why_missing(spec.name, cand)
    bv, cv = (None if why_b else _f(b_point)), (None if why_c else _f(c_point))
    if bv is None or cv is None:
        reasons = [f"baseline: {why_b}" if why_b else None, f"candidate: {why_c}" if why_c else None]
        reason = "; ".join(r for r in reasons if r) or "no value"
        if why_b and why_b == why_c:
            reason = why_b
        return MetricResult(**common, baseline=bv, candidate=cv, difference=None, ci_low=None, ci_high=None,
                            candidate_ci_low=None, candidate_ci_high=None, allowed_difference=None, status="n/a",
                            reason=reason, baseline_missing=why_b or (None if bv is not None else "no value"),
                            candidate_missing=why_c or (None if cv is not None else "no value"))
    d = cv - bv
    sign = 1.0 if spec.better == "lower" else -1.0  # worsening = sign * difference
    allowed = None
    if rule.tolerance is not None:
        allowed = sign * rule.tolerance
    elif rule.relative_tolerance is not None:
        allowed = sign * rule.relative_tolerance * abs(bv)
    cand_low: float | None
    cand_high: float | None
    status: Literal["pass", "within noise", "regression"]
    if spec.exact:
        lo = hi = clo = chi = None
        worse_low, cand_low, cand_high = sign * d, cv, cv
    else:
        b_draws, c_draws = _metric(spec.name, base, wb), _metric(spec.name, cand, wc)
        with np.errstate(invalid="ignore"):
            lo, hi = _quantiles(c_draws - b_draws, confidence)
        clo, chi = _quantiles(c_draws, confidence)
        if lo is None or hi is None:
            return MetricResult(**common, baseline=bv, candidate=cv, difference=d, ci_low=None, ci_high=None,
                                candidate_ci_low=None, candidate_ci_high=None, allowed_difference=allowed,
                                status="n/a", reason="no bootstrap draw has a value on both sides")
        worse_low = min(sign * lo, sign * hi)
        cand_low, cand_high = clo, chi
    failed = []
    if allowed is not None and worse_low > sign * allowed + 1e-12:
        failed.append("the difference's CI lies beyond the allowed change" if not spec.exact
                      else "worse than the allowed change")
    if rule.limit is not None:
        beyond = (cand_low is not None and cand_low > rule.limit + 1e-12) if spec.better == "lower" else \
            (cand_high is not None and cand_high < rule.limit - 1e-12)
        if beyond:
            failed.append("the candidate is beyond the limit" + ("" if spec.exact else " across its CI"))
    if failed:
        status, reason = "regression", "; ".join(failed)
    elif (allowed is not None and sign * d > sign * allowed + 1e-12) or \
            (rule.limit is not None and sign * cv > sign * rule.limit + 1e-12):
        status, reason = "within noise", "the point estimate is beyond the threshold but the CI reaches it"
    else:
        status, reason = "pass", "within the threshold"
    return MetricResult(**common, baseline=bv, candidate=cv, difference=_f(d), ci_low=_f(lo), ci_high=_f(hi),
                        candidate_ci_low=_f(clo), candidate_ci_high=_f(chi), allowed_difference=_f(allowed),
                        status=status, reason=reason, note=_note(spec.name, base, cand))


def _note(name: str, base: _Side, cand: _Side) -> str | None:
    """Runs a metric's value leaves out, per side (None when it counts every run)."""
    if name != "p95_latency_s":
        return None
    parts = [f"{side}: {int(np.isnan(s.duration).sum())} of {len(s.duration)} runs have no duration (left out)"
             for side, s in (("baseline", base), ("candidate", cand)) if np.isnan(s.duration).any()]
    return "; ".join(parts) or None


def run_gate(baseline: str | os.PathLike[str], candidate: str | os.PathLike[str],
             policy: GatePolicy | str | os.PathLike[str] | None = None) -> GateResult:
    """Compare ``candidate`` with ``baseline`` (study folders) under ``policy`` (a
    :class:`GatePolicy`, a policy file, or None for the default).

    Raises:
        GateError: a study is unreadable or has no runs, a needed column is missing, the
            studies share no task, or the policy is invalid.
    """
    pol = policy if isinstance(policy, GatePolicy) else load_policy(policy)
    g = pol.gate
    runs_b, counts_b, id_b = _load(baseline, g.pair_by, "baseline")
    runs_c, counts_c, id_c = _load(candidate, g.pair_by, "candidate")
    shared = sorted(set(runs_b["_task"]) & set(runs_c["_task"]))
    if not shared:
        eg_b, eg_c = sorted(set(runs_b["_task"]))[0], sorted(set(runs_c["_task"]))[0]
        raise GateError(f"baseline {id_b!r} and candidate {id_c!r} share no task when paired by "
                        f"{', '.join(g.pair_by)} (e.g. baseline {'/'.join(eg_b)}, candidate {'/'.join(eg_c)}); "
                        "set [gate] pair_by in a policy file to pair differently")
    tasks = {t: i for i, t in enumerate(shared)}
    base = _side(baseline, runs_b, counts_b, id_b, tasks)
    cand = _side(candidate, runs_c, counts_c, id_c, tasks)
    k = len(shared)
    rng = np.random.default_rng(g.seed)
    draws = np.stack([np.bincount(rng.integers(0, k, size=k), minlength=k) for _ in range(g.bootstrap)]) \
        .astype(float)
    wb, wc = draws[:, base.code], draws[:, cand.code]
    ones_b, ones_c = np.ones((1, len(base.code))), np.ones((1, len(cand.code)))
    result = GateResult(
        baseline={"study_id": id_b, "path": str(baseline), "runs": len(base.code), "runs_total": base.runs_total,
                  "tasks_total": base.tasks_total},
        candidate={"study_id": id_c, "path": str(candidate), "runs": len(cand.code), "runs_total": cand.runs_total,
                   "tasks_total": cand.tasks_total},
        pair_by=list(g.pair_by), shared_tasks=k, confidence=g.confidence, bootstrap=g.bootstrap, seed=g.seed,
        policy=pol.model_dump())
    for name, spec in METRICS.items():
        rule = pol.metrics.get(name)
        if rule is None:
            continue
        result.metrics.append(_compare(spec, rule, base, cand, ones_b, ones_c, wb, wc, g.confidence))
    return result


def to_json_text(result: GateResult) -> str:
    """:meth:`GateResult.to_dict` as JSON text."""
    import json

    return json.dumps(result.to_dict(), indent=2, allow_nan=False, default=str) + "\n"

