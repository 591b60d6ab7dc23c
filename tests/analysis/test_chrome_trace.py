"""``maestro export --format chrome-trace``: one complete event per span with exact times,
lanes whose events nest strictly (what Perfetto and speedscope require), args with the
span's attributes; checked against the trace-event format on hand-made and real studies,
and loaded into Perfetto's trace processor where its binary is available."""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

import maestro
from maestro.analysis.chrome_trace import chrome_trace, span_lanes, write_chrome_trace
from maestro.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert


def trace_event_problems(trace: dict) -> list[str]:
    """What Perfetto's JSON importer and speedscope would reject or misplace in ``trace``:
    a top-level object with a ``traceEvents`` list; complete events (``ph`` X) with a name,
    numeric ``ts`` and ``dur >= 0``, integer ``pid``/``tid`` and an ``args`` object; metadata
    events (``ph`` M) naming processes and threads; and on each (pid, tid) the complete
    events nesting strictly (a slice that starts inside another must end inside it)."""
    problems = []
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["no traceEvents list"]
    lanes: dict[tuple, list[tuple[float, float, str]]] = defaultdict(list)
    for k, e in enumerate(trace["traceEvents"]):
        ph = e.get("ph")
        if not isinstance(e.get("pid"), int) or not isinstance(e.get("tid"), int):
            problems.append(f"event {k}: pid/tid not integers")
        if ph == "M":
            if e.get("name") not in ("process_name", "process_sort_index", "process_labels", "thread_name",
                                     "thread_sort_index") or not isinstance(e.get("args"), dict):
                problems.append(f"event {k}: bad metadata event")
            continue
        if ph != "X":
            problems.append(f"event {k}: phase {ph!r}")
            continue
        ts, dur = e.get("ts"), e.get("dur")
        if not isinstance(e.get("name"), str) or not isinstance(ts, (int, float)) or not isinstance(dur, (int, float)) \
                or dur < 0 or not isinstance(e.get("args"), dict):
            problems.append(f"event {k}: bad complete event {e!r:.200}")
            continue
        # Perfetto reads microseconds as llround(us * 1000) ns
        lanes[(e["pid"], e["tid"])].append((round(ts * 1000), round((ts + dur) * 1000), e["name"]))
    for lane, events in lanes.items():
        stack: list[tuple[int, int, str]] = []
        for start, end, name in sorted(events, key=lambda t: (t[0], -t[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                problems.append(f"lane {lane}: {name!r} [{start}, {end}] overlaps {stack[-1][2]!r} "
                                f"[{stack[-1][0]}, {stack[-1][1]}] without nesting")
            stack.append((start, end, name))
    return problems


def test_the_format_check_catches_overlapping_slices_on_one_lane():
    """The check could fail: two overlapping, non-nested slices on one thread are caught."""
    bad = {"traceEvents": [{"name": "a", "ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 1, "args": {}},
                           {"name": "b", "ph": "X", "ts": 5, "dur": 10, "pid": 1, "tid": 1, "args": {}}]}
    assert trace_event_problems(bad) and "overlaps 'a'" in trace_event_problems(bad)[0]
    ok = {"traceEvents": [{**bad["traceEvents"][0]}, {**bad["traceEvents"][1], "tid": 2}]}
    assert trace_event_problems(ok) == []


@pytest.fixture
def parallel_study(tmp_path):
    """One run: a root, an agent with a model call, two parallel workers that overlap without
    nesting (a fan-out), each with a tool call, and message records; one more run."""
    run = run_row("ct", "r1", task_id="t1")
    b = SpanBuilder(run)
    t0 = 1_000_000_000

    def span(sid, parent, stype, start_us, end_us, **kw):
        b.rows.append({**b.ident, "trace_id": "0" * 31 + "1", "span_id": sid, "parent_span_id": parent,
                       "name": kw.pop("name", f"{stype} {kw.get('agent_name', '')}".strip()), "kind": "INTERNAL",
                       "span_type": stype, "start_time_ns": t0 + start_us * 1000, "end_time_ns": t0 + end_us * 1000,
                       "duration_ns": (end_us - start_us) * 1000, "status_code": "UNSET", **kw})

    span("a" * 16, None, "run", 0, 1000, name="invoke_workflow demo")
    span("b" * 16, "a" * 16, "agent", 10, 300, agent_name="planner", name="invoke_agent planner")
    span("c" * 16, "b" * 16, "llm", 20, 250, agent_name="planner", name="chat sim-a", input_tokens=12,
         output_tokens=3, attributes_json=json.dumps({"gen_ai.request.max_tokens": 64}))
    span("d" * 16, "a" * 16, "agent", 300, 700, agent_name="worker", name="invoke_agent worker")
    span("e" * 16, "a" * 16, "agent", 400, 900, agent_name="worker", name="invoke_agent worker")
    span("f" * 16, "d" * 16, "tool", 310, 690, agent_name="worker", tool_name="search", status_code="ERROR")
    span("1" * 16, "e" * 16, "tool", 410, 890, agent_name="worker", tool_name="search")
    span("2" * 16, "d" * 16, "message", 300, 300, message_source="planner", message_target="worker",
         input_bytes=42, name="message planner -> worker")
    span("3" * 16, "e" * 16, "message", 400, 400, message_source="planner", message_target="worker",
         input_bytes=40, name="message planner -> worker")
    other = run_row("ct", "r2", task_id="t2")
    b2 = SpanBuilder(other)
    b2.t = t0 + 2_000_000
    root = b2.add("run", name="invoke_workflow demo", dur_ms=3)
    b2.add("agent", root, agent_name="planner", dur_ms=1)
    return write_study(tmp_path / "ct", [run, other], {"r1": b.rows, "r2": b2.rows})


def test_every_span_is_one_complete_event_with_exact_times_and_attributes(parallel_study):
    trace = chrome_trace(parallel_study)
    assert trace_event_problems(trace) == []
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == 11 == trace["otherData"]["spans"]
    assert len({e["args"]["span_id"] for e in xs}) == 11
    by = {e["args"]["span_id"]: e for e in xs}
    # relative to the earliest span, in microseconds (exact to the nanosecond)
    assert (by["a" * 16]["ts"], by["a" * 16]["dur"]) == (0.0, 1000.0)
    assert (by["c" * 16]["ts"], by["c" * 16]["dur"]) == (20.0, 230.0)
    assert by["c" * 16]["args"]["input_tokens"] == 12 and by["c" * 16]["args"]["attributes"] == \
        {"gen_ai.request.max_tokens": 64}
    assert by["f" * 16]["args"]["status"] == "ERROR" and by["f" * 16]["cat"] == "tool"
    assert by["2" * 16]["args"]["message_target"] == "worker" and by["2" * 16]["dur"] == 0.0
    # the second run's process starts 2 ms after the first
    assert by[f"{1:016x}"]["ts"] == 2000.0 and by[f"{1:016x}"]["pid"] == 2
    meta = {(e["pid"], e["tid"], e["name"]): e["args"] for e in trace["traceEvents"] if e["ph"] == "M"}
    assert meta[(1, 0, "process_name")] == {"name": "r1"} and meta[(2, 0, "process_name")] == {"name": "r2"}
    assert "task_id=t1" in meta[(1, 0, "process_labels")]["labels"]


def test_parallel_workers_get_their_own_lane_and_nested_spans_share_one(parallel_study):
    trace = chrome_trace(parallel_study)
    xs = {e["args"]["span_id"]: e for e in trace["traceEvents"] if e["ph"] == "X"}
    tid = {k: v["tid"] for k, v in xs.items()}
    # the planner, its model call, the first worker and its tool nest under the root: one lane
    assert tid["a" * 16] == tid["b" * 16] == tid["c" * 16] == tid["d" * 16] == tid["f" * 16] == 1
    # the second worker overlaps the first without nesting: a lane of its own, named after it
    assert tid["e" * 16] == tid["1" * 16] == tid["3" * 16] == 2
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names[(1, 1)] == "run" and names[(1, 2)] == "worker"


def test_span_lanes_nest_on_random_span_sets():
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        starts = rng.integers(0, 1000, size=n)
        ends = starts + rng.integers(0, 300, size=n)
        df = pd.DataFrame({"span_id": [f"s{i}" for i in range(n)],
                           "parent_span_id": [None] + [f"s{int(rng.integers(0, i))}" for i in range(1, n)],
                           "start_time_ns": starts, "end_time_ns": ends, "agent_name": "a", "span_type": "agent"})
        lanes, names = span_lanes(df)
        assert len(lanes) == n and max(lanes) < len(names)
        events = [{"name": f"s{i}", "ph": "X", "ts": int(starts[i]) / 1000, "dur": int(ends[i] - starts[i]) / 1000,
                   "pid": 1, "tid": lanes[i] + 1, "args": {}} for i in range(n)]
        assert trace_event_problems({"traceEvents": events}) == []


def test_run_filter_and_unknown_runs(parallel_study, tmp_path, capsys):
    trace = chrome_trace(parallel_study, ["r2"])
    assert [e["args"]["span_id"] for e in trace["traceEvents"] if e["ph"] == "X"] == [f"{1:016x}", f"{2:016x}"]
    with pytest.raises(ValueError, match="run 'nope' is not in study 'ct'"):
        chrome_trace(parallel_study, ["nope"])
    assert main(["export", str(parallel_study), "--format", "chrome-trace", "--run", "nope"]) == 2
    assert capsys.readouterr().err.startswith("maestro: error: run 'nope'")


@pytest.mark.slow
def test_cli_export_of_a_real_study_loads_with_the_same_span_count(analysis_study, tmp_path):
    out = tmp_path / "trace.json"
    assert main(["export", str(analysis_study), "--format", "chrome-trace", "--out", str(out)]) == 0
    trace = json.loads(out.read_text(encoding="utf-8"))  # strict JSON: no NaN
    spans = maestro.load_study(analysis_study).spans
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == len(spans) and {e["args"]["span_id"] for e in xs} == set(spans["span_id"])
    assert trace_event_problems(trace) == []
    assert len({e["pid"] for e in xs}) == spans["run_id"].nunique()


def _trace_processor_shell() -> str | None:
    """A trace_processor_shell binary: $MAESTRO_TRACE_PROCESSOR_SHELL, else the one the
    perfetto package downloaded into its cache before (it fetches it on first use; this
    machine may have no internet)."""
    if os.environ.get("MAESTRO_TRACE_PROCESSOR_SHELL"):
        return os.environ["MAESTRO_TRACE_PROCESSOR_SHELL"]
    try:
        from perfetto.prebuilts.manifests.trace_processor_shell import TRACE_PROCESSOR_SHELL_MANIFEST
    except ImportError:
        return None
    cache = Path.home() / ".local" / "share" / "perfetto" / "prebuilts"
    for entry in TRACE_PROCESSOR_SHELL_MANIFEST:
        path = cache / f"trace_processor_shell-{entry['sha256'][:16]}"
        if path.is_file():
            return str(path)
    return None


@pytest.mark.slow
@pytest.mark.skipif(_trace_processor_shell() is None, reason="no trace_processor_shell binary (the perfetto "
                    "package downloads it on first use; set MAESTRO_TRACE_PROCESSOR_SHELL offline)")
def test_perfetto_trace_processor_reads_every_span(analysis_study, tmp_path):
    from perfetto.trace_processor import TraceProcessor, TraceProcessorConfig

    path = write_chrome_trace(analysis_study, tmp_path / "trace.json")
    spans = maestro.load_study(analysis_study).spans
    tp = TraceProcessor(trace=str(path), config=TraceProcessorConfig(bin_path=_trace_processor_shell()))
    try:
        n = tp.query("select count(*) as n from slice").as_pandas_dataframe()["n"].iloc[0]
        procs = tp.query("select count(distinct upid) as n from thread_track join thread using (utid)") \
            .as_pandas_dataframe()["n"].iloc[0]
    finally:
        tp.close()
    assert n == len(spans) and procs == spans["run_id"].nunique()
