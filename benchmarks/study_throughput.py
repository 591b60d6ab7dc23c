"""Study throughput: runs/second of the demo study, and what process isolation costs.

Runs studies/demo.toml (CRAG and Plan-and-Execute on LangGraph, Travel Planning on AutoGen,
the Marketing agency on ADK, x 2 simulated profiles x tools on/off x 3 tasks x 3 repeats,
126 runs, default time factor) into a temporary folder with the default executor (each run
forked from a forkserver that preloaded the frameworks), then the same study with a fresh
interpreter per run (multiprocessing "spawn": every run imports its framework itself), and
prints both, side by side, from one invocation.

    python benchmarks/study_throughput.py [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from maestro.runner import load_study_config, run_study

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    out = tempfile.mkdtemp(prefix="maestro-throughput-")
    try:
        return _measure(out, args)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _measure(out: str, args: argparse.Namespace) -> list[dict]:
    rows = []
    for method in ("forkserver", "spawn"):
        cfg = load_study_config(ROOT / "studies" / "demo.toml", out=out, workers=args.workers, repeats=args.repeats,
                                id=f"demo-{method}")
        r = run_study(cfg, progress=False, start_method=method)
        runs = r.executed
        rows.append({"executor": method, "runs": runs, "wall_s": r.wall_s, "runs_per_s": r.runs_per_s,
                     "counts": r.counts, "median_run_s": sorted(c["median_s"] for c in r.summary)[len(r.summary) // 2]})
        print(f"{method:<11} {runs} runs in {r.wall_s:6.1f} s = {r.runs_per_s:5.2f} runs/s  {r.counts}")
    print(f"forkserver / spawn throughput: {rows[0]['runs_per_s'] / rows[1]['runs_per_s']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
