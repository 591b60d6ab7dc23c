"""qa_world retrieval: BM25 quality on the bundled questions and per-query speed."""

from __future__ import annotations

import time

import pytest

from maestro.instances.qa_world import BM25Index, Passage, build_world, index_for, retrieve, tokenize, web_search


def _hit_rate(pool: str, k: int) -> float:
    w = build_world()
    hits = total = 0
    for q in w.questions:
        if q.hops != 1:
            continue
        if pool == "local":
            if q.support_pools[0] != "local":
                continue
            got = [p.pid for p in retrieve(q.text, k=k)]
            target = q.support_ids[0]
        else:
            if q.web_support_ids[0] is None:
                continue  # a private fact: not on the web
            got = [p.pid for p in web_search(q.text, k=k)]
            target = q.web_support_ids[0]
        total += 1
        hits += target in got
    return hits / total


@pytest.mark.parametrize(
    "pool, k, floor",
    [
        pytest.param("local", 4, 0.8, id="local-top4"),
        pytest.param("local", 1, 0.6, id="local-top1"),
        pytest.param("web", 3, 0.8, id="web-top3"),
    ],
)
def test_one_hop_support_retrieved(pool, k, floor):
    assert _hit_rate(pool, k) >= floor


def test_pools_do_not_leak():
    w = build_world()
    q = next(q for q in w.questions if q.hops == 1 and q.support_pools[0] == "web")
    assert all(p.pool == "local" for p in retrieve(q.text, k=10))
    assert q.support_ids[0] not in [p.pid for p in retrieve(q.text, k=10)]
    assert all(p.pool == "web" for p in web_search(q.text, k=10))


def test_queries_are_fast():
    w = build_world()
    index_for(None, "local"), index_for(None, "web")  # built once per process
    texts = [q.text for q in w.questions]
    t0 = time.perf_counter()
    for t in texts:
        retrieve(t)
        web_search(t)
    per_query = (time.perf_counter() - t0) / (2 * len(texts))
    assert per_query < 0.002


def test_bm25_hand_example():
    docs = [Passage(f"d{i}", "local", "", t, "fact") for i, t in enumerate(
        ["the red fox jumps", "a blue whale swims", "red red apples fall", "foxes and whales"])]
    idx = BM25Index(docs)
    assert [p.pid for p, _ in idx.search("red fox", 2)] == ["d0", "d2"]
    assert idx.search("zebra", 3) == []
    assert idx.search("red", 0) == []
    assert tokenize("The Founders founded it") == ["found", "found"]
