"""The store at scale: synthetic studies of 10k / 100k / 1M spans, read, compacted and reported.

Each study is written through the store's own writers, as the runner writes one: per run a
spans file (``StreamingParquetWriter``, the collector's writer), a resources file and a run
record (``RunIndex.record``). Runs are shaped like real ones (~24 spans: a run root, agent
turns, LLM calls with tokens and bytes, tool calls, agent-to-agent messages; 5 resource
samples), seeded.

Timed per size, in one invocation:

* ``load_study`` on the per-run files (uncompacted), ``compact``, ``load_study`` compacted,
  and ``pyarrow.dataset(...).to_table().to_pandas()`` on the same compacted files (the
  floor ``load_study`` is held to: within 3x);
* every analysis frame (compacted), a duckdb count/sum over the views;
* recording one run's record at run 100 and at the last run (O(1) upkeep);
* similarity within / between groups at 10,000 runs x 200 edges (peak memory), and
  ``maestro report`` on the 10,000-run study (wall and peak RSS, a subprocess).

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--report-runs 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from maestro import semconv as sc
from maestro.store.layout import StreamingParquetWriter, StudyLayout, atomic_write_json, file_metadata
from maestro.store.reader import RunIndex
from maestro.store.schema import RESOURCE_COLUMNS, SPAN_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SPANS_PER_RUN = 24
AGENTS = ["planner", "researcher", "critic", "writer"]
TOOLS = ["web_search", "retrieve", "calculator"]

__all__ = ["build_study", "main"]


def _run_spans(study_id: str, run_id: str, i: int, rng: np.random.Generator, t0: int) -> dict[str, list[Any]]:
    """~24 spans of one run: root, 6 agent turns (each an LLM call, some a tool call), 7 messages."""
    rows: list[dict[str, Any]] = []
    trace = f"{i:032x}"
    sid = iter(range(1, 1000))
    root = f"{next(sid) + i * 1000:016x}"
    t = t0
    rows.append(dict(span_id=root, parent_span_id=None, name="invoke_workflow mas", span_type="run",
                     operation="invoke_workflow", kind="INTERNAL"))
    prev = "__start__"
    for turn in range(6):
        agent = AGENTS[int(rng.integers(len(AGENTS)))]
        rows.append(dict(span_id=f"{next(sid) + i * 1000:016x}", parent_span_id=root, name=f"message {prev}->{agent}",
                         span_type="message", operation="message", kind="INTERNAL", message_source=prev,
                         message_target=agent, input_bytes=int(rng.integers(200, 4000)), is_in_process_call=True))
        a_id = f"{next(sid) + i * 1000:016x}"
        rows.append(dict(span_id=a_id, parent_span_id=root, name=f"invoke_agent {agent}", span_type="agent",
                         operation="invoke_agent", agent_name=agent, kind="INTERNAL"))
        inp, out = int(rng.integers(300, 3000)), int(rng.integers(20, 400))
        rows.append(dict(span_id=f"{next(sid) + i * 1000:016x}", parent_span_id=a_id, name="chat sim-strong",
                         span_type="llm", operation="chat", agent_name=agent, kind="CLIENT", provider="maestro.sim",
                         request_model="sim-strong", response_model="sim-strong", input_tokens=inp,
                         output_tokens=out, total_tokens=inp + out, usage_estimated=False, input_bytes=inp * 4,
                         output_bytes=out * 4 + 300, total_bytes=inp * 4 + out * 4 + 300, is_in_process_call=False,
                         http_attempts=1))
        if turn % 2 == 0:
            tool = TOOLS[int(rng.integers(len(TOOLS)))]
            rows.append(dict(span_id=f"{next(sid) + i * 1000:016x}", parent_span_id=a_id, name=f"execute_tool {tool}",
                             span_type="tool", operation="execute_tool", agent_name=agent, kind="INTERNAL",
                             tool_name=tool, tool_call_id=f"call_{i}_{turn}", tool_type="function"))
        prev = agent
    rows.append(dict(span_id=f"{next(sid) + i * 1000:016x}", parent_span_id=root, name=f"message {prev}->__end__",
                     span_type="message", operation="message", kind="INTERNAL", message_source=prev,
                     message_target="__end__", input_bytes=int(rng.integers(50, 500)), is_in_process_call=True))
    for r in rows:
        dur = int(rng.integers(1_000_000, 900_000_000))
        r.update(study_id=study_id, run_id=run_id, trace_id=trace, start_time_ns=t, end_time_ns=t + dur,
                 duration_ns=dur, status_code="OK" if rng.random() > 0.02 else "ERROR", attributes_json="{}",
                 events_json="[]")
        t += dur // 3
    return {c.name: [r.get(c.name) for r in rows] for c in SPAN_COLUMNS}


def build_study(out: Path, n_spans: int, seed: int = 0, study_id: str | None = None,
                first: int = 0) -> tuple[StudyLayout, dict[int, float]]:
    """A synthetic study of about ``n_spans`` spans (``n_spans / 24`` runs, ids from
    ``run-<first>``) under ``out``, written through the store's writers (an existing study
    grows). Returns its layout and the seconds each run's record write took."""
    study_id = study_id or f"scale-{n_spans}"
    layout = StudyLayout.for_study(out, study_id).create()
    if not layout.study_json.exists():
        atomic_write_json({"format": "maestro.study", "schema_version": sc.SCHEMA_VERSION, "study_id": study_id,
                           "config": {}, "prices": {"models": {"sim/strong": {"input": 0.0, "output": 0.0}}},
                           "simulated": True}, layout.study_json)
    rng = np.random.default_rng(seed)
    index = RunIndex(layout)
    # the bulk of a synthetic study is written without fsync (setup, not what is measured)
    fsync = os.environ.get("MAESTRO_FSYNC", "1")
    os.environ["MAESTRO_FSYNC"] = "0"
    n_runs = max(1, n_spans // SPANS_PER_RUN)
    t0 = 1_700_000_000_000_000_000
    record_s: dict[int, float] = {}
    for i in range(first, first + n_runs):
        run_id = f"run-{i:07d}"
        identity = dict(instance=["crag", "mad", "swarm"][i % 3], framework="langgraph", backend="sim/strong",
                        tools_enabled=bool(i % 2), repeat=i // 60, seed=1000 + i, task_id=f"t{i % 20}")
        cols = _run_spans(study_id, run_id, i, rng, t0 + i * 10_000_000_000)
        for k, v in identity.items():
            cols[k] = [v] * len(cols["span_id"])
        w = StreamingParquetWriter(layout.spans_file(run_id), SPAN_COLUMNS, file_metadata("spans", {"run_id": run_id}))
        w.write_columns(cols)
        w.close()
        n_res = 5
        rw = StreamingParquetWriter(layout.resources_file(run_id), RESOURCE_COLUMNS,
                                    file_metadata("resources", {"run_id": run_id}))
        rw.write_columns({"study_id": [study_id] * n_res, "run_id": [run_id] * n_res,
                          "time_ns": [t0 + i * 10_000_000_000 + k * 100_000_000 for k in range(n_res)],
                          "cpu_percent": list(rng.uniform(5, 95, n_res)), "rss_bytes": [int(x) for x in
                                                                                      rng.integers(50e6, 300e6, n_res)],
                          "num_processes": [1] * n_res})
        rw.close()
        llm = [k for k, s in enumerate(cols["span_type"]) if s == "llm"]
        tin = sum(cols["input_tokens"][k] for k in llm)
        tout = sum(cols["output_tokens"][k] for k in llm)
        row = {"schema_version": sc.SCHEMA_VERSION, "study_id": study_id, "run_id": run_id, **identity,
               "model": "sim-strong", "provider": "maestro.sim", "simulated": True, "status":
               "success" if rng.random() > 0.1 else "failure", "outcome": "success", "judgement":
               "correct" if rng.random() > 0.3 else "wrong", "started_at_ns": t0 + i * 10_000_000_000,
               "duration_s": float(rng.uniform(1, 30)), "input_tokens": tin, "output_tokens": tout,
               "total_tokens": tin + tout, "cost_usd": 0.0, "llm_calls": len(llm),
               "tool_calls": cols["span_type"].count("tool"), "agent_turns": cols["span_type"].count("agent"),
               "messages": cols["span_type"].count("message"), "spans_created": len(cols["span_id"]),
               "spans_written": len(cols["span_id"]), "spans_dropped": 0, "clean": True, "attempt": 1,
               "cpu_mean": 40.0, "cpu_peak": 90.0, "rss_peak_bytes": 200_000_000, "resource_samples": n_res}
        timed = (i - first) in range(90, 110) or i >= first + n_runs - 20
        if timed:  # the O(1) claim is timed with the durable writes a study makes
            os.environ["MAESTRO_FSYNC"] = fsync
        t = time.perf_counter()
        index.record(row)
        if timed:
            record_s[i] = time.perf_counter() - t
            os.environ["MAESTRO_FSYNC"] = "0"
    os.environ["MAESTRO_FSYNC"] = fsync
    return layout, record_s


def _timed(fn, repeats: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _old_load_s(tree: Path, root: Path) -> float:
    """Seconds of ``load_study`` as the code in ``tree`` (a ``git worktree`` of an older
    commit) runs it, on the same per-run files, in a fresh process."""
    code = ("import time, sys; from maestro.store.reader import load_study; t = time.perf_counter(); "
            f"s = load_study({str(root)!r}); print(time.perf_counter() - t, len(s.spans))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tree,
                       env={**os.environ, "PYTHONPATH": str(tree)})
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    return float(p.stdout.split()[0])


def measure_size(out: Path, n_spans: int, baseline: Path | None = None) -> dict[str, Any]:
    """Build one study and time everything on it."""
    import pyarrow.dataset as ds

    import maestro
    from maestro.analysis import frames
    from maestro.store.compact import compact, compacted_files

    res: dict[str, Any] = {"spans_target": n_spans}
    t = time.perf_counter()
    layout, record_s = build_study(out, n_spans)
    res["build_s"] = time.perf_counter() - t
    runs = sorted(record_s)
    res["runs"] = max(1, n_spans // SPANS_PER_RUN)
    # O(1) upkeep: the median record write around run 100 vs around the last run
    early = [record_s[i] for i in runs[:20]]
    late = [record_s[i] for i in runs[-20:]]
    res["record_ms_at_100"] = 1000 * float(np.median(early))
    res["record_ms_at_last"] = 1000 * float(np.median(late))
    if n_spans <= 100_000:  # the same files with the records not yet folded
        res["load_uncompacted_records_s"], study = _timed(lambda: maestro.load_study(layout.root))
    RunIndex(layout).write()  # fold the records: runs.parquet as the older code reads it
    res["load_uncompacted_s"], study = _timed(lambda: maestro.load_study(layout.root))
    if baseline is not None and n_spans <= 100_000:
        res["load_uncompacted_baseline_s"] = _old_load_s(baseline, layout.root)
    res["spans"] = len(study.spans)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del study
    res["compact_s"], _ = _timed(lambda: compact(layout.root, force=True))
    res["load_compacted_s"], study = _timed(lambda: maestro.load_study(layout.root), repeats=2)
    del study
    # the floor: the same files (compacted spans and resources, runs.parquet) straight to pandas
    files = [[str(p) for p in compacted_files(layout.root, a)] for a in ("spans", "resources")]
    files.append([str(layout.runs_parquet)])
    res["pyarrow_dataset_s"], _ = _timed(lambda: [ds.dataset(f, format="parquet").to_table().to_pandas()
                                                  for f in files], repeats=2)
    res["pyarrow_spans_only_s"], _ = _timed(lambda: ds.dataset(files[0], format="parquet").to_table().to_pandas(),
                                            repeats=2)
    res["load_vs_pyarrow"] = res["load_compacted_s"] / res["pyarrow_dataset_s"]
    for name in ("runs_df", "spans_df", "llm_calls_df", "tool_calls_df", "edges_df", "resources_df"):
        res[f"{name}_s"], _ = _timed(lambda name=name: getattr(frames, name)(layout.root))
    con = frames.duckdb_connection(layout.root)
    res["duckdb_s"], _ = _timed(lambda: con.sql(
        "select span_type, count(*), sum(input_tokens) from spans group by 1").fetchall(), repeats=2)
    con.close()
    return res


def measure_similarity(n_runs: int, length: int) -> dict[str, Any]:
    """similarity_within (instance x model x tools) and similarity_between (model, per
    instance) on ``n_runs`` runs of ``length`` edges, in a fresh process (peak RSS)."""
    code = (  # the script has braces of its own: %-formatting
        "import sys, time, resource; sys.path.insert(0, %r)\n"  # noqa: UP031
        "import pandas as pd\n"
        "from similarity import make_sequences\n"
        "from maestro.analysis.callgraph import similarity_within, similarity_between\n"
        "seqs = make_sequences(%d, %d, 6, 0)\n"
        "runs = pd.DataFrame({'run_id': [f'r{i}' for i in range(len(seqs))], 'instance': [i %% 2 for i in "
        "range(len(seqs))], 'model': [(i // 2) %% 2 for i in range(len(seqs))], 'tools_enabled': True})\n"
        "edges = pd.DataFrame([(f'r{i}', a, b, k, k) for i, s in enumerate(seqs) for k, (a, b) in enumerate(s)],\n"
        "    columns=['run_id', 'message_source', 'message_target', 'order', 'start_time_ns'])\n"
        "hwm = lambda: int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024\n"
        "base = hwm()\n"
        "t = time.perf_counter(); w = similarity_within(runs, edges); tw = time.perf_counter() - t\n"
        "t = time.perf_counter(); b = similarity_between(runs, edges); tb = time.perf_counter() - t\n"
        "print(tw, tb, base, hwm())\n"
        % (str(ROOT / "benchmarks"), n_runs, length)
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    tw, tb, base, peak = (float(x) for x in p.stdout.split()[-4:])
    return {"similarity_runs": n_runs, "similarity_edges": length, "similarity_within_s": tw,
            "similarity_between_s": tb, "similarity_rss_before_mb": base, "similarity_peak_mb": peak}


def measure_report(out: Path, n_runs: int) -> dict[str, Any]:
    layout, _ = build_study(out, n_runs * SPANS_PER_RUN, study_id=f"report-{n_runs}")
    from maestro.store.compact import compact

    compact(layout.root, force=True)
    # peak memory as VmHWM of the report's own process (ru_maxrss would carry the peak of the
    # process that forked it across exec)
    code = ("import sys; from maestro.cli import main; "
            f"rc = main(['report', {str(layout.root)!r}, '--out', {str(out / 'report-out')!r}, '--no-progress']); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); sys.exit(rc)")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    return {"report_runs": n_runs, "report_s": wall, "report_rc": p.returncode,
            "report_peak_mb": int(peak) / 1024 if peak.isdigit() else None,
            "report_err": p.stderr[-1500:] if p.returncode else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--report-runs", type=int, default=10000)
    ap.add_argument("--similarity-runs", type=int, default=10000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the synthetic studies (printed)")
    ap.add_argument("--baseline", type=Path, help="a git worktree of an older commit: its load_study is timed "
                    "on the same uncompacted files")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="maestro-scale-"))
    results: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                               "load": os.getloadavg(), "sizes": []}
    try:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            r = measure_size(tmp, n, args.baseline)
            results["sizes"].append(r)
            print(json.dumps(r), flush=True)
        if args.similarity_runs:
            results["similarity"] = measure_similarity(args.similarity_runs, 200)
            print(json.dumps(results["similarity"]), flush=True)
        if args.report_runs:
            results["report"] = measure_report(tmp, args.report_runs)
            print(json.dumps(results["report"]), flush=True)
    finally:
        if args.keep:
            print(f"studies kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    _print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _print_table(results: dict[str, Any]) -> None:
    keys = ["runs", "spans", "build_s", "record_ms_at_100", "record_ms_at_last", "load_uncompacted_records_s",
            "load_uncompacted_s", "load_uncompacted_baseline_s", "compact_s",
            "load_compacted_s", "pyarrow_dataset_s", "pyarrow_spans_only_s", "load_vs_pyarrow", "runs_df_s", "spans_df_s", "llm_calls_df_s",
            "tool_calls_df_s", "edges_df_s", "resources_df_s", "duckdb_s"]
    sizes = results["sizes"]
    print("| measure | " + " | ".join(f"{r['spans_target']:,} spans" for r in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for k in keys:
        vals = [r.get(k) for r in sizes]
        print(f"| {k} | " + " | ".join(f"{v:,.3f}" if isinstance(v, float) else
                                       ("-" if v is None else f"{v:,}") for v in vals) + " |")
    for extra in ("similarity", "report"):
        if extra in results:
            print(f"{extra}: {results[extra]}")
    print(f"load average before / after: {results['load']} / {results['load_after']}")


if __name__ == "__main__":
    raise SystemExit(main())
