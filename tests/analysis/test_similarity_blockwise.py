"""Blockwise group similarity: the same numbers as the full matrices (and by hand), with
memory bounded by the block size."""

from __future__ import annotations

import random
import statistics

import numpy as np
import pandas as pd
import pytest

from maestro.analysis import callgraph
from maestro.analysis.callgraph import jaccard, lcs_similarity, pairwise_matrices, similarity_between, similarity_within


@pytest.fixture(autouse=True)
def _fresh_memo(monkeypatch):
    # each test computes its groups' own pairs itself (the memo would answer from an earlier test)
    monkeypatch.setattr(callgraph, "_TRIANGLES", {})


def _data(n: int, seed: int = 3):
    rng = random.Random(seed)
    agents = ["a", "b", "c", "d"]
    runs, edges = [], []
    for i in range(n):
        runs.append({"run_id": f"r{i}", "instance": ["x", "y"][i % 2], "model": ["m1", "m2", "m3"][i % 3],
                     "tools_enabled": bool(i % 4 < 2)})
        cur = "__start__"
        for k in range(rng.randint(0, 9)):  # some runs have no edge at all
            nxt = rng.choice(agents)
            edges.append({"run_id": f"r{i}", "message_source": cur, "message_target": nxt, "order": k,
                          "start_time_ns": k})
            cur = nxt
    return pd.DataFrame(runs), pd.DataFrame(edges)


def _reference_within(runs, edges, by):
    """Today's numbers: the full matrices of each group, upper triangle, numpy mean/median."""
    seqs = callgraph.edge_sequences(edges, list(runs.run_id))
    out = []
    for _, g in runs.groupby(list(by), sort=True, dropna=False):
        group = [seqs[r] for r in g.run_id]
        n = len(group)
        if n < 2:
            out.append((n, 0.0, 0.0, 0.0, 0.0))
            continue
        jac, lcs = pairwise_matrices(group)
        iu = np.triu_indices(n, k=1)
        out.append((n, jac[iu].mean(), np.median(jac[iu]), lcs[iu].mean(), np.median(lcs[iu])))
    return out


@pytest.mark.parametrize("block", [1, 7, 10_000_000], ids=["one-pair-row", "small-blocks", "one-block"])
def test_within_matches_the_full_matrices(monkeypatch, block):
    monkeypatch.setattr(callgraph, "BLOCK_CELLS", block)
    runs, edges = _data(61)
    by = ("instance", "model", "tools_enabled")
    got = similarity_within(runs, edges, by)
    want = _reference_within(runs, edges, by)
    assert len(got) == len(want) == 12
    for row, (n, jm, jmed, lm, lmed) in zip(got.itertuples(), want):
        assert row.n_runs == n and row.n_pairs == n * (n - 1) // 2
        assert row.jaccard_median == jmed and row.lcs_median == lmed  # exact
        assert row.jaccard_mean == pytest.approx(jm, rel=1e-12) and row.lcs_mean == pytest.approx(lm, rel=1e-12)


@pytest.mark.parametrize("block", [3, 10_000_000])
def test_between_matches_pair_by_pair(monkeypatch, block):
    monkeypatch.setattr(callgraph, "BLOCK_CELLS", block)
    runs, edges = _data(40)
    seqs = callgraph.edge_sequences(edges, list(runs.run_id))
    got = similarity_between(runs, edges, by="model", panel="instance")
    for row in got.itertuples():
        panel = runs[runs.instance == row.instance]
        a = [seqs[r] for r in panel[panel.model == row.group_a].run_id]
        b = [seqs[r] for r in panel[panel.model == row.group_b].run_id]
        if row.group_a == row.group_b:
            pairs = [(a[i], a[j]) for i in range(len(a)) for j in range(i + 1, len(a))]
        else:
            pairs = [(x, y) for x in a for y in b]
        jac = [jaccard(x, y) for x, y in pairs]
        lcs = [lcs_similarity(x, y) for x, y in pairs]
        assert row.n_pairs == len(pairs)
        assert row.jaccard_median == statistics.median(jac) and row.lcs_median == statistics.median(lcs)
        assert row.jaccard_mean == pytest.approx(statistics.fmean(jac), rel=1e-12)
        assert row.lcs_mean == pytest.approx(statistics.fmean(lcs), rel=1e-12)


def test_by_hand():
    """Three runs: [ab, bc], [ab], [] -> pairs (J, LCS): (1/2, 1/2), (0, 0), (0, 0)."""
    runs = pd.DataFrame({"run_id": ["r1", "r2", "r3"], "g": ["x"] * 3})
    edges = pd.DataFrame({"run_id": ["r1", "r1", "r2"], "message_source": ["a", "b", "a"],
                          "message_target": ["b", "c", "b"], "order": [0, 1, 0], "start_time_ns": [0, 1, 0]})
    row = similarity_within(runs, edges, "g").iloc[0]
    assert row.n_pairs == 3 and row.jaccard_mean == pytest.approx(1 / 6) and row.jaccard_median == 0.0
    assert row.lcs_mean == pytest.approx(1 / 6) and row.lcs_median == 0.0


def test_memory_is_bounded_by_the_block(monkeypatch):
    """No block holds more than BLOCK_CELLS pairs, however many runs there are."""
    seen = []
    real = callgraph._blocks

    def spy(a, b, width, workers):
        seen.append(a.n * b.n)
        return real(a, b, width, workers)

    monkeypatch.setattr(callgraph, "_blocks", spy)
    monkeypatch.setattr(callgraph, "BLOCK_CELLS", 500)
    runs, edges = _data(120)
    similarity_within(runs, edges, "instance")
    assert seen and max(seen) <= 500


def test_a_group_asked_twice_is_computed_once(monkeypatch):
    calls = []
    real = callgraph._pair_stats_blocks
    monkeypatch.setattr(callgraph, "_pair_stats_blocks", lambda *a: calls.append(a[1] is None) or real(*a))
    runs, edges = _data(30)
    within = similarity_within(runs, edges, ("instance", "model"))
    between = similarity_between(runs, edges, by="model", panel="instance")
    assert calls.count(True) == 6 and calls.count(False) == 6  # 6 groups once each; 2 x 3 cross pairs
    diag = between[between.group_a == between.group_b].set_index(["instance", "group_a"])
    for row in within.itertuples():
        assert diag.loc[(row.instance, row.model), "lcs_median"] == row.lcs_median
