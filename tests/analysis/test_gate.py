"""``maestro gate``: metrics against hand-computed values on hand-made studies, the CI rule
(noise passes, a clear regression fails), missing data reported and never failing, policy
validation as one-line errors, exit codes 0/1/2, and the acceptance runs on real simulated
studies (a worse profile fails naming the metrics; a study against itself passes; one
sampled run worse passes)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from maestro.analysis.gate import (
    DEFAULT_POLICY_TOML,
    METRICS,
    GateError,
    _weighted_percentile,
    load_policy,
    run_gate,
)
from maestro.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert

ROOT = Path(__file__).resolve().parents[2]
TASKS = ["t1", "t2", "t3", "t4"]


def _study(root: Path, sid: str, *, durations, wrong=(), cost=0.01, tool_errors=(), dropped=None, tasks=TASKS,
           costs=None, tool_spans=True) -> Path:
    """Two repeats of each task; run k (0-based, task-major) lasts ``durations[k]`` s and
    costs ``cost``; runs in ``wrong`` are judged wrong ("Lyon" for "Paris": wrong fact);
    runs in ``tool_errors`` have their one tool span in ERROR."""
    runs, spans = [], {}
    k = 0
    for t in tasks:
        for rep in range(2):
            rid = f"{sid}.{t}.r{rep}"
            bad = k in wrong
            row = run_row(sid, rid, task_id=t, repeat=rep,
                          duration_s=None if durations[k] is None else float(durations[k]),
                          cost_usd=costs[k] if costs is not None else cost,
                          judgement="wrong" if bad else "correct", answer="Lyon" if bad else "Paris",
                          f1=0.0 if bad else 1.0, exact_match=0.0 if bad else 1.0,
                          spans_dropped=(dropped or {}).get(k, 0))
            b = SpanBuilder(row)
            top = b.add("run", name="invoke_workflow crag", dur_ms=10)
            a = b.add("agent", top, agent_name="retrieve")
            b.message("__start__", "retrieve", a)
            if tool_spans:
                b.add("tool", a, agent_name="retrieve", tool_name="search",
                      status_code="ERROR" if k in tool_errors else "UNSET")
            b.message("retrieve", "__end__", top)
            runs.append(row)
            spans[rid] = b.rows
            k += 1
    return write_study(root / sid, runs, spans, config={"store_answers": True})


@pytest.fixture
def pair(tmp_path):
    base = _study(tmp_path, "base", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong={7}, tool_errors={0})
    cand = _study(tmp_path, "cand", durations=[2, 3, 4, 5, 6, 7, 8, 9], wrong={4, 7}, cost=0.02)
    return base, cand


def _m(result, name):
    return next(m for m in result.metrics if m.name == name)


def test_metrics_match_hand_computed_values(pair):
    base, cand = pair
    r = run_gate(base, cand)
    assert r.shared_tasks == 4 and r.baseline["runs"] == r.candidate["runs"] == 8
    s = _m(r, "task_success_rate")
    assert (s.baseline, s.candidate) == (7 / 8, 6 / 8) and s.difference == pytest.approx(-1 / 8)
    p = _m(r, "p95_latency_s")
    assert p.baseline == pytest.approx(np.percentile([1, 2, 3, 4, 5, 6, 7, 8], 95))  # 7.65
    assert p.candidate == pytest.approx(8.65) and p.difference == pytest.approx(1.0)
    c = _m(r, "cost_per_success_usd")  # every run costs, only successes count in the denominator
    assert c.baseline == pytest.approx(0.08 / 7) and c.candidate == pytest.approx(0.16 / 6)
    w = _m(r, "failure_rate_wrong_fact_entity")
    assert (w.baseline, w.candidate) == (1 / 8, 2 / 8)
    t = _m(r, "tool_failure_rate")
    assert (t.baseline, t.candidate) == (1 / 8, 0.0)
    assert _m(r, "failure_rate_timeout").baseline == 0.0
    d = _m(r, "spans_dropped")
    assert (d.baseline, d.candidate, d.ci_low) == (0.0, 0.0, None)
    # every difference's CI holds its point estimate
    for m in r.metrics:
        if m.ci_low is not None:
            assert m.ci_low - 1e-12 <= m.difference <= m.ci_high + 1e-12, m.name


def test_weighted_percentile_is_numpy_percentile_of_the_repeated_values():
    rng = np.random.default_rng(3)
    values = rng.normal(size=13)
    values[4] = np.nan  # left out
    w = rng.integers(0, 4, size=(50, 13)).astype(float)
    w[:, 0] += 1  # never all zero
    got = _weighted_percentile(w, values, 95)
    for row, g in zip(w, got):
        keep = ~np.isnan(values)
        assert g == pytest.approx(np.percentile(np.repeat(values[keep], row[keep].astype(int)), 95))


def test_a_study_against_itself_passes_with_zero_width_intervals(pair):
    base, _ = pair
    r = run_gate(base, base)
    assert r.exit_code == 0 and r.verdict == "pass" and r.regressions == []
    for m in r.metrics:
        if m.ci_low is not None:
            assert m.ci_low == m.ci_high == m.difference == 0.0, m.name


def test_noise_passes_and_a_clear_regression_fails(tmp_path, pair):
    base, cand = pair
    # one more wrong run on one task of four: the success rate drops 12.5 points, but a
    # third of the task draws leave that task out, so the CI reaches 0: within noise
    s = _m(run_gate(base, cand), "task_success_rate")
    assert s.status == "within noise" and s.ci_high == 0.0
    # every candidate run wrong: each task's difference is -1 or -0.5, so the whole CI is below -2 points
    worse = _study(tmp_path, "worse", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong=set(range(8)))
    r = run_gate(base, worse)
    s = _m(r, "task_success_rate")
    assert s.status == "regression" and s.ci_high <= -0.5 and s.ci_low >= -1.0
    assert r.exit_code == 1 and "task_success_rate" in r.regressions
    assert "failure_rate_wrong_fact_entity" in r.regressions
    assert "| task success rate | 87.5% | 0% | -87.5 pp [" in r.markdown()
    assert "Regressions: task_success_rate" in r.markdown()


def test_dropped_spans_fail_exactly_whatever_the_noise(tmp_path, pair):
    base, _ = pair
    leaky = _study(tmp_path, "leaky", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong={7}, tool_errors={0},
                   dropped={3: 2})
    r = run_gate(base, leaky)
    d = _m(r, "spans_dropped")
    assert (d.candidate, d.status, d.ci_low) == (2.0, "regression", None)
    assert r.regressions == ["spans_dropped"]
    assert "| spans dropped | 0 | 2 | +2 (exact) | ≤ 0 | REGRESSION |" in r.markdown()


def test_missing_prices_and_tools_are_reported_and_never_fail(tmp_path, pair):
    base, _ = pair
    unpriced = _study(tmp_path, "unpriced", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong={7}, cost=None,
                      tool_spans=False)
    r = run_gate(base, unpriced)
    c, t = _m(r, "cost_per_success_usd"), _m(r, "tool_failure_rate")
    assert (c.status, c.candidate_missing, c.baseline_missing) == ("n/a", "no prices", None)
    assert (t.status, t.candidate_missing) == ("n/a", "no tool calls")
    assert r.exit_code == 0
    md = r.markdown()
    assert "| cost per successful task (USD) | 0.0114 | n/a (no prices) | n/a |" in md
    assert "| tool failure rate | 12.5% | n/a (no tool calls) | n/a |" in md
    partly = _study(tmp_path, "partly", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong={7},
                    costs=[0.01] * 7 + [None])
    c = _m(run_gate(base, partly), "cost_per_success_usd")
    assert (c.status, c.candidate_missing) == ("n/a", "1 of 8 runs unpriced")
    # a run without a duration (e.g. crashed) is left out of the p95, and the table says so
    crashed = _study(tmp_path, "crashed", durations=[1, 2, 3, 4, 5, 6, 7, None], wrong={7})
    r = run_gate(base, crashed)
    p = _m(r, "p95_latency_s")
    assert p.candidate == pytest.approx(np.percentile([1, 2, 3, 4, 5, 6, 7], 95))
    assert p.note == "candidate: 1 of 8 runs have no duration (left out)"
    assert "- p95 end-to-end latency (s): candidate: 1 of 8 runs have no duration (left out)" in r.markdown()


def test_only_shared_tasks_are_compared_and_none_shared_is_invalid(tmp_path, pair):
    base, _ = pair
    part = _study(tmp_path, "part", durations=[1, 2, 3, 4], tasks=["t1", "t9"])
    r = run_gate(base, part)
    assert r.shared_tasks == 1 and r.baseline["runs"] == 2 and r.candidate["runs"] == 2
    other = _study(tmp_path, "other", durations=[1, 2, 3, 4], tasks=["x1", "x2"])
    with pytest.raises(GateError, match=r"share no task when paired by instance, tools_enabled, task_id"):
        run_gate(base, other)


def test_policy_overlays_the_default_and_bad_policies_are_one_line_errors(tmp_path, pair):
    base, cand = pair
    f = tmp_path / "gate.toml"
    f.write_text("[gate]\nbootstrap = 500\n\n[metrics]\np95_latency_s = { relative_tolerance = 0.5 }\n"
                 "failure_rate_other = { enabled = false }\n")
    pol = load_policy(f)
    assert pol.gate.bootstrap == 500 and pol.gate.confidence == 0.95
    assert pol.metrics["p95_latency_s"].relative_tolerance == 0.5
    assert pol.metrics["task_success_rate"].tolerance == 0.02  # untouched default
    r = run_gate(base, cand, f)
    assert r.bootstrap == 500 and _m(r, "failure_rate_other").status == "disabled"
    p = _m(r, "p95_latency_s")  # 1 s more on 7.65 s: within 50 %
    assert p.allowed_difference == pytest.approx(0.5 * 7.65) and p.status == "pass"
    for body, words in [
        ("[metrics]\nlatency = { tolerance = 1 }\n", "metrics: unknown metric 'latency'"),
        ("[metrics]\np95_latency_s = { tolerance = 1, relative_tolerance = 0.1 }\n",
         "metrics.p95_latency_s: give tolerance or relative_tolerance, not both"),
        ("[metrics]\np95_latency_s = { tolerance = \"fast\" }\n", "metrics.p95_latency_s.tolerance: "),
        ("[gate]\npair_by = [\"instance\"]\n", "gate.pair_by: must include task_id"),
        ("[gate]\nconfidence = 1.5\n", "gate.confidence: Input should be less than 1"),
        ("[metrics\n", "not valid TOML"),
    ]:
        f.write_text(body)
        with pytest.raises(GateError) as e:
            load_policy(f)
        assert str(f) in str(e.value) and words in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_a_pairing_column_the_runs_lack_is_invalid_input(tmp_path, pair):
    base, cand = pair
    f = tmp_path / "gate.toml"
    f.write_text("[gate]\npair_by = [\"task_id\", \"shard\"]\n")
    with pytest.raises(GateError, match=r"runs have no column 'shard'"):
        run_gate(base, cand, f)


def test_cli_exit_codes_markdown_and_json(tmp_path, pair, capsys):
    base, cand = pair
    out = tmp_path / "gate.json"
    assert main(["gate", str(base), str(base), "--json", str(out)]) == 0
    assert "## maestro gate: PASS (exit 0)" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["verdict"] == "pass" and data["exit_code"] == 0 and len(data["metrics"]) == len(METRICS)
    worse = _study(tmp_path, "worse", durations=[1, 2, 3, 4, 5, 6, 7, 8], wrong=set(range(8)))
    assert main(["gate", str(base), str(worse), "--json", str(out)]) == 1
    assert "REGRESSION" in capsys.readouterr().out
    assert "task_success_rate" in json.loads(out.read_text())["regressions"]
    other = _study(tmp_path, "other", durations=[1, 2, 3, 4], tasks=["x1", "x2"])
    for args in ([str(base), str(other)], [str(base), str(tmp_path / "missing")],
                 [str(base), str(cand), "--policy", str(tmp_path / "nope.toml")]):
        assert main(["gate", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("maestro: error: ") and err.count("\n") == 1, err


def test_docs_show_the_default_policy_verbatim():
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    assert DEFAULT_POLICY_TOML in text
    assert "maestro gate" in (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- real studies

GATE_STUDY = {"store_answers": True, "instances": ["crag"], "tools": "on", "repeats": 3, "tasks": 8,
              "time_factor": 0, "workers": 2, "timeout_s": 120, "seed": 5}


@pytest.fixture(scope="module")
def sim_studies(tmp_path_factory):
    """crag, 8 tasks x 3 repeats, on sim/strong (baseline) and sim/confabulating (candidate)."""
    from maestro.runner.config import study_config_from_dict
    from maestro.runner.study import run_study

    out = tmp_path_factory.mktemp("gate-studies")
    paths = {}
    for sid, backend in (("strong", "sim/strong"), ("confab", "sim/confabulating")):
        result = run_study(study_config_from_dict({**GATE_STUDY, "id": sid, "backends": [backend], "out": str(out)}),
                           progress=False)
        assert result.executed == 24, result.counts
        paths[sid] = result.path
    return paths


@pytest.mark.slow
def test_a_worse_simulated_profile_fails_naming_the_metrics(sim_studies, capsys):
    assert main(["gate", str(sim_studies["strong"]), str(sim_studies["confab"])]) == 1
    out = capsys.readouterr().out
    r = run_gate(sim_studies["strong"], sim_studies["confab"])
    assert "task_success_rate" in r.regressions and f"Regressions: {', '.join(r.regressions)}." in out
    s = _m(r, "task_success_rate")
    assert s.ci_high < -0.02 and s.candidate < s.baseline


@pytest.mark.slow
def test_the_same_study_passes_and_one_sampled_run_worse_is_noise(sim_studies, tmp_path):
    from maestro.store.layout import StudyLayout
    from maestro.store.reader import RunIndex

    strong = sim_studies["strong"]
    assert main(["gate", str(strong), str(strong)]) == 0
    # the candidate: the same runs, one of them judged wrong instead of correct
    cand = tmp_path / "strong-1"
    shutil.copytree(strong, cand)
    index = RunIndex(StudyLayout(cand))
    rid = sorted(r for r, row in index.rows.items() if row["judgement"] == "correct")[0]
    index.upsert({**index.rows[rid], "judgement": "wrong", "score": 0.0})
    r = run_gate(strong, cand)
    s = _m(r, "task_success_rate")
    assert s.difference == pytest.approx(-1 / 24) and s.status == "within noise"
    assert r.exit_code == 0, r.markdown()
