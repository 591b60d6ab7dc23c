"""Figure functions on hand-built frames: the numbers they draw, the SIMULATED label, and
placeholders instead of crashes when data is missing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from maestro.analysis import figure_data as FD
from maestro.analysis import figures as F

sys.path.insert(0, str(Path(__file__).parent))
from figure_checks import figure_problems  # noqa: E402 - after the sys.path insert

S = 1_000_000_000  # ns per second


def _runs(simulated: bool = True) -> pd.DataFrame:
    rows = []
    for i, (inst, model, tools, judgement, cpu, rss_mb, dur, cost) in enumerate([
        ("crag", "m1", True, "correct", 10.0, 100.0, 1.0, 0.001),
        ("crag", "m1", False, "wrong", 20.0, 110.0, 2.0, 0.002),
        ("crag", "m2", True, "correct", 30.0, 120.0, 3.0, 0.003),
        ("lats", "m1", True, "wrong", 40.0, 300.0, 4.0, 0.004),
        ("lats", "m2", False, "correct", 50.0, 310.0, 5.0, 0.005),
    ]):
        rows.append({"run_id": f"r{i}", "instance": inst, "framework": "langgraph", "model": model,
                     "backend": f"sim/{model}", "tools_enabled": tools, "repeat": 0, "task_id": "t1",
                     "status": "success", "judgement": judgement, "simulated": simulated, "cpu_mean": cpu,
                     "rss_peak_mb": rss_mb, "duration_s": dur, "cost_usd": cost, "llm_request_bytes": 1000 * (i + 1),
                     "llm_response_bytes": 500, "a2a_bytes": 100})
    return pd.DataFrame(rows)


def _span(run_id, sid, parent, span_type, start, end, agent=None, **kw):
    return {"run_id": run_id, "span_id": sid, "parent_span_id": parent, "span_type": span_type,
            "name": f"{span_type} {agent or ''}".strip(), "agent_name": agent, "start_time_ns": int(start * S),
            "end_time_ns": int(end * S), **kw}


def _spans() -> pd.DataFrame:
    """Run r0 (10 s): agent A 1-5 s with two overlapping LLM calls (2-3, 2.5-4) and a tool
    call (4-4.5); agent B 6-9 s with one LLM call (6-8); a message A -> B of 300 bytes."""
    rows = [
        _span("r0", "root", None, "run", 0, 10),
        _span("r0", "a", "root", "agent", 1, 5, "A"),
        _span("r0", "l1", "a", "llm", 2, 3, "A", input_tokens=10, output_tokens=5, input_bytes=800, output_bytes=400,
              request_model="m1"),
        _span("r0", "l2", "a", "llm", 2.5, 4, "A", input_tokens=20, output_tokens=5, input_bytes=900, output_bytes=300,
              request_model="m1"),
        _span("r0", "t", "a", "tool", 4, 4.5, "A"),
        _span("r0", "b", "root", "agent", 6, 9, "B"),
        _span("r0", "l3", "b", "llm", 6, 8, "B", input_tokens=30, output_tokens=10, input_bytes=700, output_bytes=200,
              request_model="m1"),
        _span("r0", "m", "b", "message", 6, 6, None, message_source="A", message_target="B", input_bytes=300,
              output_bytes=0),
    ]
    return pd.DataFrame(rows)


def _resources() -> pd.DataFrame:
    return pd.DataFrame({"run_id": "r0", "time_ns": [int(t * S) for t in (0.5, 2.2, 2.7, 5.5, 7.0)],
                         "cpu_percent": [10.0, 80.0, 90.0, 20.0, 70.0], "rss_bytes": [100 << 20] * 5})


def _title(fig: Figure) -> str:
    return fig._suptitle.get_text().replace("\n", " ") if fig._suptitle else ""


def test_delay_breakdown_by_hand():
    d = F.delay_breakdown(_spans()).set_index("run_id").loc["r0"]
    # LLM union: 2-4 (overlap counted once) + 6-8 = 4 s; tool 0.5 s; agents 4 + 3 = 7 s
    assert d["e2e_s"] == pytest.approx(10)
    assert d["model_s"] == pytest.approx(4)
    assert d["tool_s"] == pytest.approx(0.5)
    assert d["agent_s"] == pytest.approx(7 - 4 - 0.5)
    assert d["handover_s"] == pytest.approx(3)
    assert d[["agent_s", "model_s", "tool_s", "handover_s"]].sum() == pytest.approx(d["e2e_s"])


def test_delay_breakdown_counts_model_calls_outside_agent_spans_as_model_time():
    # run r1 (4 s): agent 0-1 s, then an LLM call 2-3 s that no agent span covers
    spans = pd.DataFrame([_span("r1", "root", None, "run", 0, 4), _span("r1", "a", "root", "agent", 0, 1, "A"),
                          _span("r1", "l", "root", "llm", 2, 3, "A")])
    d = F.delay_breakdown(spans).iloc[0]
    assert (d["model_s"], d["agent_s"], d["handover_s"]) == pytest.approx((1, 1, 2))


def test_delay_breakdown_exact_parts_by_hand():
    # back: agents A 0-4 s and B 4-10 s fill the root 0-10 s (no hand-over); LLM 1-3 in A and
    # 5-9 in B; a tool 2.5-3.5 s half inside the first LLM call
    back = [_span("back", "root", None, "run", 0, 10), _span("back", "a", "root", "agent", 0, 4, "A"),
            _span("back", "l1", "a", "llm", 1, 3, "A"), _span("back", "t", "a", "tool", 2.5, 3.5, "A"),
            _span("back", "b", "root", "agent", 4, 10, "B"), _span("back", "l2", "b", "llm", 5, 9, "B"),
            _span("back", "m", "root", "message", 4, 4, message_source="A", message_target="B")]
    # gaps: root 0-10 s, agents 1-4 and 6-9 s, an LLM call 8.5-10.5 s that outlives the root
    # (clipped to 8.5-10): hand-over is 0-1 and 4-6 s; 9-10 s is model time in no agent
    gaps = [_span("gaps", "root", None, "run", 0, 10), _span("gaps", "a", "root", "agent", 1, 4, "A"),
            _span("gaps", "b", "root", "agent", 6, 9, "B"), _span("gaps", "l", "b", "llm", 8.5, 10.5, "B")]
    d = F.delay_breakdown(pd.DataFrame(back + gaps)).set_index("run_id")
    parts = ["e2e_s", "model_s", "tool_s", "agent_s", "handover_s"]
    assert d.loc["back", parts].tolist() == pytest.approx([10, 6, 0.5, 3.5, 0])
    assert d.loc["gaps", parts].tolist() == pytest.approx([10, 1.5, 0, 5.5, 3])
    fig = F.delay_breakdown_figure(pd.DataFrame(back))
    bars = fig.axes[0].containers  # one stacked bar per part, hand-over last
    assert bars[-1].get_label().startswith("hand-over") and bars[-1].patches[0].get_height() == pytest.approx(0)


def test_delay_breakdown_is_fast_on_a_large_study():
    # 2,000 runs of 40 spans: per-run frame indexing took ~10 s here; array slices take < 1 s
    base = _spans()
    n = 2000
    big = pd.concat([base] * 5, ignore_index=True)
    big = pd.concat([big] * n, ignore_index=True)
    big["run_id"] = np.repeat([f"r{i:05d}" for i in range(n)], len(base) * 5)
    big = big.astype({"span_type": "string[pyarrow]", "run_id": "string[pyarrow]"})
    t0 = time.perf_counter()
    d = F.delay_breakdown(big)
    elapsed = time.perf_counter() - t0
    assert len(d) == n and d["model_s"].eq(4).all()
    assert elapsed < 3.0, f"delay_breakdown took {elapsed:.1f} s for {n} runs"


def test_flame_graph_depths_follow_the_parent_chain():
    s = _spans()
    depth = dict(zip(s["span_id"], FD._depths(s)))
    assert depth == {"root": 0, "a": 1, "b": 1, "l1": 2, "l2": 2, "t": 2, "l3": 2, "m": 2}
    fig = F.flame_graph(s, run_id="r0")
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert len(bars) == 7  # every span but the zero-length message
    assert sorted(round(b.get_width(), 6) for b in bars) == [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 10.0]


def test_pick_run_takes_the_median_duration_success():
    runs = _runs()
    assert F.pick_run(runs) == "r2"  # durations 1..5 s: the middle one
    assert F.pick_run(runs, "r4") == "r4"
    assert F.pick_run(runs.iloc[0:0]) is None


def test_message_sizes_per_pair_heatmap_holds_the_bytes():
    fig = F.message_sizes(_spans(), _runs())
    heat = fig.axes[1].images[0].get_array()
    assert heat.shape == (1, 1) and heat[0, 0] == 300  # one run, one A -> B message of 300 bytes
    per_agent = fig.axes[0]  # horizontal bars: their widths are the values
    widths = sorted(round(p.get_width() * 1024) for p in per_agent.patches)
    # KiB per run: A sent 300, B received 300, A requested 800 + 900, got 400 + 300, B 700 / 200
    assert widths == sorted([300, 0, 0, 300, 1700, 700, 700, 200])


def test_message_sizes_one_row_per_system_never_mixes_agents():
    spans = pd.concat([_spans().assign(instance="crag"),
                       _spans().assign(instance="lats", run_id="r9", agent_name=lambda d: d["agent_name"].map(
                           {"A": "X", "B": "Y"}), message_source="X", message_target="Y")], ignore_index=True)
    fig = F.message_sizes(spans, _runs())
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 2
    crag, lats = ([t.get_text() for t in ax.get_yticklabels()] for ax in heatmaps)
    assert crag == ["A"] and lats == ["X"]
    assert [ax.get_title() for ax in heatmaps] == ["crag: per agent pair (agent-to-agent)",
                                                   "lats: per agent pair (agent-to-agent)"]


def test_tokens_over_time_totals():
    fig = F.tokens_over_time(_spans(), run_id="r0")
    total = fig.axes[1].lines[0].get_ydata()
    assert list(total) == [15, 40, 80]  # cumulative prompt + completion in end-time order


def test_tokens_over_time_marks_an_agent_with_a_single_call():
    # agent B makes one call: a step line of one point is invisible without a marker
    fig = F.tokens_over_time(_spans(), run_id="r0")
    (b_prompt,) = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("B prompt")]
    assert len(b_prompt.get_xdata()) == 1 and b_prompt.get_marker() not in (None, "", "None")
    assert b_prompt.get_label() == "B prompt (1 call)"


def _two_run_tokens() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group crag: run a starts at 0 s, calls end at 2 s (6 + 4 tokens) and 5 s (20); run b
    starts at 100 s, calls end at 101 s (30) and 104 s (10). Group lats: run c has no LLM
    call, run d one call ending at 3 s (total_tokens 8 only). A tool span is ignored."""
    spans = pd.DataFrame([
        _span("a", "ra", None, "run", 0, 6), _span("a", "a1", "ra", "llm", 1, 2, "A", input_tokens=6, output_tokens=4),
        _span("a", "a2", "ra", "llm", 4, 5, "A", input_tokens=15, output_tokens=5),
        _span("a", "at", "ra", "tool", 2, 5.5, "A", input_tokens=999, output_tokens=999),
        _span("b", "rb", None, "run", 100, 105), _span("b", "b1", "rb", "llm", 100.5, 101, "A", input_tokens=30,
                                                      output_tokens=0),
        _span("b", "b2", "rb", "llm", 103, 104, "A", input_tokens=None, output_tokens=10),
        _span("c", "rc", None, "run", 50, 51),
        _span("d", "rd", None, "run", 10, 14), _span("d", "d1", "rd", "llm", 11, 13, "B", total_tokens=8),
    ])
    runs = pd.DataFrame({"run_id": ["a", "b", "c", "d"], "instance": ["crag", "crag", "lats", "lats"],
                         "started_at_ns": [0, 100 * S, 50 * S, 10 * S], "simulated": True})
    return spans, runs


def test_token_curves_average_the_cumulative_tokens_by_hand():
    spans, runs = _two_run_tokens()
    c = F.token_curves(spans, runs, by="instance", grid_points=11)
    assert list(c.grid_s) == pytest.approx([0.5 * k for k in range(11)])  # 0 .. 5 s, the last call's end
    assert c.labels == ["crag", "lats"] and list(c.n_runs) == [2, 2]
    # crag: a = 0 | 10 from 2 s | 30 from 5 s; b = 0 | 30 from 1 s | 40 from 4 s
    a = np.array([0, 0, 0, 0, 10, 10, 10, 10, 10, 10, 30])
    b = np.array([0, 0, 30, 30, 30, 30, 30, 30, 40, 40, 40])
    assert c.mean[0] == pytest.approx((a + b) / 2)
    assert c.mean[0][[2, 4, 8, 10]] == pytest.approx([15, 20, 25, 35])
    assert c.q25[0] == pytest.approx(np.minimum(a, b) + 0.25 * np.abs(a - b))
    assert c.q75[0] == pytest.approx(np.minimum(a, b) + 0.75 * np.abs(a - b))
    # lats: c never calls (counts as 0), d's call (total_tokens only) ends 3 s after its start
    assert c.mean[1] == pytest.approx([0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4])


def test_token_curves_from_llm_calls_only_take_the_start_from_the_runs_frame():
    spans, runs = _two_run_tokens()
    llm = spans[spans["span_type"] == "llm"].drop(columns="span_type")
    # no run spans: started_at_ns is the start (here equal to the run spans' starts)
    a, b = F.token_curves(spans, runs, grid_points=11), F.token_curves(llm, runs, grid_points=11)
    assert b.mean == pytest.approx(a.mean) and b.q75 == pytest.approx(a.q75)
    # neither: each run's first call starts its clock (b shifts by 0.5 s, a by 1 s)
    c = F.token_curves(llm, runs.drop(columns="started_at_ns"), by=(), grid_points=5)
    assert c.labels == ["all runs"] and list(c.n_runs) == [4]
    assert c.grid_s[-1] == pytest.approx(4.0)  # a's last call ends 4 s after its first started


def test_tokens_over_time_by_group_draws_mean_lines_and_bands():
    spans, runs = _two_run_tokens()
    fig = F.tokens_over_time_by_group(spans, runs)
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["crag (n=2)", "lats (n=2)"]
    assert len(ax.collections) == 2  # one interquartile band per group
    crag = ax.lines[0]
    assert crag.get_ydata()[-1] == pytest.approx(35) and crag.get_xdata()[-1] == pytest.approx(5)
    assert "SIMULATED" in _title(fig)
    assert getattr(F.tokens_over_time_by_group(spans[spans["span_type"] != "llm"], runs), "placeholder", False)


def test_tokens_over_time_by_group_is_fast_on_2000_runs():
    # numpy on one common grid: a per-run pandas loop took seconds at this size
    n, calls = 2000, 12
    rng = np.random.default_rng(0)
    run_ids = np.repeat([f"r{i:05d}" for i in range(n)], calls + 1)
    kind = np.tile(["run"] + ["llm"] * calls, n)
    start = np.repeat(rng.integers(0, 10**12, n), calls + 1) + np.tile(np.arange(calls + 1), n) * S // 10
    spans = pd.DataFrame({"study_id": "s", "run_id": run_ids, "span_type": kind, "start_time_ns": start,
                          "end_time_ns": start + S // 20, "input_tokens": rng.integers(10, 500, len(kind)),
                          "output_tokens": rng.integers(1, 100, len(kind))})
    spans = spans.astype({"span_type": "string[pyarrow]", "run_id": "string[pyarrow]", "study_id": "string[pyarrow]",
                          "input_tokens": "Int64", "end_time_ns": "Int64"})
    runs = pd.DataFrame({"study_id": "s", "run_id": [f"r{i:05d}" for i in range(n)],
                         "instance": rng.choice(["crag", "lats", "plan_execute"], n), "simulated": True})
    t0 = time.perf_counter()
    fig = F.tokens_over_time_by_group(spans, runs)
    fig.savefig(__import__("io").BytesIO(), format="png", dpi=90)
    elapsed = time.perf_counter() - t0
    assert sorted(ln.get_label().split(" (")[0] for ln in fig.axes[0].lines) == ["crag", "lats", "plan_execute"]
    llm = spans[spans["span_type"] == "llm"]
    per_run = (llm["input_tokens"] + llm["output_tokens"]).groupby(llm["run_id"]).sum()
    final = {ln.get_label().split(" (")[0]: ln.get_ydata()[-1] for ln in fig.axes[0].lines}
    by_inst = per_run.groupby(runs.set_index("run_id")["instance"].reindex(per_run.index).to_numpy()).mean()
    assert final == pytest.approx(by_inst.to_dict())  # every run finished: the mean total per run
    assert elapsed < 2.0, f"tokens_over_time_by_group took {elapsed:.2f} s for {n} runs"


def test_resource_timeseries_compares_cpu_inside_and_outside_llm_calls():
    fig = F.resource_timeseries(_resources(), _spans(), run_id="r0")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # samples at 2.2, 2.7, 7.0 s fall inside LLM calls (80, 90, 70) -> 80 %; 0.5 and 5.5 s -> 15 %
    assert "mean CPU in LLM calls 80%, outside 15%" in labels


def test_similarity_within_bars_are_the_group_means():
    within = pd.DataFrame({"instance": ["crag", "lats"], "n_runs": [3, 1], "n_pairs": [3, 0],
                           "jaccard_mean": [0.9, 0.0], "lcs_mean": [0.6, 0.0], "jaccard_median": [1.0, 0.0],
                           "lcs_median": [0.5, 0.0]})
    fig = F.similarity_within_figure(within, _runs())
    ax = fig.axes[0]
    assert [round(p.get_height(), 6) for p in ax.patches] == [0.9, 0.0, 0.6, 0.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["crag\nn=3", "lats\nn=1 (n<2)"]


def test_similarity_between_long_table_becomes_symmetric_heatmaps():
    long = pd.DataFrame({"instance": ["crag"] * 3, "group_a": ["m1", "m1", "m2"], "group_b": ["m1", "m2", "m2"],
                         "lcs_median": [1.0, 0.4, 0.8]})
    mats = FD._as_matrices(long, "lcs")
    m = mats["crag"]
    assert m.loc["m2", "m1"] == m.loc["m1", "m2"] == 0.4 and m.loc["m2", "m2"] == 0.8
    fig = F.similarity_between_figure(long, _runs())
    assert np.allclose(fig.axes[0].images[0].get_array(), [[1.0, 0.4], [0.4, 0.8]])


def test_failure_breakdown_bars_are_percentages_per_model():
    long = pd.DataFrame({"model": ["m1", "m1", "m2", "m2"], "category": ["empty", "wrong", "empty", "wrong"],
                         "n": [1, 3, 2, 0], "percent": [25.0, 75.0, 100.0, 0.0]})
    fig = F.failure_breakdown_figure(long, _runs())
    widths = {(round(p.get_y() + p.get_height() / 2), round(p.get_width(), 6)) for p in fig.axes[0].patches}
    assert widths == {(0, 25.0), (0, 75.0), (1, 100.0), (1, 0.0)}
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["m1 (n=4)", "m2 (n=2)"]


def test_failure_breakdown_legend_shows_category_labels():
    long = pd.DataFrame({"model": ["m1"] * 3, "category": ["missing_underspecified_output", "wrong_fact_entity",
                                                           "not_a_category"], "n": [1, 2, 3]})
    fig = F.failure_breakdown_figure(long, _runs())
    legend = sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert legend == ["Missing / underspecified output", "Wrong fact / entity", "not_a_category"]


def test_judge_agreement_long_table_fills_the_diagonal():
    k = pd.DataFrame({"judge_a": ["j1", "j1", "j2"], "judge_b": ["j2", "j3", "j3"], "kappa": [0.5, -0.2, 0.1]})
    arr = F.judge_agreement_figure(k, _runs()).axes[0].images[0].get_array()
    assert np.allclose(arr, [[1, 0.5, -0.2], [0.5, 1, 0.1], [-0.2, 0.1, 1]])


def test_resources_by_instance_groups_by_instance_and_framework():
    fig = F.resources_by_instance(_runs())
    cpu, mem = fig.axes
    assert [t.get_text() for t in cpu.get_xticklabels()] == ["crag\nlanggraph", "lats\nlanggraph"]
    # box medians: CPU crag {10,20,30} -> 20, lats {40,50} -> 45; memory from rss_peak_mb
    def medians(ax):
        return [ln.get_ydata()[0] for ln in ax.lines if ln.get_gid() == "median"]

    assert medians(cpu) == [20.0, 45.0]
    assert medians(mem) == [110.0, 305.0]


def test_tool_deltas_and_pareto_draw_the_given_rows():
    deltas = pd.DataFrame({"instance": ["crag", "crag"], "model": ["m1", "m1"], "delta_duration_s": [1.0, 3.0],
                           "delta_cost_usd": [0.001, 0.002], "delta_accuracy": [1.0, 0.0]})
    fig = F.tool_deltas(deltas, _runs())
    assert len(fig.axes) == 2 and not getattr(fig, "placeholder", False)  # latency and cost; accuracy is 12b
    points = pd.DataFrame({"label": ["a", "b", "c"], "cost": [1.0, 2.0, 3.0], "accuracy": [0.5, 0.9, 0.6],
                           "on_frontier": [True, True, False]})
    fig = F.pareto_figure(points, _runs())
    (step,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "Pareto frontier"]
    assert list(step.get_xdata()) == [1.0, 2.0]


def _pareto_cells() -> pd.DataFrame:
    """24 cells (3 architectures x 4 models x tools on/off) crowded in one corner, four on
    the frontier, with bootstrap CIs and frontier frequencies."""
    rng = np.random.default_rng(1)
    rows = []
    for inst in ("crag", "lats", "plan_execute"):
        for model in ("m1", "m2", "m3", "m4"):
            for tools in (False, True):
                c, a = 0.001 + 0.0002 * rng.random(), 0.3 + 0.2 * rng.random()
                rows.append({"instance": inst, "backend": f"sim/{model}", "tools_enabled": tools, "cost_usd": c,
                             "cost_usd_low": c * 0.8, "cost_usd_high": c * 1.2, "accuracy": a,
                             "accuracy_low": a - 0.1, "accuracy_high": a + 0.1, "on_frontier": False,
                             "frontier_freq": 0.1})
    p = pd.DataFrame(rows)
    front = [0, 9, 17, 23]
    p.loc[front, "cost_usd"] = [0.0005, 0.0008, 0.0012, 0.002]
    p.loc[front, "accuracy"] = [0.4, 0.6, 0.8, 0.95]
    p.loc[front, ["on_frontier", "frontier_freq"]] = [True, 0.9]
    p["cost_usd_low"], p["cost_usd_high"] = p["cost_usd"] * 0.8, p["cost_usd"] * 1.2
    p["accuracy_low"], p["accuracy_high"] = p["accuracy"] - 0.1, p["accuracy"] + 0.1
    return p


def test_pareto_labels_only_the_frontier_and_keeps_the_uncertainty():
    p = _pareto_cells()
    fig = F.pareto_figure(p, _runs())
    ax = fig.axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(F.run_label(r).replace("\n", " / ") for _, r in p[p["on_frontier"]].iterrows())
    assert texts[0] == "crag / sim/m1 / tools off"
    # every cell is drawn (one marker set per architecture) with its bootstrap error bars
    assert sum(len(c.get_offsets()) for c in ax.collections if c.get_offsets().shape[1:] == (2,)
               and len(c.get_offsets()) and not hasattr(c, "get_segments")) == 24
    bars = [c for c in ax.collections if hasattr(c, "get_segments")]
    assert sum(len(c.get_segments()) for c in bars) == 48  # a cost and an accuracy interval per cell
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Pareto frontier", "crag", "lats", "plan_execute"]
    # labels stay inside the axes and do not overlap one another
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    for i, b in enumerate(boxes):
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, ax.texts[i]
        for c in boxes[i + 1:]:
            assert not b.overlaps(c)


def test_tool_deltas_stays_readable_with_twelve_cells():
    # 3 architectures x 4 models: three metric panels side by side made a 68-inch-wide image
    # with 7-point labels; the panels are stacked so the width follows the cell count only
    cells = [(i, m) for i in ("crag", "lats", "plan_execute") for m in ("m1", "m2", "m3", "m4")]
    deltas = pd.DataFrame([{"instance": i, "model": m, "delta_duration_s": 0.1 * k, "delta_cost_usd": 0.001,
                            "delta_correct": 0.0} for i, m in cells for k in range(3)])
    fig = F.tool_deltas(deltas, _runs())
    width, height = fig.get_size_inches()
    assert len(fig.axes) == 2
    assert width <= 25, f"{width:.0f} inches wide"
    xs = {round(ax.get_position().x0, 3) for ax in fig.axes}
    assert len(xs) == 1  # one column of panels


def _edges(spans: pd.DataFrame) -> pd.DataFrame:
    if not len(spans):
        return spans
    m = spans[spans["span_type"] == "message"]
    return m.assign(bytes=m["input_bytes"])


def _all_figures(runs, spans, resources, **tables) -> dict[str, Figure]:
    return {
        "resources_by_instance": F.resources_by_instance(runs),
        "resources_by_architecture": F.resources_by_architecture(runs),
        "resources_min_mean_peak": F.resources_min_mean_peak(runs),
        "call_graphs": F.call_graphs(_edges(spans), runs),
        "tool_accuracy": F.tool_accuracy(tables.get("deltas"), runs),
        "message_volume": F.message_volume(runs),
        "message_sizes": F.message_sizes(spans, runs),
        "tokens_over_time": F.tokens_over_time(spans, runs, run_id="r0"),
        "tokens_over_time_by_group": F.tokens_over_time_by_group(spans, runs),
        "delay_breakdown": F.delay_breakdown_figure(spans, runs),
        "flame_graph": F.flame_graph(spans, runs, run_id="r0"),
        "resource_timeseries": F.resource_timeseries(resources, spans, runs, run_id="r0"),
        "similarity_within": F.similarity_within_figure(tables.get("within"), runs),
        "similarity_between": F.similarity_between_figure(tables.get("between"), runs),
        "latency_vs_cost": F.latency_vs_cost(runs),
        "distributions": F.distributions(runs),
        "by_model": F.by_model(runs),
        "tool_deltas": F.tool_deltas(tables.get("deltas"), runs),
        "pareto": F.pareto_figure(tables.get("pareto"), runs),
        "failure_breakdown": F.failure_breakdown_figure(tables.get("breakdown"), runs),
        "judge_agreement": F.judge_agreement_figure(tables.get("kappa"), runs),
    }


@pytest.mark.parametrize("simulated", [True, False], ids=["simulated", "real"])
def test_every_figure_says_simulated_exactly_when_the_data_is(simulated):
    figs = _all_figures(_runs(simulated), _spans(), _resources())
    for name, fig in figs.items():
        assert ("SIMULATED" in _title(fig)) is simulated, name


def test_every_figure_degrades_to_a_placeholder_without_data():
    empty = pd.DataFrame()
    figs = _all_figures(empty, empty, empty)
    for name, fig in figs.items():
        assert getattr(fig, "placeholder", False), name
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("no data for") for t in texts), name
        fig.savefig(__import__("io").BytesIO(), format="png")  # and it still renders


def test_runs_without_resource_columns_give_placeholders_not_errors():
    runs = _runs().drop(columns=["cpu_mean", "rss_peak_mb"])
    assert getattr(F.resources_by_instance(runs), "placeholder", False)
    assert getattr(F.resources_by_architecture(runs), "placeholder", False)
    assert not getattr(F.latency_vs_cost(runs), "placeholder", False)


def test_runs_of_equal_id_in_two_studies_stay_apart():
    a = _spans().assign(study_id="A")
    b = _spans().assign(study_id="B")
    b = b[b["span_type"] != "tool"]  # study B's run has no tool call
    d = F.delay_breakdown(pd.concat([a, b])).set_index("study_id")
    assert list(d["run_id"]) == ["r0", "r0"]
    assert d.loc["A", "tool_s"] == pytest.approx(0.5) and d.loc["B", "tool_s"] == 0
    runs = _runs().assign(study_id="B").iloc[[0]].assign(run_id="r0")
    fig = F.flame_graph(pd.concat([a, b]), runs)
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert len(bars) == 6  # study B's spans only: no tool bar


def test_report_of_a_study_without_runs_is_all_placeholders(layout, tmp_path):
    from maestro import semconv as sc
    from maestro.analysis.report import FIGURES, write_report
    from maestro.store import atomic_write_json

    atomic_write_json({"format": "maestro.study", "schema_version": sc.SCHEMA_VERSION, "study_id": layout.study_id,
                       "simulated": True, "maestro_version": "0.1.0"}, layout.study_json)
    result = write_report(layout.root, tmp_path / "rep")
    assert result.problems == []
    assert result.placeholders == [spec.name for spec in FIGURES]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in result.figures)
    text = result.html.read_text()
    assert "SIMULATED" in text and text.count("(no data in this study)") == len(FIGURES)


# --------------------------------------------------------------------------- readable on a page

def _many_cells(instances=("crag", "marketing", "plan_execute", "travel_planning"),
                backends=("sim/strong", "sim/underspecified")) -> pd.DataFrame:
    """Three runs per (instance, backend, tools) cell with every column the figures read."""
    rng = np.random.default_rng(3)
    rows = []
    for inst in instances:
        for backend in backends:
            for tools in (False, True):
                for rep in range(3):
                    cpu = float(rng.uniform(5, 60))
                    rows.append({
                        "study_id": "s", "run_id": f"{inst}.{backend}.{tools}.{rep}", "instance": inst,
                        "framework": "langgraph", "backend": backend, "model": backend.split("/")[1],
                        "tools_enabled": tools, "repeat": rep, "task_id": f"t{rep}", "status": "success",
                        "judgement": "correct" if rng.random() < 0.6 else "wrong", "simulated": True,
                        "cpu_mean": cpu, "cpu_min": cpu / 3, "cpu_peak": cpu * 2, "rss_peak_mb": 190 + 30 * rng.random(),
                        "rss_mean_mb": 185.0, "rss_min_mb": 180.0, "duration_s": float(rng.uniform(0.1, 1.5)),
                        "cost_usd": float(rng.uniform(1e-4, 5e-3)), "llm_request_bytes": int(rng.integers(1e3, 1e5)),
                        "llm_response_bytes": 5000, "a2a_bytes": 800})
    return pd.DataFrame(rows)


def _box_figures(runs: pd.DataFrame) -> dict[str, Figure]:
    from maestro.analysis.cost import paired_tool_deltas

    runs = runs.assign(correct=runs["judgement"].map({"correct": 1.0, "wrong": 0.0}))
    deltas = paired_tool_deltas(runs)
    within = pd.DataFrame([{"instance": i, "backend": b, "tools_enabled": t, "n_runs": 3, "jaccard_mean": 0.9,
                            "lcs_mean": 0.7} for (i, b, t), _ in runs.groupby(list(F.CONFIG_KEYS))])
    return {
        "resources_by_instance": F.resources_by_instance(runs),
        "resources_by_architecture": F.resources_by_architecture(runs),
        "resources_min_mean_peak": F.resources_min_mean_peak(runs),
        "message_volume": F.message_volume(runs),
        "distributions": F.distributions(runs),
        "by_model": F.by_model(runs),
        "latency_vs_cost": F.latency_vs_cost(runs),
        "tool_deltas": F.tool_deltas(deltas, runs),
        "tool_accuracy": F.tool_accuracy(deltas, runs, n=200),
        "similarity_within": F.similarity_within_figure(within, runs),
    }


@pytest.mark.parametrize("instances", [
    pytest.param(("crag", "marketing", "plan_execute", "travel_planning"), id="demo-4-architectures"),
    pytest.param(tuple(f"architecture_number_{k}" for k in range(12)), id="paper-12-architectures"),
])
def test_figures_fit_a_page_without_overlapping_labels(instances):
    # 16 to 48 configuration cells with long names: every figure at most 2,400 px wide at
    # 150 dpi, a page's aspect ratio, no two labels overlapping, every numeric axis with a unit
    for name, fig in _box_figures(_many_cells(instances)).items():
        assert not getattr(fig, "placeholder", False), name
        assert figure_problems(fig, name) == []


def test_figures_of_the_hand_made_run_fit_a_page_too():
    figs = _all_figures(_runs(), _spans(), _resources())
    for name, fig in figs.items():
        assert figure_problems(fig, name) == []


def test_many_cells_are_faceted_by_architecture():
    fig = F.resources_by_architecture(_many_cells())
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["crag", "marketing", "plan_execute", "travel_planning"] * 2  # CPU panels, then memory
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["sim/strong\ntools off", "sim/strong\ntools on", "sim/\nunderspecified\ntools off",
                     "sim/\nunderspecified\ntools on"]
    assert F.wrap_label("marketing_coordinator") == "marketing_\ncoordinator"
    assert F.wrap_label("short") == "short"


def test_latency_axes_say_simulated_with_the_time_factor():
    runs = _many_cells()
    note = "simulated, time factor 0.02"
    fig = F.latency_vs_cost(runs, time_note=note)
    assert fig.axes[0].get_ylabel().replace("\n", " ") == f"latency per task (s, {note})"
    for fig in (F.distributions(runs, time_note=note), F.by_model(runs, time_note=note),
                F.delay_breakdown_figure(_spans(), _runs(), time_note=note),
                F.flame_graph(_spans(), _runs(), "r0", time_note=note),
                F.tokens_over_time(_spans(), _runs(), "r0", time_note=note),
                F.resource_timeseries(_resources(), _spans(), _runs(), "r0", time_note=note)):
        labels = [lab.replace("\n", " ") for ax in fig.axes for lab in (ax.get_xlabel(), ax.get_ylabel())]
        assert any(note in lab for lab in labels), labels
    # without a note, simulated runs still say so; real runs say seconds only
    assert F.latency_vs_cost(runs).axes[0].get_ylabel() == "latency per task (s, simulated)"
    assert F.latency_vs_cost(runs.assign(simulated=False)).axes[0].get_ylabel() == "latency per task (s)"


def test_resources_min_mean_peak_draws_the_three_statistics():
    runs = _runs().assign(cpu_min=1.0, cpu_peak=99.0, rss_min_mb=50.0, rss_mean_mb=75.0)
    fig = F.resources_min_mean_peak(runs)
    cpu = fig.axes[0]
    medians = {ln.get_gid(): ln.get_ydata()[0] for ln in cpu.lines if (ln.get_gid() or "").startswith("median-")}
    assert medians == {"median-min": 1.0, "median-mean": 45.0, "median-peak": 99.0}  # lats: cpu_mean 40, 50
    assert [t.get_text() for t in cpu.get_xticklabels()] == ["crag", "lats"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["min per run", "mean per run", "peak per run"]
    assert getattr(F.resources_min_mean_peak(_runs().drop(columns="cpu_mean")), "placeholder", False)


def test_call_graphs_draw_one_panel_per_architecture_with_frequency_widths():
    from matplotlib.patches import FancyArrowPatch

    edges = pd.DataFrame([{"run_id": r, "instance": "crag", "message_source": a, "message_target": b, "bytes": 10}
                          for r, seq in (("r0", ["__start__", "A", "B", "A", "B", "__end__"]),
                                         ("r1", ["__start__", "A", "B", "__end__"]))
                          for a, b in zip(seq, seq[1:])])
    edges = pd.concat([edges, edges.assign(instance="lats", run_id=lambda d: d["run_id"] + "x")])
    fig = F.call_graphs(edges, None)  # run counts from the hand-overs: 2 runs each
    assert [ax.get_title() for ax in fig.axes] == ["crag (n=2 runs)", "lats (n=2 runs)"]
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 4  # start->A, A->B, B->A, B->end
    widths = sorted(p.get_linewidth() for p in arrows)
    assert widths[0] == pytest.approx(0.6 + 5.4 * 0.5 / 1.5) and widths[-1] == pytest.approx(6.0)  # A->B 1.5 per run
    nodes = {t.get_text() for t in fig.axes[0].texts}
    assert {"__start__", "A", "B", "__end__", "1.5"} <= nodes
    assert figure_problems(fig, "call_graphs") == []


def test_tool_accuracy_draws_rates_with_intervals():
    deltas = pd.DataFrame([{"instance": "crag", "backend": "sim/a", "task_id": f"t{k}", "repeat": 0,
                            "correct_off": float(k < 1), "correct_on": float(k < 3)} for k in range(4)])
    fig = F.tool_accuracy(deltas, _runs(), n=200)
    ax = fig.axes[0]
    points = {c.get_label(): c for c in ax.containers}
    off, on = points["tools off"], points["tools on"]
    assert off.lines[0].get_ydata()[0] == pytest.approx(25) and on.lines[0].get_ydata()[0] == pytest.approx(75)
    assert "change +50 pp" in ax.get_xticklabels()[0].get_text()
    assert ax.get_ylabel().replace("\n", " ") == "accuracy (% of judged runs correct)"
    assert getattr(F.tool_accuracy(None, _runs()), "placeholder", False)


def test_similarity_between_has_one_heatmap_per_tool_setting():
    long = pd.DataFrame({"instance": ["crag"] * 3, "group_a": ["m1", "m1", "m2"], "group_b": ["m1", "m2", "m2"],
                         "lcs_median": [1.0, 0.4, 0.8]})
    both = pd.concat([long.assign(tools_enabled=False), long.assign(tools_enabled=True)])
    fig = F.similarity_between_figure(both, _runs())
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["crag / tools off", "crag / tools on"]
