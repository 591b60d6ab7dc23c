"""All-pairs call-graph similarity: maestro's vectorised Jaccard + native LCS vs pure Python.

Data: ``--runs`` seeded random edge sequences of ``--length`` edges each, drawn from a
realistic small alphabet (``--agents`` agents plus ``__start__``/``__end__``; each run walks
agent to agent, so consecutive edges chain like real hand-overs).

* maestro: ``maestro.analysis.callgraph.pairwise_matrices`` -> the full n x n Jaccard and
  LCS matrices (every entry, both triangles), timed ``--repeats`` times (median reported).
* reference: straightforward pure Python over the n(n-1)/2 unordered pairs: Jaccard with
  Python sets (run in full), LCS with the textbook O(|a||b|) dynamic programme. The LCS
  reference is run on ``--sample`` random pairs and its time extrapolated to all pairs
  (the full reference would take over an hour); the sampled values are also checked
  against maestro's matrix entries.

    python benchmarks/similarity.py [--runs 1000] [--length 200] [--json benchmarks/out/similarity.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

import numpy as np

from maestro.analysis.callgraph import pairwise_matrices

ROOT = Path(__file__).resolve().parents[1]


def make_sequences(n: int, length: int, agents: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(seed)
    names = [f"agent{i}" for i in range(agents)]
    seqs = []
    for _ in range(n):
        cur, seq = "__start__", []
        # each run prefers a few hand-overs (as real MAS do); the walk keeps edges chained
        favourite = {a: rng.sample(names, k=min(3, agents)) for a in ["__start__", *names]}
        while len(seq) < length - 1:
            nxt = rng.choice(favourite[cur]) if rng.random() < 0.8 else rng.choice(names)
            seq.append((cur, nxt))
            cur = nxt
        seq.append((cur, "__end__"))
        seqs.append(seq)
    return seqs


def ref_jaccard(a: set, b: set) -> float:
    u = len(a | b)
    return len(a & b) / u if u else 0.0


def ref_lcs(a: list, b: list) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else (prev[j + 1] if prev[j + 1] > cur[j] else cur[j]))
        prev = cur
    return prev[-1] / max(len(a), len(b))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--agents", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=400, help="LCS reference pairs (extrapolated)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "out" / "similarity.json"))
    args = ap.parse_args(argv)

    seqs = make_sequences(args.runs, args.length, args.agents, args.seed)
    n = len(seqs)
    pairs = n * (n - 1) // 2
    distinct = len({e for s in seqs for e in s})

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        jac, lcs = pairwise_matrices(seqs)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times)

    sets = [set(s) for s in seqs]
    t0 = time.perf_counter()
    ref_j = [ref_jaccard(sets[i], sets[j]) for i in range(n) for j in range(i + 1, n)]
    ref_jac_s = time.perf_counter() - t0
    iu = np.triu_indices(n, k=1)
    jac_ok = bool(np.allclose(jac[iu], np.asarray(ref_j)))

    rng = random.Random(args.seed + 1)
    sample = [tuple(sorted(rng.sample(range(n), 2))) for _ in range(args.sample)]
    t0 = time.perf_counter()
    ref_l = [ref_lcs(seqs[i], seqs[j]) for i, j in sample]
    ref_lcs_sample_s = time.perf_counter() - t0
    lcs_ok = bool(np.allclose([lcs[i, j] for i, j in sample], ref_l))
    ref_lcs_s = ref_lcs_sample_s / len(sample) * pairs
    reference = ref_jac_s + ref_lcs_s

    result = {
        "benchmark": "similarity",
        "runs": n, "edges_per_run": args.length, "agents": args.agents, "distinct_edges": distinct,
        "unordered_pairs": pairs, "matrix_entries": n * n,
        "maestro_s_median": round(ours, 3), "maestro_s_all": [round(t, 3) for t in times],
        "reference_jaccard_s_full": round(ref_jac_s, 3),
        "reference_lcs_sample_pairs": len(sample), "reference_lcs_sample_s": round(ref_lcs_sample_s, 3),
        "reference_lcs_s_extrapolated": round(ref_lcs_s, 1),
        "reference_total_s_extrapolated": round(reference, 1),
        "speedup": round(reference / ours, 1),
        "jaccard_matches_reference": jac_ok, "lcs_matches_reference_on_sample": lcs_ok,
        "mean_jaccard": round(float(jac[iu].mean()), 4), "mean_lcs": round(float(lcs[iu].mean()), 4),
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "note": "reference LCS extrapolated from the sampled pairs; maestro computes the full n x n matrices",
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if not (jac_ok and lcs_ok):
        raise SystemExit("maestro's matrices differ from the reference")
    return result


if __name__ == "__main__":
    main()
