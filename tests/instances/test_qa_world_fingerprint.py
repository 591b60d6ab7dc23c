"""qa_world: the default world's content is pinned, and its build phases draw independently.

Every built-in QA instance (CRAG, Plan-and-Execute, LATS) takes its tasks, gold answers and
passages from the default world, so a change to the generated world changes what every
study of them measures. The fingerprint below makes such a change loud.
"""

from __future__ import annotations

import random

import pytest

from maestro.instances.qa_world import world as W

EXPECTED = {
    "entities": "6dbfe58bc0a9ac697907d309596a02cb6d26e34ad82b35fab88278bf1b5cdea4",
    "facts": "964d71833e3e1eb50dbe90437395edbc5d88c9b58420847f994f569206efdea1",
    "passages": "2bd2e4c89d5a4fc0f37866df372f8e278882815240e0376c5c6a1d5ca644b082",
    "questions": "0798cccd61315c2a8121223d5b4773269322d34859ac3cff6440af14cb356c86",
    "world": "c46060a001d043ad4b0e52926519932814bb6198e73f2740291f16616b8a0cb4",
}
"""``build_world().fingerprint()`` of the default world (seed 0, 50 questions per hop,
local coverage 0.8, private share 0.5). Changed on purpose on 2026-11-30: private facts
(local corpus only) were added so the suite has questions web search cannot help with."""


def test_default_world_content_is_pinned():
    got = W.build_world(W.DEFAULT_SEED, W.DEFAULT_QUESTIONS_PER_HOP).fingerprint()
    changed = [part for part in EXPECTED if got.get(part) != EXPECTED[part]]
    assert not changed, (
        f"the generated qa_world changed (parts: {', '.join(changed)}). Its tasks, gold answers and "
        "passages are what CRAG, Plan-and-Execute and LATS are measured on, so studies before and after "
        "this change are not comparable. A refactor must not change it: each build phase has its own "
        "generator (world._rng), so look for a draw that moved between phases or a phase that now draws "
        "more or less. Only if the change is on purpose, update EXPECTED in "
        f"tests/instances/test_qa_world_fingerprint.py to {got!r} and say so in the change description.")


def test_fingerprint_covers_every_part_of_the_content():
    w = W._build(0, 5, 0.8)
    content = w.content()
    assert list(content) == ["entities", "facts", "passages", "questions"]
    assert [len(v) for v in content.values()] == [len(w.entities), len(w.facts), len(w.passages), len(w.questions)]
    assert content["questions"][0][:3] == [w.questions[0].qid, w.questions[0].text, w.questions[0].answer]
    assert w.fingerprint() == W._build(0, 5, 0.8).fingerprint()
    other = W._build(1, 5, 0.8).fingerprint()
    assert all(other[part] != value for part, value in w.fingerprint().items())


def _built_with_other_draws(monkeypatch, phase: str, *args) -> W.World:
    """The world built with one phase's generator seeded differently (as if that phase's
    code had changed) and every other phase as usual."""
    real = W._rng

    def rng(seed: int, name: str) -> random.Random:
        return random.Random(f"changed:{seed}:{name}") if name == phase else real(seed, name)

    monkeypatch.setattr(W, "_rng", rng)
    try:
        return W._build(*args)
    finally:
        monkeypatch.setattr(W, "_rng", real)


@pytest.mark.parametrize(
    "phase, unchanged",
    [
        pytest.param("passages:distractors", {"entities", "facts", "questions"}, id="distractors"),
        pytest.param("passages:wording", {"entities", "facts", "questions"}, id="wording"),
        # which facts are private: the web pool's ids, so the questions' web support, move
        pytest.param("passages:private", {"entities", "facts"}, id="private"),
        pytest.param("relations:flows_through", {"entities"}, id="flows_through"),
    ],
)
def test_a_phase_changes_only_what_depends_on_it(monkeypatch, phase, unchanged):
    base = W._build(0, 50, 0.8)
    other = _built_with_other_draws(monkeypatch, phase, 0, 50, 0.8)
    a, b = base.fingerprint(), other.fingerprint()
    assert {part for part in ("entities", "facts", "passages", "questions") if a[part] == b[part]} == unchanged
    if phase.startswith("passages:"):
        # the passages that phase does not write stay word for word
        kind = "fact" if phase == "passages:distractors" else "distractor"
        texts = sorted(p.text for p in base.passages if p.kind == kind)
        assert texts == sorted(p.text for p in other.passages if p.kind == kind)
    if phase == "relations:flows_through":
        # other relations keep their objects; only the river facts differ
        diff = {f.relation for f in set(base.facts) ^ set(other.facts)}
        assert diff == {"flows_through"}


def test_question_templates_draw_their_subjects_independently(monkeypatch):
    base = W._build(0, 50, 0.8)
    other = _built_with_other_draws(monkeypatch, "questions:born_in", 0, 50, 0.8)
    assert base.fingerprint()["passages"] == other.fingerprint()["passages"]

    def texts(w, hops):
        return [q.text for q in w.questions if q.hops == hops]

    assert texts(base, 1) != texts(other, 1)
    assert texts(base, 2) == texts(other, 2) and texts(base, 3) == texts(other, 3)
    # the other one-hop templates still try their subjects in the same order
    founded = [q.text for q in base.questions if q.template == "founded_by"]
    assert founded[:5] == [q.text for q in other.questions if q.template == "founded_by"][:5]


def test_private_share_only_removes_web_passages():
    none, half = W._build(0, 50, 0.8, 0.0), W._build(0, 50, 0.8, 0.5)

    def facts(w, pool):
        return {f for p in w.pool(pool) if p.kind == "fact" for f in p.facts}

    assert facts(half, "local") == facts(none, "local")
    assert facts(half, "web") < facts(none, "web") == set(none.facts)
    assert [(q.text, q.answer) for q in none.questions] == [(q.text, q.answer) for q in half.questions]


def test_local_coverage_only_adds_local_passages():
    # coverage has its own generator whose draws do not depend on the coverage: a higher
    # coverage keeps every local fact passage of a lower one, and nothing else changes
    low, high = W._build(0, 50, 0.5), W._build(0, 50, 0.8)

    def local_facts(w):
        return {f for p in w.pool("local") if p.kind == "fact" for f in p.facts}

    assert local_facts(low) < local_facts(high)
    assert low.fingerprint()["facts"] == high.fingerprint()["facts"]
    assert [(q.text, q.answer) for q in low.questions] == [(q.text, q.answer) for q in high.questions]
    assert sum(q.local_complete for q in low.questions) < sum(q.local_complete for q in high.questions)
