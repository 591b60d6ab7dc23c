"""The data behind each figure (``maestro.analysis.figure_data``) against hand-computed
values, without drawing anything."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maestro.analysis import figure_data as FD
from maestro.analysis import figures as F

S = 1_000_000_000  # ns per second
ROOT = Path(__file__).resolve().parents[2]


def _runs() -> pd.DataFrame:
    """Six runs: crag (langgraph) on sim/a and sim/b, lats (autogen) on both; r5 is a second
    task of crag / sim/a / tools on in repeat 0; r4 was not judged."""
    cols = ["run_id", "instance", "framework", "backend", "tools_enabled", "task_id", "judgement", "cpu_mean",
            "rss_peak_mb", "duration_s", "cost_usd", "llm_request_bytes", "llm_response_bytes", "a2a_bytes"]
    rows = [
        ("r0", "crag", "langgraph", "sim/a", True, "t1", "correct", 10.0, 100.0, 1.0, 0.001, 1024, 1024, 512),
        ("r1", "crag", "langgraph", "sim/a", False, "t1", "wrong", 20.0, 110.0, 2.0, 0.002, 2048, 0, 0),
        ("r2", "crag", "langgraph", "sim/b", True, "t1", "correct", 30.0, 120.0, 3.0, 0.003, 0, 1024, 1024),
        ("r3", "lats", "autogen", "sim/a", True, "t1", "wrong", 40.0, 300.0, 4.0, 0.004, 512, 512, None),
        ("r4", "lats", "autogen", "sim/b", False, "t1", "unjudged", 50.0, 310.0, 5.0, 0.005, 0, 0, 0),
        ("r5", "crag", "langgraph", "sim/a", True, "t2", "wrong", 60.0, 130.0, 6.0, np.nan, 0, 0, 0),
    ]
    runs = pd.DataFrame(rows, columns=cols).assign(repeat=0, status="success", simulated=True)
    return runs.astype({"a2a_bytes": "Int64"})


def _span(run_id, sid, parent, span_type, start, end, agent=None, **kw):
    name = f"{ {'agent': 'invoke_agent', 'tool': 'execute_tool'}.get(span_type, span_type)} {agent or ''}".strip()
    return {"run_id": run_id, "span_id": sid, "parent_span_id": parent, "span_type": span_type, "name": name,
            "agent_name": agent, "start_time_ns": int(start * S), "end_time_ns": int(end * S), **kw}


def _spans() -> pd.DataFrame:
    """Run r0 (10 s): agent A 1-5 s with LLM calls 2-3 s (10 + 5 tokens) and 2.5-4 s (20 + 5)
    and a tool call 4-4.5 s; agent B 6-9 s with an LLM call 6-8 s (30 + 10); a message
    A -> B of 300 bytes. Run r1 (4 s): agent A 0-4 s, one LLM call 1-3 s, a message A -> B
    of 100 bytes."""
    return pd.DataFrame([
        _span("r0", "root", None, "run", 0, 10),
        _span("r0", "a", "root", "agent", 1, 5, "A"),
        _span("r0", "l1", "a", "llm", 2, 3, "A", input_tokens=10, output_tokens=5, input_bytes=800, output_bytes=400,
              request_model="m1"),
        _span("r0", "l2", "a", "llm", 2.5, 4, "A", input_tokens=20, output_tokens=5, input_bytes=900,
              output_bytes=300, request_model="m1"),
        _span("r0", "t", "a", "tool", 4, 4.5, "A"),
        _span("r0", "b", "root", "agent", 6, 9, "B"),
        _span("r0", "l3", "b", "llm", 6, 8, "B", input_tokens=30, output_tokens=10, input_bytes=700,
              output_bytes=200, request_model="m1"),
        _span("r0", "m", "b", "message", 6, 6, None, message_source="A", message_target="B", input_bytes=300,
              output_bytes=0),
        _span("r1", "root", None, "run", 0, 4),
        _span("r1", "a", "root", "agent", 0, 4, "A"),
        _span("r1", "l1", "a", "llm", 1, 3, "A", input_tokens=1, output_tokens=1, input_bytes=100, output_bytes=50),
        _span("r1", "m", "a", "message", 3, 3, None, message_source="A", message_target="B", input_bytes=100,
              output_bytes=0),
    ])


def _box(data: pd.DataFrame, metric: str) -> dict[str, list[float]]:
    """A long box frame as {group: values} for one metric, NaN kept."""
    rows = data[data["metric"] == metric]
    return {g: list(v) for g, v in rows.groupby("group", sort=False)["value"]}


# --------------------------------------------------------------------------- the module itself

def test_the_data_module_draws_nothing():
    tree = ast.parse(Path(FD.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not [m for m in imported if m.split(".")[0] == "matplotlib"], imported


def test_figures_keeps_every_name_its_users_import():
    # notebooks/build_notebooks.py and the report call F.<name>; docs name the helpers
    used = set(re.findall(r"\bF\.(\w+)", (ROOT / "notebooks" / "build_notebooks.py").read_text(encoding="utf-8")))
    used |= set(re.findall(r"\bF\.(\w+)", (ROOT / "analysis" / "report.py").read_text(encoding="utf-8")))
    for name in sorted(used | set(F.__all__)):
        assert hasattr(F, name), name
    # the re-exported helpers are the data module's own objects, not copies
    for name in ("delay_breakdown", "token_curves", "TokenCurves", "pick_run", "present_keys", "CONFIG_KEYS",
                 "is_simulated", "figure_title", "run_label", "category_label", "SIMULATED_LABEL"):
        assert getattr(F, name) is getattr(FD, name), name
    assert set(FD.__all__) <= set(dir(FD))


# --------------------------------------------------------------------------- resources and bytes

def test_resources_data_per_instance_and_per_cell():
    d = FD.resources_data(_runs())
    assert list(d.columns) == list(FD.BOX_COLUMNS)
    assert _box(d, "cpu_mean") == {"crag\nlanggraph": [10, 20, 30, 60], "lats\nautogen": [40, 50]}
    assert _box(d, "rss_peak_mb") == {"crag\nlanggraph": [100, 110, 120, 130], "lats\nautogen": [300, 310]}
    cells = FD.resources_data(_runs(), FD.CONFIG_KEYS)
    assert _box(cells, "cpu_mean") == {
        "crag\nsim/a\ntools off": [20], "crag\nsim/a\ntools on": [10, 60], "crag\nsim/b\ntools on": [30],
        "lats\nsim/a\ntools on": [40], "lats\nsim/b\ntools off": [50]}
    # raw runs.parquet columns: peak memory in bytes (1 MB = 1e6 bytes)
    raw = _runs().drop(columns="rss_peak_mb").assign(rss_peak_bytes=250_000_000)
    assert _box(FD.resources_data(raw), "rss_peak_mb")["lats\nautogen"] == [250, 250]
    assert FD.resources_data(_runs().drop(columns="cpu_mean")) is None
    assert FD.resources_data(_runs().assign(cpu_mean=np.nan)) is None
    assert FD.resources_data(pd.DataFrame()) is None


def test_message_volume_data_in_kib_with_missing_counts_as_zero():
    d = FD.message_volume_data(_runs(), ["instance"])
    # r0: 1024 + 1024 + 512 bytes = 2.5 KiB; r3 lacks its a2a count: 1 KiB, a2a 0
    assert _box(d, "total_kib") == {"crag": [2.5, 2.0, 2.0, 0.0], "lats": [1.0, 0.0]}
    assert _box(d, "a2a_kib") == {"crag": [0.5, 0.0, 1.0, 0.0], "lats": [0.0, 0.0]}
    assert FD.message_volume_data(_runs().drop(columns="a2a_bytes")) is None


def test_message_sizes_data_per_agent_pair_and_model():
    m = FD.message_sizes_data(_spans())
    assert m.n_runs == 2
    # KiB per run (2 runs): A sent 300 + 100 bytes, B received them; A's LLM calls requested
    # 800 + 900 + 100 and got 400 + 300 + 50 bytes, B's 700 / 200
    expected = pd.DataFrame({"a2a sent": [400, 0], "a2a received": [0, 400], "LLM request": [1800, 700],
                             "LLM response": [750, 200]}, index=["A", "B"]) / 2 / 1024
    pd.testing.assert_frame_equal(m.per_agent, expected, check_names=False, check_dtype=False)
    assert m.pairs.loc["A", "B"] == 200  # bytes per run
    # per call: A's two m1 calls average 850 / 350 bytes; r1's call reports no model
    assert m.agent_model.to_dict("index") == {
        "A -> m1": {"input_bytes": 850.0, "output_bytes": 350.0},
        "A -> no model": {"input_bytes": 100.0, "output_bytes": 50.0},
        "B -> m1": {"input_bytes": 700.0, "output_bytes": 200.0}}
    llm_only = FD.message_sizes_data(_spans().query("span_type != 'message'"))
    assert llm_only.pairs.empty and len(llm_only.agent_model) == 3
    assert FD.message_sizes_data(_spans().query("span_type == 'run'")) is None
    assert FD.message_sizes_data(pd.DataFrame()) is None


# --------------------------------------------------------------------------- one run

def test_tokens_over_time_data_cumulates_per_agent_and_in_total():
    spans = pd.concat([_spans(), pd.DataFrame([_span("r0", "l4", "root", "llm", 8.5, 9, None, input_tokens=1)])],
                      ignore_index=True)
    d = FD.tokens_over_time_data(spans, run_id="r0")
    assert d.run_id == "r0"
    c = d.calls
    assert list(c["agent"]) == ["A", "A", "B", "?"]  # by end time; no agent name -> "?"
    assert list(c["t_s"]) == [3, 4, 8, 9]
    assert list(c["prompt_cum"]) == [10, 30, 30, 1]  # per agent
    assert list(c["completion_cum"]) == [5, 10, 10, 0]  # a missing count is 0
    assert list(c["total_cum"]) == [15, 40, 80, 81]  # all agents
    # without run_id: the typical run of the runs frame (median duration among successes)
    runs = pd.DataFrame({"run_id": ["r0", "r1", "r9"], "status": "success", "duration_s": [10.0, 4.0, 1.0]})
    assert FD.tokens_over_time_data(spans, runs).run_id == "r1"
    assert FD.tokens_over_time_data(spans, run_id="nope").calls.empty
    assert FD.tokens_over_time_data(pd.DataFrame()).calls.empty


def test_delay_breakdown_data_averages_the_runs_of_each_cell():
    # r0: e2e 10, model 4 (2-4 and 6-8), tool 0.5, agent 7 - 4.5 = 2.5, hand-over 3;
    # r1: e2e 4, model 2, agent 2, no tool, no hand-over; r2 alone in another cell
    spans = pd.concat([_spans(), pd.DataFrame([_span("r2", "root", None, "run", 0, 2)])], ignore_index=True)
    runs = _runs().assign(instance="crag", backend="sim/a", tools_enabled=True)
    runs.loc[2, "backend"] = "sim/b"
    d = FD.delay_breakdown_data(spans, runs[runs["run_id"].isin(["r0", "r1", "r2"])])
    assert list(d.columns) == ["agent_s", "model_s", "tool_s", "handover_s"]
    assert d.loc["crag\nsim/a\ntools on"].tolist() == pytest.approx([2.25, 3, 0.25, 1.5])
    assert d.loc["crag\nsim/b\ntools on"].tolist() == pytest.approx([0, 0, 0, 2])
    alone = FD.delay_breakdown_data(spans)  # no runs frame: one cell
    assert list(alone.index) == ["all runs"]
    assert alone.iloc[0].tolist() == pytest.approx([(2.5 + 2) / 3, 6 / 3, 0.5 / 3, 5 / 3])
    assert FD.delay_breakdown_data(pd.DataFrame()).empty


def test_flame_graph_data_lays_out_one_run():
    shifted = _spans().query("run_id == 'r0'").assign(start_time_ns=lambda d: d["start_time_ns"] + 2 * S,
                                                      end_time_ns=lambda d: d["end_time_ns"] + 2 * S)
    shifted.loc[shifted["span_id"] == "t", "name"] = None
    g = FD.flame_graph_data(shifted, run_id="r0")
    s = g.spans.set_index(shifted["span_id"])
    assert g.total_s == 10 and g.max_depth == 2
    assert s["depth"].to_dict() == {"root": 0, "a": 1, "l1": 2, "l2": 2, "t": 2, "b": 1, "l3": 2, "m": 2}
    assert s.loc["l2", ["start_s", "duration_s"]].tolist() == [2.5, 1.5]  # since the root started at 2 s
    assert s.loc["a", "label"] == "A" and s.loc["t", "label"] == "tool"  # unnamed span: its type
    assert s.loc["m", "duration_s"] == 0
    assert FD.flame_graph_data(shifted, run_id="nope").spans.empty


def test_resource_timeseries_data_splits_cpu_inside_and_outside_llm_calls():
    res = pd.DataFrame({"run_id": "r0", "time_ns": [int(t * S) for t in (7.0, 0.5, 2.2, 2.7, 5.5)],
                        "cpu_percent": [70.0, 10.0, 80.0, 90.0, 20.0], "rss_bytes": [2_000_000] * 5})
    d = FD.resource_timeseries_data(res, _spans(), run_id="r0")
    assert list(d.samples["t_s"]) == [0.5, 2.2, 2.7, 5.5, 7.0]  # time order, from the root's start
    assert list(d.samples["in_llm"]) == [False, True, True, False, True]
    assert list(d.samples["rss_mb"]) == [2.0] * 5
    assert (d.cpu_in_llm, d.cpu_outside) == (80.0, 15.0)
    assert d.calls.values.tolist() == [["llm", 2, 3], ["llm", 2.5, 4], ["llm", 6, 8], ["tool", 4, 4.5]]
    no_spans = FD.resource_timeseries_data(res, None, run_id="r0")
    assert no_spans.samples["t_s"].iloc[0] == 0 and no_spans.calls.empty and np.isnan(no_spans.cpu_in_llm)
    assert FD.resource_timeseries_data(res.drop(columns="cpu_percent"), run_id="r0").samples.empty


# --------------------------------------------------------------------------- similarity

def test_similarity_within_data_labels_and_means():
    within = pd.DataFrame({"instance": ["crag", "lats"], "tools_enabled": [True, None], "n_runs": [3, 1],
                           "n_pairs": [3, 0], "jaccard_mean": [0.9, 0.0], "lcs_mean": [0.6, 0.0]})
    d = FD.similarity_within_data(within)
    assert d.to_dict("list") == {"label": ["crag\ntools on\nn=3", "lats\ntools unknown\nn=1 (n<2)"],
                                 "jaccard": [0.9, 0.0], "lcs": [0.6, 0.0]}
    only = FD.similarity_within_data(within[["instance", "lcs_mean"]], by="instance")
    assert only.to_dict("list") == {"label": ["crag", "lats"], "lcs": [0.6, 0.0]}
    assert FD.similarity_within_data(within[["instance", "n_runs"]]) is None


def test_similarity_between_data_symmetric_per_facet():
    long = pd.DataFrame({"instance": ["crag", "crag", "crag", "lats"], "group_a": ["m1", "m1", "m2", "m1"],
                         "group_b": ["m1", "m2", "m2", "m1"], "lcs_median": [1.0, 0.4, 0.8, 1.0],
                         "n_pairs": [3, 9, 3, 1], "jaccard_median": 1.0})
    mats = FD.similarity_between_data(long, "LCS")
    assert list(mats) == ["crag"]  # lats compares one group only: no heatmap
    assert mats["crag"].to_numpy().tolist() == [[1.0, 0.4], [0.4, 0.8]]
    # per tool setting: runs with tools on and off are never pooled
    both = pd.concat([long.assign(tools_enabled=True), long.assign(tools_enabled=False, lcs_median=0.1)])
    mats = FD.similarity_between_data(both, "lcs")
    assert list(mats) == ["crag\ntools off", "crag\ntools on"]
    assert mats["crag\ntools off"].to_numpy().tolist() == [[0.1, 0.1], [0.1, 0.1]]
    assert mats["crag\ntools on"].to_numpy().tolist() == [[1.0, 0.4], [0.4, 0.8]]
    square = pd.DataFrame([[1, 0.3], [0.3, 1]], index=["a", "b"], columns=["a", "b"])
    assert list(FD.similarity_between_data({"x": square, "y": square.iloc[:1, :1]})) == ["x"]
    assert FD.similarity_between_data(None) == {}


# --------------------------------------------------------------------------- cost, latency, accuracy

def test_latency_vs_cost_data_orders_by_instance_then_backend():
    d = FD.latency_vs_cost_data(_runs())
    assert list(d.index) == [0, 1, 5, 2, 3, 4]
    assert d[["instance_index", "backend_index"]].values.tolist() == [[0, 0], [0, 0], [0, 0], [0, 1], [1, 0], [1, 1]]
    assert list(d["label"].unique()) == ["crag / sim/a", "crag / sim/b", "lats / sim/a", "lats / sim/b"]
    assert list(d["cost_usd"])[:2] == [0.001, 0.002] and np.isnan(d.loc[5, "cost_usd"])
    one = FD.latency_vs_cost_data(_runs().assign(backend="sim/a"))
    assert list(one["label"].unique()) == ["crag", "lats"]  # one backend: not named
    assert FD.latency_vs_cost_data(_runs().assign(cost_usd=np.nan)) is None


def test_cost_latency_accuracy_data_accuracy_per_cell_and_repeat():
    d = FD.cost_latency_accuracy_data(_runs(), "instance")
    assert _box(d, "duration_s") == {"crag": [1, 2, 3, 6], "lats": [4, 5]}
    # crag cells in repeat 0: sim/a off (r1 wrong) 0; sim/a on (r0 correct, r5 wrong over
    # two tasks) 0.5; sim/b on (r2) 1. lats: sim/a on (r3 wrong) 0, sim/b off unjudged
    acc = _box(d, "accuracy")
    assert acc["crag"] == [0.0, 0.5, 1.0]
    assert acc["lats"][0] == 0.0 and np.isnan(acc["lats"][1])
    by_backend = _box(FD.cost_latency_accuracy_data(_runs(), "backend"), "cost_usd")
    assert by_backend["sim/a"][:3] == [0.001, 0.002, 0.004] and np.isnan(by_backend["sim/a"][3])
    assert FD.cost_latency_accuracy_data(_runs().drop(columns="cost_usd")) is None


def test_tool_deltas_data_metrics_in_panel_order():
    deltas = pd.DataFrame({"instance": ["crag", "crag", "lats"], "backend": ["sim/a", "sim/a", "sim/a"],
                           "delta_correct": [1.0, 0.0, -1.0], "delta_duration_s": [1.0, 3.0, 2.0],
                           "delta_cost_usd": [0.1, 0.2, 0.3]})
    d = FD.tool_deltas_data(deltas)
    # accuracy is not a box of -1/0/+1 pair deltas: it is figure 12b (tool_accuracy_data)
    assert list(dict.fromkeys(d["metric"])) == ["latency", "cost"]
    assert _box(d, "latency") == {"crag\nsim/a": [1, 3], "lats\nsim/a": [2]}
    assert FD.tool_deltas_data(deltas[["instance", "backend", "delta_correct"]]) is None
    assert FD.tool_deltas_data(deltas[["instance", "backend"]]) is None
    assert FD.tool_deltas_data(deltas.iloc[0:0]) is None


def test_tool_accuracy_data_rates_with_task_clustered_intervals():
    # crag: 4 tasks x 2 repeats; off correct on t1 only (2/8), on correct on t1, t2, t3 (6/8)
    rows = []
    for t, (off, on) in {"t1": (1, 1), "t2": (0, 1), "t3": (0, 1), "t4": (0, 0)}.items():
        for rep in (0, 1):
            rows.append({"instance": "crag", "backend": "sim/a", "task_id": t, "repeat": rep,
                         "correct_off": float(off), "correct_on": float(on)})
    # lats: one pair judged, one with a missing judgement (left out)
    rows += [{"instance": "lats", "backend": "sim/a", "task_id": "t1", "repeat": 0, "correct_off": 1.0,
              "correct_on": 0.0},
             {"instance": "lats", "backend": "sim/a", "task_id": "t2", "repeat": 0, "correct_off": np.nan,
              "correct_on": 1.0}]
    d = FD.tool_accuracy_data(pd.DataFrame(rows), n=500).set_index("group")
    assert list(d.columns) == list(FD.TOOL_ACCURACY_COLUMNS)[1:]
    crag = d.loc["crag\nsim/a"]
    assert (crag["n_pairs"], crag["n_tasks"]) == (8, 4)
    assert (crag["off"], crag["on"], crag["delta"]) == pytest.approx((0.25, 0.75, 0.5))
    # resampling the 4 tasks: each interval lies within the range of the task means and
    # contains the estimate; the accuracy with tools on is never below 0 or above 1
    for k in ("off", "on", "delta"):
        assert crag[f"{k}_low"] <= crag[k] <= crag[f"{k}_high"]
    assert 0 <= crag["on_low"] and crag["on_high"] <= 1 and crag["delta_low"] >= 0
    lats = d.loc["lats\nsim/a"]
    assert (lats["n_pairs"], lats["off"], lats["on"], lats["delta"]) == (1, 1.0, 0.0, -1.0)
    assert FD.tool_accuracy_data(pd.DataFrame(rows).assign(correct_on=np.nan)) is None
    assert FD.tool_accuracy_data(None) is None


def test_resource_stats_data_min_mean_peak_per_group():
    runs = _runs().assign(cpu_min=[1.0, 2, 3, 4, 5, 6], cpu_peak=[90.0, 80, 70, 60, 50, 40],
                          rss_min_mb=100.0, rss_mean_mb=150.0)
    d = FD.resource_stats_data(runs)
    assert list(d.columns) == list(FD.RESOURCE_STAT_COLUMNS)
    cpu = d[d["resource"] == "cpu"]
    crag = cpu[cpu["group"] == "crag"].groupby("stat")["value"].apply(list).to_dict()
    assert crag == {"min": [1, 2, 3, 6], "mean": [10, 20, 30, 60], "peak": [90, 80, 70, 40]}
    mem = d[(d["resource"] == "memory") & (d["group"] == "lats")].groupby("stat")["value"].apply(list).to_dict()
    assert mem == {"min": [100, 100], "mean": [150, 150], "peak": [300, 310]}
    # raw runs.parquet columns: bytes, 1 MB = 1e6 bytes
    raw = _runs().drop(columns="rss_peak_mb").assign(rss_peak_bytes=250_000_000)
    assert set(FD.resource_stats_data(raw).query("resource == 'memory'")["value"]) == {250.0}
    assert FD.resource_stats_data(_runs().drop(columns="cpu_mean")) is None


def test_message_sizes_by_system_keeps_systems_apart():
    spans = pd.concat([_spans().assign(instance="crag"),
                       _spans().query("run_id == 'r1'").assign(instance="lats", run_id="r9")], ignore_index=True)
    systems = FD.message_sizes_by_system_data(spans)
    assert list(systems) == ["crag", "lats"]
    assert systems["crag"].n_runs == 2 and systems["lats"].n_runs == 1
    assert systems["lats"].pairs.loc["A", "B"] == 100  # only lats's own message
    assert list(FD.message_sizes_by_system_data(_spans())) == ["all runs"]
    assert FD.message_sizes_by_system_data(pd.DataFrame()) == {}


def _edges(rows):
    return pd.DataFrame([{"run_id": r, "instance": i, "message_source": a, "message_target": b, "bytes": n}
                         for r, i, a, b, n in rows])


def test_call_graph_data_weights_and_layers():
    # crag: r0 start -> A -> B -> A -> B -> end; r1 start -> A -> end; r2 has no hand-over
    edges = _edges([("r0", "crag", "__start__", "A", 10), ("r0", "crag", "A", "B", 20), ("r0", "crag", "B", "A", 30),
                    ("r0", "crag", "A", "B", 40), ("r0", "crag", "B", "__end__", 5),
                    ("r1", "crag", "__start__", "A", 10), ("r1", "crag", "A", "__end__", 5),
                    ("r5", "lats", "__start__", "X", 1), ("r5", "lats", "X", "X", 1)])
    runs = _runs().assign(instance=["crag", "crag", "crag", "lats", "lats", "lats"])
    graphs = FD.call_graph_data(edges, runs)
    assert list(graphs) == ["crag", "lats"]
    g = graphs["crag"]
    assert g.n_runs == 3
    e = g.edges.set_index(["source", "target"])
    assert e.loc[("A", "B"), "per_run"] == pytest.approx(2 / 3)  # two hand-overs in three runs
    assert e.loc[("A", "B"), "share_runs"] == pytest.approx(1 / 3)
    assert e.loc[("A", "B"), "bytes_mean"] == 30
    assert e.loc[("__start__", "A"), "per_run"] == pytest.approx(2 / 3)
    n = g.nodes.set_index("node")
    assert n["layer"].to_dict() == {"__start__": 0, "A": 1, "B": 2, "__end__": 3}
    assert n.loc["__start__", "x"] < n.loc["A", "x"] < n.loc["B", "x"] < n.loc["__end__", "x"]
    assert n.loc["__end__", "kind"] == "io" and n.loc["A", "kind"] == "agent"
    assert graphs["lats"].edges.set_index(["source", "target"]).loc[("X", "X"), "per_run"] == pytest.approx(1 / 3)
    assert FD.call_graph_data(edges.iloc[0:0]) == {}
    assert FD.call_graph_data(edges)["crag"].n_runs == 2  # without runs: the runs that handed over


def test_time_note_reads_the_time_factor_of_simulated_studies():
    runs = pd.DataFrame({"study_id": ["a", "b"], "simulated": [True, True]})
    infos = {"a": {"simulated": True, "config": {"time_factor": 0.02}},
             "b": {"simulated": True, "config": {"time_factor": 0.02}}}
    assert FD.time_note(infos, runs) == "simulated, time factor 0.02"
    infos["b"]["config"]["time_factor"] = 0
    assert FD.time_note(infos, runs) == "simulated, time factors 0, 0.02"
    assert FD.time_note({"a": {"simulated": True}}) == "simulated"
    assert FD.time_note({"a": {"simulated": False, "config": {"time_factor": 0.02}}},
                        runs.assign(simulated=False)) is None
    assert FD.time_label("latency per task", "simulated, time factor 0.02") == \
        "latency per task (s, simulated, time factor 0.02)"
    assert FD.time_label("latency per task", None) == "latency per task (s)"


def test_pareto_data_errors_frontier_and_shapes():
    points = pd.DataFrame({"instance": ["crag", "lats", "crag"], "backend": ["sim/a", "sim/a", "sim/b"],
                           "tools_enabled": [True, False, True], "cost_usd": [2.0, 1.0, 3.0],
                           "cost_usd_low": [1.5, 1.2, 2.0], "cost_usd_high": [2.5, 1.4, 3.0],
                           "accuracy": [0.9, 0.5, 0.6], "accuracy_low": [0.8, 0.4, 0.6],
                           "accuracy_high": [1.0, 0.7, 0.6], "on_frontier": [True, True, False]},
                          index=[10, 11, 12])
    p = FD.pareto_data(points, bootstrap=pd.DataFrame({"frontier_freq": [0.9, 0.8, 0.1]}))
    assert p.points["label"].tolist() == ["crag / sim/a / tools on", "lats / sim/a / tools off",
                                          "crag / sim/b / tools on"]
    assert p.shape_key == "instance" and p.points["shape"].tolist() == ["crag", "lats", "crag"]
    # distances below / above the estimate; a low end above the estimate (1.2 > 1.0) clips to 0
    assert p.cost_err == pytest.approx(np.array([[0.5, 0.0, 1.0], [0.5, 0.4, 0.0]]))
    assert p.accuracy_err == pytest.approx(np.array([[0.1, 0.1, 0.0], [0.1, 0.2, 0.0]]))
    assert p.frontier_freq.tolist() == [0.9, 0.8, 0.1]  # from the bootstrap table, row for row
    assert p.frontier["cost"].tolist() == [1.0, 2.0]  # by increasing cost
    plain = FD.pareto_data(pd.DataFrame({"cost": [1.0, 2.0], "accuracy": [0.5, np.nan], "label": ["x", "y"]}))
    assert plain.shape_key is None and set(plain.points["shape"]) == {"all cells"}
    assert plain.cost_err is None and plain.frontier_freq is None and plain.frontier.empty
    assert FD.pareto_data(points.assign(accuracy=np.nan)) is None
    assert FD.pareto_data(None) is None


# --------------------------------------------------------------------------- failures

def test_failure_breakdown_data_percent_per_group():
    long = pd.DataFrame({"backend": ["sim/a", "sim/a", "sim/b", "sim/b", None],
                         "category": ["empty", "wrong", "empty", "wrong", "wrong"], "n": [1, 3, 2, 0, 5]})
    f = FD.failure_breakdown_data(long)
    assert f.percent.to_dict("index") == {"no backend": {"empty": 0.0, "wrong": 100.0},
                                          "sim/a": {"empty": 25.0, "wrong": 75.0},
                                          "sim/b": {"empty": 100.0, "wrong": 0.0}}
    assert f.n.to_dict() == {"no backend": 5, "sim/a": 4, "sim/b": 2}
    counted = FD.failure_breakdown_data(long.drop(columns="n"))  # no value column: rows are counted
    assert counted.n.to_dict() == {"no backend": 1, "sim/a": 2, "sim/b": 2}
    wide = pd.DataFrame({"backend": ["sim/a"], "empty": [1], "wrong": [3], "total": [4]})
    assert FD.failure_breakdown_data(wide).percent.to_dict("index") == {"sim/a": {"empty": 25.0, "wrong": 75.0}}
    assert FD.failure_breakdown_data(long.assign(n=0)) is None
    assert FD.failure_breakdown_data(None) is None


def test_judge_agreement_data_symmetric_with_unit_diagonal():
    k = pd.DataFrame({"judge_a": ["j1", "j1", "j2"], "judge_b": ["j2", "j3", "j3"], "kappa": [0.5, -0.2, 0.1]})
    m = FD.judge_agreement_data(k)
    assert list(m.index) == list(m.columns) == ["j1", "j2", "j3"]
    assert m.to_numpy().tolist() == [[1, 0.5, -0.2], [0.5, 1, 0.1], [-0.2, 0.1, 1]]
    assert FD.judge_agreement_data(pd.DataFrame()) is None


def test_helpers_label_cells_without_nan():
    assert FD.run_label({"instance": "crag", "backend": None, "tools_enabled": None}) == "crag\nno backend"
    assert FD.category_label("wrong_fact_entity") == "Wrong fact / entity"
    assert FD.category_label("not_a_category") == "not_a_category"
    assert FD.figure_title("T", True) == f"T [{FD.SIMULATED_LABEL}]" and FD.figure_title("T", False) == "T"
    assert FD.is_simulated(None, _runs()) and not FD.is_simulated(_runs().assign(simulated=False))
    assert FD.present_keys(_runs().assign(backend=None), FD.CONFIG_KEYS) == ["instance", "tools_enabled"]
    assert FD.pick_run(_runs()) == "r3"  # durations 1..6 s: index 3 of the sorted six
