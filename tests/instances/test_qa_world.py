"""qa_world: deterministic generation, question integrity, task loading and sampling."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from maestro.instances.qa_world import (
    HOP_KINDS,
    build_world,
    load_tasks,
    lookup_question,
    read_jsonl_tasks,
    stratified_sample,
)
from maestro.instances.qa_world.scoring import contains_span
from maestro.instances.qa_world.tasks import evidence_location
from maestro.instances.qa_world.world import _build


def test_same_seed_same_world_and_other_seed_differs():
    a, b = _build(0, 20, 0.8), _build(0, 20, 0.8)
    assert [q.text for q in a.questions] == [q.text for q in b.questions]
    assert [p.text for p in a.passages] == [p.text for p in b.passages]
    c = _build(1, 20, 0.8)
    assert [q.text for q in a.questions] != [q.text for q in c.questions]


def test_build_is_fast_and_cached():
    t0 = time.perf_counter()
    _build(7, 50, 0.8)
    assert time.perf_counter() - t0 < 0.5
    assert build_world(0) is build_world(0)


def test_default_world_shape():
    w = build_world()
    assert Counter(q.hops for q in w.questions) == {1: 50, 2: 50, 3: 50}
    ids = [q.qid for q in w.questions]
    assert len(set(ids)) == len(ids)
    assert ids[0] == "qa-h1-0000" and ids[-1] == "qa-h3-0049"
    assert len({q.text for q in w.questions}) == len(w.questions)
    names = [e.name.lower() for e in w.entities.values()]
    assert len(set(names)) == len(names)
    # Pools are disjoint passage sets.
    assert {p.pid for p in w.pool("local")}.isdisjoint({p.pid for p in w.pool("web")})


def test_supporting_passages_state_the_facts():
    w = build_world()
    for q in w.questions:
        assert len(q.path) == q.hops + 1 == len(q.facts) + 1 == len(q.support_ids) + 1
        assert q.answer == w.name(q.path[-1])
        assert not contains_span(q.text, q.answer), q.qid  # the answer is never given away
        for fact, pid, pool, web_pid in zip(q.facts, q.support_ids, q.support_pools, q.web_support_ids):
            for p in [w.passage(pid)] + ([w.passage(web_pid)] if web_pid is not None else []):
                assert fact in p.facts
                assert contains_span(p.text, w.name(fact.subject)) and contains_span(p.text, w.name(fact.object))
            assert w.passage(pid).pool == pool
            # a hop without a web copy is a private fact: the local corpus states it
            assert (web_pid is None and pool == "local") or w.passage(web_pid).pool == "web"


def test_private_facts_make_questions_only_the_local_corpus_answers():
    w = build_world()
    web_facts = {f for p in w.pool("web") for f in p.facts}
    local_facts = {f for p in w.pool("local") for f in p.facts}
    assert web_facts | local_facts == set(w.facts)  # every fact is stated somewhere
    private = local_facts - web_facts
    # about private_share (0.5) of the local facts, drawn by their own generator
    assert 0.4 <= len(private) / len(local_facts) <= 0.6
    local_only = [q for q in w.questions if all(f in private for f in q.facts)]
    assert {q.hops for q in local_only} == {1, 2, 3}
    assert all(evidence_location(q) == "local" for q in local_only)
    assert all(evidence_location(q) == "web" for q in w.questions if not set(q.facts) & local_facts)


def test_every_hop_reachable_and_local_corpus_incomplete():
    w = build_world()
    local_ids = {p.pid for p in w.pool("local")}
    for q in w.questions:
        for i, (kind, fact) in enumerate(zip(q.hop_kinds, q.facts)):
            hk = HOP_KINDS[kind]
            frm, to = (fact.subject, fact.object) if hk.forward else (fact.object, fact.subject)
            assert (frm, to) == (q.path[i], q.path[i + 1])
            assert w.fact_passages(fact), f"{q.qid} hop {i} has no passage"
        assert (q.support_pools.count("local") == q.hops) == q.local_complete
        assert all((pid in local_ids) == (pool == "local") for pid, pool in zip(q.support_ids, q.support_pools))
    incomplete = [q for q in w.questions if not q.local_complete]
    # Web search must matter for a real share of the questions, at every hop count.
    assert 0.15 <= len(incomplete) / len(w.questions) <= 0.6
    assert {q.hops for q in incomplete} == {1, 2, 3}
    assert sum(p.kind == "distractor" for p in w.pool("local")) > 100


def test_bundled_tasks_and_meta():
    tasks = load_tasks()
    assert len(tasks) == 150
    t = tasks[0]
    assert t.task_id == "qa-h1-0000" and t.gold and t.meta["hops"] == 1
    json.dumps(t.meta)  # meta goes into run records as JSON


@pytest.mark.parametrize(
    "n, expected",
    [
        pytest.param(3, {(1, "local"): 1, (2, "local"): 1, (3, "local"): 1}, id="n3-one-per-hop"),
        # the bundled world's eight strata (no 3-hop question has only web evidence), two each
        pytest.param(16, {(h, e): 2 for h, e in [(1, "local"), (2, "local"), (3, "local"), (1, "web"), (2, "web"),
                                                  (1, "both"), (2, "both"), (3, "both")]}, id="n16-two-per-stratum"),
    ],
)
def test_sample_is_balanced_over_hops_and_evidence_location(n, expected):
    tasks = load_tasks(n=n, seed=5)
    assert len(tasks) == n
    assert Counter((t.meta["hops"], t.meta["evidence"]) for t in tasks) == expected
    # the evidence label agrees with the pools that hold the hops' passages (a local-only
    # question's hops are all local; a web-only question's all on the web)
    for t in tasks:
        pools = set(t.meta["support_pools"])
        assert (t.meta["evidence"] == "web") == (pools == {"web"})
        assert t.meta["evidence"] != "local" or pools == {"local"}


def test_a_small_stratum_gives_all_it_has_and_the_rest_stay_balanced():
    tasks = load_tasks(n=30, seed=5)
    counts = Counter((t.meta["hops"], t.meta["evidence"]) for t in tasks)
    assert counts[(2, "web")] == 2  # the whole stratum
    rest = [c for k, c in counts.items() if k != (2, "web")]
    assert max(rest) - min(rest) <= 1


def test_sample_is_deterministic_nested_and_seeded():
    a, b = load_tasks(n=10, seed=1), load_tasks(n=10, seed=1)
    assert [t.task_id for t in a] == [t.task_id for t in b]
    assert {t.task_id for t in a} < {t.task_id for t in load_tasks(n=20, seed=1)}
    assert {t.task_id for t in a} != {t.task_id for t in load_tasks(n=10, seed=2)}
    assert load_tasks(n=1000) == load_tasks()
    assert stratified_sample(load_tasks(), 0) == []
    with pytest.raises(ValueError):
        stratified_sample(load_tasks(), -1)


def test_user_jsonl_loads_and_registers(tmp_path):
    p = tmp_path / "mine.jsonl"
    rows = [
        {"id": "u1", "question": "Which harbour town brews Zephquill ale?", "answer": "Orvanta", "hops": 1,
         "context": "Zephquill ale is brewed in the harbour town of Orvanta."},
        {"id": "u2", "question": "Who painted the Glimmerdown mural?", "answer": ["Ysolde Kern", "Kern"]},
        {"id": "u3", "question": "An open question?", "answer": None, "hops": 2},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    tasks = load_tasks(str(p))
    assert [t.task_id for t in tasks] == ["u1", "u2", "u3"]
    assert tasks[1].gold == "Ysolde Kern" and tasks[1].meta["aliases"] == ["Kern"]
    assert tasks[2].gold is None and tasks[2].meta["hops"] == 2
    assert lookup_question("which harbour town brews zephquill ale").gold == "Orvanta"
    assert lookup_question(rows[1]["question"]).golds() == ("Ysolde Kern", "Kern")
    from maestro.instances.qa_world import retrieve

    assert retrieve("Zephquill ale brewed", k=1)[0].pid == "U-u1-0"
    assert [t.task_id for t in load_tasks(str(p), n=2)] != []


@pytest.mark.parametrize(
    "line, message",
    [
        pytest.param('{"id": "a", "question": "q?"', "invalid JSON", id="bad-json"),
        pytest.param('["a", "q", "x"]', "expected a JSON object", id="not-object"),
        pytest.param('{"id": "a", "answer": "x"}', "missing required field 'question'", id="no-question"),
        pytest.param('{"id": 3, "question": "q?", "answer": "x"}', "'id' must be a non-empty string", id="int-id"),
        pytest.param('{"id": "a", "question": "q?", "answer": 5}', "'answer' must be", id="int-answer"),
        pytest.param('{"id": "a", "question": "q?", "answer": "x", "hops": "two"}', "'hops'", id="bad-hops"),
        pytest.param('{"id": "a", "question": "q?", "answer": "x", "context": 4}', "'context'", id="bad-context"),
        pytest.param('{"id": "ok", "question": "q?", "answer": "x"}', "duplicate id 'ok' (first on line 1)", id="dup"),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path, line, message):
    p = tmp_path / "broken.jsonl"
    p.write_text('{"id": "ok", "question": "fine?", "answer": "yes"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as e:
        read_jsonl_tasks(p)
    assert f"{p}:3:" in str(e.value)
    assert message in str(e.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read task file"):
        load_tasks(str(tmp_path / "nope.jsonl"))
