"""Call graphs and the section 4.3 similarity metrics: hand-computed cases, every empty-case
convention, and group statistics against a brute-force pure-Python reference."""

from __future__ import annotations

import itertools
import random
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maestro.analysis import edges_df, runs_df, spans_df
from maestro.analysis.callgraph import (
    call_graph,
    cross_matrices,
    edge_sequence,
    edge_sequences,
    edge_set,
    jaccard,
    lcs_similarity,
    pairwise_matrices,
    similarity_between,
    similarity_within,
)

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert

A, B, C, D = ("s", "a"), ("a", "b"), ("b", "c"), ("c", "e")


@pytest.mark.parametrize("a, b, expected", [
    pytest.param({A, B}, {B, C}, 1 / 3, id="one-of-three"),
    pytest.param([A, A, B], [B, A], 1.0, id="sets-ignore-frequency-and-order"),
    pytest.param([], [], 0.0, id="empty-union-is-0"),
    pytest.param([A], [], 0.0, id="one-empty"),
    pytest.param({A, B, C, D}, {A}, 0.25, id="subset"),
])
def test_jaccard_by_hand(a, b, expected):
    assert jaccard(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("a, b, expected", [
    # classic example: LCS("ABCBDAB", "BDCABA") has length 4; normalised by the longer (7)
    pytest.param(list("ABCBDAB"), list("BDCABA"), 4 / 7, id="textbook"),
    pytest.param([A, B, C], [A, B, C], 1.0, id="identical"),
    pytest.param([A, B, C], [C, B, A], 1 / 3, id="reversed"),
    pytest.param([A, B], [A, C, B, D], 2 / 4, id="max-length-normalisation"),
    pytest.param([], [], 1.0, id="two-empty-is-1"),
    pytest.param([], [A], 0.0, id="one-empty-is-0"),
    pytest.param([A], [B], 0.0, id="disjoint"),
])
def test_lcs_similarity_by_hand(a, b, expected):
    assert lcs_similarity(a, b) == pytest.approx(expected)


def test_pairwise_matrices_match_scalar_functions_incl_empty():
    seqs = [[A, B, C], [], [C, B, A, A], [], [D]]
    jac, lcs = pairwise_matrices(seqs, workers=1)
    for i, j in itertools.product(range(len(seqs)), repeat=2):
        assert jac[i, j] == pytest.approx(jaccard(seqs[i], seqs[j]))
        assert lcs[i, j] == pytest.approx(lcs_similarity(seqs[i], seqs[j]))
    assert jac[1, 3] == 0.0 and lcs[1, 3] == 1.0 and lcs[0, 1] == 0.0
    assert list(np.diag(jac)) == [1, 0, 1, 0, 1] and (np.diag(lcs) == 1).all()
    cj, cl = cross_matrices(seqs[:2], seqs[2:], workers=1)
    assert cj.shape == (2, 3) and cl[1, 1] == 1.0 and cj[0, 0] == pytest.approx(jaccard(seqs[0], seqs[2]))
    assert edge_set([A, A, B]) == frozenset({A, B})


def _lcs_len_ref(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _lcs_ref(a, b):
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return _lcs_len_ref(a, b) / max(len(a), len(b))


def _jac_ref(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def _random_study(seed=3, n=40):
    rng = random.Random(seed)
    agents = ["__start__", "plan", "act", "check", "__end__"]
    pairs = [(x, y) for x in agents for y in agents if x != y][:9]
    runs, edges = [], []
    for i in range(n):
        run = {"run_id": f"r{i}", "instance": rng.choice(["crag", "lats"]), "model": rng.choice(["m1", "m2", "m3"]),
               "tools_enabled": rng.random() < 0.5}
        runs.append(run)
        length = rng.choice([0, 1, 3, 6, 10])
        for k in range(length):
            s, t = rng.choice(pairs)
            edges.append({"run_id": run["run_id"], "order": k, "message_source": s, "message_target": t})
    return pd.DataFrame(runs), pd.DataFrame(edges, columns=["run_id", "order", "message_source", "message_target"])


def test_similarity_within_matches_brute_force():
    runs, edges = _random_study()
    seqs = edge_sequences(edges, list(runs.run_id))
    got = similarity_within(runs, edges, workers=1).set_index(["instance", "model", "tools_enabled"])
    assert got.n_runs.sum() == len(runs)
    for key, g in runs.groupby(["instance", "model", "tools_enabled"]):
        s = [seqs[r] for r in g.run_id]
        pairs = list(itertools.combinations(s, 2))
        row = got.loc[key]
        if len(s) < 2:
            assert row.jaccard_mean == row.lcs_mean == 0.0 and row.n_pairs == 0
            continue
        assert row.jaccard_mean == pytest.approx(statistics.mean(_jac_ref(a, b) for a, b in pairs))
        assert row.lcs_mean == pytest.approx(statistics.mean(_lcs_ref(a, b) for a, b in pairs))
        assert row.lcs_median == pytest.approx(statistics.median(_lcs_ref(a, b) for a, b in pairs))
        assert row.n_pairs == len(pairs)


def test_two_studies_where_only_one_has_hand_overs():
    # runs of two studies but message records from one: the runs must still find their
    # sequences (keys (study_id, run_id) on both sides), not silently get empty ones
    runs = pd.DataFrame({"study_id": ["A", "A", "B"], "run_id": ["r0", "r1", "r0"], "instance": "crag",
                         "model": "m", "tools_enabled": True})
    edges = pd.DataFrame({"study_id": "A", "run_id": ["r0", "r0", "r1"], "order": [0, 1, 0],
                          "message_source": ["a", "b", "a"], "message_target": ["b", "c", "b"]})
    got = similarity_within(runs, edges, by="study_id", workers=1).set_index("study_id")
    # study A: [a->b, b->c] vs [a->b]: Jaccard 1/2, LCS 1/2
    assert got.loc["A", "jaccard_mean"] == pytest.approx(0.5)
    assert got.loc["A", "lcs_mean"] == pytest.approx(0.5)


def test_similarity_between_matches_brute_force():
    runs, edges = _random_study(seed=5, n=30)
    seqs = edge_sequences(edges, list(runs.run_id))
    got = similarity_between(runs, edges, by="model", panel="instance", workers=1)
    for _, row in got.iterrows():
        p = runs[runs.instance == row.instance]
        sa = [seqs[r] for r in p[p.model == row.group_a].run_id]
        sb = [seqs[r] for r in p[p.model == row.group_b].run_id]
        pairs = list(itertools.combinations(sa, 2)) if row.group_a == row.group_b else list(itertools.product(sa, sb))
        if not pairs:
            assert row.lcs_median == 0.0
            continue
        assert row.lcs_median == pytest.approx(statistics.median(_lcs_ref(a, b) for a, b in pairs))
        assert row.jaccard_median == pytest.approx(statistics.median(_jac_ref(a, b) for a, b in pairs))
    # symmetric, and a full grid per panel
    m = got[got.instance == "crag"].pivot(index="group_a", columns="group_b", values="lcs_median")
    assert m.shape[0] == m.shape[1] and np.allclose(m.values, m.values.T)


def test_group_of_one_is_zero_and_identical_group_is_one():
    runs = pd.DataFrame({"run_id": ["x", "y", "z"], "instance": ["i", "i", "j"], "model": ["m"] * 3,
                         "tools_enabled": [True] * 3})
    edges = pd.DataFrame({"run_id": ["x", "x", "y", "y", "z"], "order": [0, 1, 0, 1, 0],
                          "message_source": ["s", "a", "s", "a", "s"], "message_target": ["a", "e", "a", "e", "a"]})
    w = similarity_within(runs, edges).set_index("instance")
    assert w.loc["i", "lcs_mean"] == 1.0 and w.loc["i", "jaccard_mean"] == 1.0 and w.loc["i", "n_pairs"] == 1
    assert w.loc["j", "lcs_mean"] == 0.0 and w.loc["j", "jaccard_median"] == 0.0 and w.loc["j", "n_runs"] == 1


def test_call_graph_and_sequence_from_spans(tmp_path):
    r = run_row("cg", "r1")
    b = SpanBuilder(r)
    root = b.add("run")
    b.message("__start__", "plan", root, nbytes=4)
    p = b.add("agent", root, agent_name="plan")
    b.add("llm", p, agent_name="plan", request_model="m", input_tokens=10, output_tokens=5, input_bytes=100,
          output_bytes=50)
    b.add("llm", p, agent_name="plan", request_model="m", input_tokens=1, output_tokens=1, input_bytes=1,
          output_bytes=1)
    b.message("plan", "act", root, nbytes=30)
    a = b.add("agent", root, agent_name="act")
    b.add("tool", a, agent_name="act", tool_name="search", input_bytes=3, output_bytes=7)
    b.message("act", "plan", root, nbytes=6)
    b.message("plan", "act", root, nbytes=10)
    b.message("act", "__end__", root, nbytes=2)
    study = write_study(tmp_path / "cg", [r], {"r1": b.rows})
    spans = spans_df(study, columns=["run_id", "span_type", "agent_name", "start_time_ns", "message_source",
                                     "message_target", "input_bytes", "output_bytes", "total_bytes", "tool_name",
                                     "request_model", "response_model", "input_tokens", "output_tokens"])
    g = call_graph(spans)
    kinds = dict(g.nodes(data="kind"))
    assert kinds == {"__start__": "io", "plan": "agent", "act": "agent", "__end__": "io", "tool:search": "tool",
                     "model:m": "model"}
    assert g.edges["plan", "act"] == {"count": 2, "bytes": 40, "tokens": 0}
    assert g.edges["plan", "model:m"] == {"count": 2, "bytes": 152, "tokens": 17}
    assert g.edges["act", "tool:search"]["bytes"] == 10
    expected = [("__start__", "plan"), ("plan", "act"), ("act", "plan"), ("plan", "act"), ("act", "__end__")]
    assert edge_sequence(spans) == expected
    assert edge_sequence(edges_df(study)) == expected
    # the runs frame counts distinct edges the same way the graph does
    assert runs_df(study).n_edges.iloc[0] == len(edge_set(expected)) == 4
