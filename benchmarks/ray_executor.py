"""The Ray executor against the local one: the same 500-run study on both, same outcomes.

Runs one study (a two-agent LangGraph system defined here, a drafter and an editor, on
``sim/strong``: 5 samples x 100 repeats = 500 small runs of 2 LLM calls each, simulated
service at time factor 0) twice in one invocation: with the local
executor (2 run processes forked from this machine's forkserver) and on a Ray cluster of
2 nodes started on loopback (``ray start`` head + one worker node, 1 CPU each, so 2 runs at
once as locally). The study grows in 4 steps, the executors taking turns in ABBA order.
Checks that both recorded the same runs (ids, statuses, judgements, span counts per run,
edge sequences) and prints both throughputs and their ratio. Wall times include each
step's executor start-up (forkserver preload; Ray connection, node agents and the workers'
forkservers), not the cluster's own start.

    python benchmarks/ray_executor.py [--repeats 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import maestro
from maestro.analysis.callgraph import edge_sequence
from maestro.runner.executors import loopback_ray_cluster


def build_pair(ctx: maestro.RunContext):
    """A drafter answers, an editor tightens the draft."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI
    from langgraph.graph import END, START, MessagesState, StateGraph

    llm = ChatOpenAI(model=ctx.endpoint.model, base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key,
                     max_retries=0)

    def agent(role):
        def node(state):
            return {"messages": [llm.invoke([SystemMessage(f"You are the {role}."),
                                             HumanMessage(state["messages"][-1].content)])]}
        return node

    g = StateGraph(MessagesState)
    g.add_node("drafter", agent("drafter"))
    g.add_node("editor", agent("editor"))
    g.add_edge(START, "drafter")
    g.add_edge("drafter", "editor")
    g.add_edge("editor", END)
    return g.compile()


PAIR = maestro.MAS(name="pair", framework="langgraph", build=build_pair, scorer=maestro.scorers.includes(),
                   dataset=[maestro.Sample(str(i), f"What is {i} + {i}?", target=str(2 * i)) for i in range(5)])


def _outcomes(path: Path) -> dict[str, tuple]:
    """Run id -> (status, judgement, span count, edge sequence)."""
    study = maestro.load_study(path)
    spans = study.spans
    counts = spans.groupby("run_id").size().to_dict()
    out = {}
    for r in study.runs.itertuples():
        edges = tuple(edge_sequence(spans[spans.run_id == r.run_id]))
        out[r.run_id] = (r.status, r.judgement, counts.get(r.run_id, 0), edges)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maestro-ray-bench-") as out:
        return _compare(args, out)


def _compare(args, out: str):
    body = dict(instances=[PAIR], backends=["sim/strong"], tools=(False,), time_factor=0, timeout_s=120, out=out)
    # The study grows in 4 steps of repeats, the executors taking turns in ABBA order (local,
    # ray, ray, local, local, ray, ...), so a load that drifts over the invocation weighs on
    # both alike; each step pays its executor's start-up again.
    steps = [round(args.repeats * (i + 1) / 4) for i in range(4)]
    load_before = os.getloadavg()
    totals = {k: {"executor": k, "runs": 0, "wall_s": 0.0, "steps": []} for k in ("local", "ray")}
    with loopback_ray_cluster(nodes=2, cpus_per_node=1, object_store_mb=100) as address:
        for i, repeats in enumerate(steps):
            for kind in (("local", "ray") if i % 2 == 0 else ("ray", "local")):
                cfg = maestro.StudyConfig(study_id=f"bench-{kind}", executor=kind, workers=2, repeats=repeats,
                                          address=address if kind == "ray" else None, **body)
                t0 = time.perf_counter()
                r = maestro.run_study(cfg, progress=False)
                wall = time.perf_counter() - t0
                t = totals[kind]
                t["runs"] += r.executed
                t["wall_s"] += wall
                t["steps"].append({"runs": r.executed, "wall_s": wall, "load": os.getloadavg()[0]})
                t["counts"], t["path"] = {k: v for k, v in r.counts.items() if v}, str(r.path)
                print(f"step {i + 1} {kind:<6} {r.executed} runs in {wall:6.1f} s = {r.executed / wall:5.2f} runs/s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
    rows = [totals["local"], totals["ray"]]
    for t in rows:
        t["runs_per_s"] = t["runs"] / t["wall_s"]
        print(f"{t['executor']:<6} {t['runs']} runs in {t['wall_s']:6.1f} s = {t['runs_per_s']:5.2f} runs/s  "
              f"{t['counts']}")
    same = _outcomes(Path(rows[0]["path"])) == _outcomes(Path(rows[1]["path"]))
    ratio = rows[1]["runs_per_s"] / rows[0]["runs_per_s"]
    load_after = os.getloadavg()
    print(f"same outcomes (run ids, statuses, judgements, span counts, edge sequences): {same}")
    print(f"ray / local throughput: {ratio:.2f}x")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "same_outcomes": same, "ratio": ratio,
                                         "load_before": load_before, "load_after": load_after}, indent=2))
    if not same:
        raise SystemExit("the executors recorded different outcomes")
    return rows


if __name__ == "__main__":
    main()
