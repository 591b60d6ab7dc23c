"""Statistics against hand-computed values and brute-force references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from maestro.analysis.stats import (
    bootstrap_ci,
    flip_rate,
    paired_test,
    pass_at_k,
    pass_hat_k,
    pass_k_table,
    sign_flip_pvalue,
)


@pytest.mark.parametrize("n, c, k, expected", [
    pytest.param(5, 2, 2, 1 - 3 / 10, id="1-C(3,2)/C(5,2)"),
    pytest.param(4, 0, 2, 0.0, id="no-success"),
    pytest.param(3, 3, 2, 1.0, id="all-success"),
    pytest.param(10, 3, 1, 0.3, id="k1-is-c-over-n"),
    pytest.param(4, 1, 4, 1.0, id="k-equals-n"),
])
def test_pass_at_k_by_hand(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_k_match_combinatorial_definitions():
    for n in range(1, 9):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))
                assert pass_hat_k(n, c, k) == pytest.approx(math.comb(c, k) / math.comb(n, k))
    assert pass_hat_k(5, 3, 2) == pytest.approx(0.3) and pass_hat_k(5, 1, 2) == 0.0
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(2, 1, 3)


def _runs():
    # config X: t1 -> 1,1,0 ; t2 -> 1,0 ; t3 -> 1,1 ; t4 -> 0 (single repeat)
    rows = [("X", "t1", 0, 1.0), ("X", "t1", 1, 1.0), ("X", "t1", 2, 0.0), ("X", "t2", 0, 1.0), ("X", "t2", 1, 0.0),
            ("X", "t3", 0, 1.0), ("X", "t3", 1, 1.0), ("X", "t4", 0, 0.0),
            ("Y", "t1", 0, 0.0), ("Y", "t1", 1, 0.0), ("Y", "t2", 0, 1.0), ("Y", "t2", 1, np.nan)]
    return pd.DataFrame(rows, columns=["cfg", "task_id", "repeat", "correct"])


def test_flip_rate_by_hand():
    f = flip_rate(_runs(), by="cfg").set_index("cfg")
    assert f.loc["X", "n_tasks"] == 3  # t4 has one repeat
    assert f.loc["X", "flip_rate"] == pytest.approx((1 / 3 + 0.5 + 0) / 3)
    assert f.loc["X", "any_flip"] == pytest.approx(2 / 3)
    assert f.loc["Y", "n_tasks"] == 1 and f.loc["Y", "flip_rate"] == 0.0  # the NaN run is left out
    per = flip_rate(_runs(), by="cfg", per_task=True)
    assert per[(per.cfg == "X") & (per.task_id == "t2")].flip_rate.iloc[0] == 0.5


def test_pass_k_table_by_hand():
    t = pass_k_table(_runs(), k=(1, 2), by="cfg").set_index(["cfg", "k"])
    # X, k=1: tasks t1 (2/3), t2 (1/2), t3 (1), t4 (0) -> mean
    assert t.loc[("X", 1), "pass_at_k"] == pytest.approx((2 / 3 + 1 / 2 + 1 + 0) / 4)
    # X, k=2: t1 (n=3,c=2), t2 (2,1), t3 (2,2); t4 lacks 2 repeats
    assert t.loc[("X", 2), "n_tasks"] == 3
    assert t.loc[("X", 2), "pass_at_k"] == pytest.approx((1 + 1 + 1) / 3)
    assert t.loc[("X", 2), "pass_hat_k"] == pytest.approx((1 / 3 + 0 + 1) / 3)


def test_bootstrap_is_clustered_by_task():
    df = pd.DataFrame({"task_id": ["A"] * 4 + ["B"], "correct": [1.0, 1.0, 1.0, 1.0, 0.0]})
    res = bootstrap_ci(df, "correct", n=2000, seed=1)
    # resampling 2 tasks gives only AA (1.0), AB (0.8), BB (0.0); BB has probability 1/4
    assert res["estimate"] == pytest.approx(0.8) and res["n_clusters"] == 2 and res["n_obs"] == 5
    assert res["low"] == 0.0 and res["high"] == 1.0
    rows = bootstrap_ci(df, "correct", cluster=None, n=2000, seed=1)
    assert rows["low"] > 0.0  # resampling runs instead understates the uncertainty
    again = bootstrap_ci(df, "correct", n=2000, seed=1)
    assert again.equals(res)
    by = bootstrap_ci(_runs(), "correct", by="cfg", n=500)
    assert list(by.cfg) == ["X", "Y"] and by.set_index("cfg").loc["Y", "n_obs"] == 3


@pytest.mark.parametrize("diffs, expected", [
    pytest.param([1, 1, 1], 2 / 8, id="all-positive"),
    pytest.param([2, 1, 1], 2 / 8, id="weighted"),
    pytest.param([1, -1], 1.0, id="zero-mean"),
    pytest.param([3, 1, -1, 1], 8 / 16, id="four"),  # +-3 with the three 1s summing to >= +-1: 4 + 4
])
def test_sign_flip_exact_by_hand(diffs, expected):
    assert sign_flip_pvalue(np.array(diffs, float)) == pytest.approx(expected)


def test_sign_flip_sampled_close_to_exact():
    rng = np.random.default_rng(0)
    d = rng.normal(0.3, 1, size=14)
    exact = np.mean([abs(np.dot(s, d)) / 14 >= abs(d.mean()) - 1e-12
                     for s in itertools.product((1, -1), repeat=14)])
    assert sign_flip_pvalue(d, n=20000, seed=3) == pytest.approx(exact, abs=0.01)


def test_paired_test_by_hand():
    rows = []
    for task, rep, on, off in [("t1", 0, 1, 0), ("t1", 1, 1, 0), ("t2", 0, 1, 1), ("t3", 0, 0, 0), ("t4", 0, 1, 0)]:
        rows.append({"task_id": task, "repeat": rep, "tools_enabled": True, "correct": float(on)})
        rows.append({"task_id": task, "repeat": rep, "tools_enabled": False, "correct": float(off)})
    rows.append({"task_id": "t9", "repeat": 0, "tools_enabled": True, "correct": 1.0})  # unmatched
    res = paired_test(pd.DataFrame(rows), {"tools_enabled": True}, {"tools_enabled": False})
    assert res.n_pairs == 5 and res.mean_a == pytest.approx(0.8) and res.mean_b == pytest.approx(0.2)
    assert res.mean_diff == pytest.approx(0.6)
    # diffs 1,1,0,0,1: the sign vectors reaching |sum| >= 3 are the 2 x 4 that keep the three 1s aligned
    assert res.p_permutation == pytest.approx(8 / 32)
    assert res.ci_low <= 0.6 <= res.ci_high
    with pytest.raises(ValueError, match="sharing"):
        paired_test(pd.DataFrame(rows), {"tools_enabled": True}, {"tools_enabled": False}, match=("task_id",))
