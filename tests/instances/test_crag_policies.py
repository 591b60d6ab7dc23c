"""CRAG's sim policies with fixed rngs: matching, grading, rewriting, answering."""

from __future__ import annotations

import json
import random

import pytest

from maestro.contract import Task
from maestro.instances.crag.prompts import (
    GENERATOR_SYSTEM,
    GRADER_SYSTEM,
    REWRITER_SYSTEM,
    extract_answer,
    format_generator_input,
    format_grader_input,
    format_rewriter_input,
    parse_grade,
    parse_rewrite,
)
from maestro.instances.crag.sim_policies import GeneratorPolicy, GraderPolicy, RewriterPolicy, doc_is_relevant
from maestro.instances.qa_world import HOP_KINDS, build_world, judge
from maestro.instances.qa_world.scoring import contains_span
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, registered_policies

WORLD = build_world()


def make_ctx(seed=0, *, accuracy=1.0, strictness=0.0, verbosity=1.0, mix=None) -> PolicyContext:
    """A PolicyContext whose rng is seeded with ``seed``."""
    return PolicyContext(rng=random.Random(seed), profile_name="test", accuracy=accuracy,
                         failure_mix=mix or FailureMix(), verbosity=verbosity, strictness=strictness)

Q2 = next(q for q in WORLD.questions if q.hops == 2)
Q1 = next(q for q in WORLD.questions if q.hops == 1)


def req(system: str, user: str, schema: dict | None = None) -> SimRequest:
    return SimRequest("openai", "m", (SimMessage("system", system), SimMessage("user", user)), response_schema=schema)


def doc(pid: str) -> dict:
    return WORLD.passage(pid).as_doc()


def grade(d: dict, q=Q2, **ctx) -> str:
    return GraderPolicy().respond(req(GRADER_SYSTEM, format_grader_input(q.text, d)), make_ctx(**ctx)).text


def answer(docs: list[dict], q=Q2, **ctx) -> str:
    return GeneratorPolicy().respond(req(GENERATOR_SYSTEM, format_generator_input(q.text, docs)), make_ctx(**ctx)).text


def irrelevant_doc(q) -> dict:
    names = [WORLD.name(e) for e in q.path[1:]]
    return next(p.as_doc() for p in WORLD.pool("local") if not any(contains_span(p.text, n) for n in names))


@pytest.mark.parametrize(
    "system, policy",
    [
        pytest.param(GRADER_SYSTEM, "crag.grader", id="grader"),
        pytest.param(REWRITER_SYSTEM, "crag.rewriter", id="rewriter"),
        pytest.param(GENERATOR_SYSTEM, "crag.generator", id="generator"),
    ],
)
def test_each_role_matches_only_its_policy(crag_policies, system, policy):
    r = req(system, "Question: x")
    crag = [p for p in crag_policies if p.name.startswith("crag.")]
    assert [p.name for p in crag if p.matches(r)] == [policy]
    assert not any(p.matches(req("You are a helpful assistant.", "hi")) for p in crag)


def test_registration_is_idempotent(crag_policies):
    from maestro.instances.crag import register_sim_policies

    register_sim_policies()
    names = [p.name for p in registered_policies()]
    assert names.count("crag.grader") == 1


def test_relevance_ground_truth():
    for pid in Q2.support_ids:
        assert doc_is_relevant(Q2.text, WORLD.passage(pid).text)
    assert not doc_is_relevant(Q2.text, irrelevant_doc(Q2)["text"])
    # Unknown question: lexical overlap decides.
    assert doc_is_relevant("Where do zorbles nest in winter?", "Zorbles nest in caves during winter.")
    assert not doc_is_relevant("Where do zorbles nest in winter?", "The market opens at noon.")


@pytest.mark.parametrize(
    "relevant, ctx, expected",
    [
        pytest.param(True, dict(accuracy=1.0, strictness=1.0), {"yes"}, id="perfect-accepts"),
        pytest.param(False, dict(accuracy=1.0, strictness=0.0), {"no"}, id="perfect-rejects"),
        pytest.param(True, dict(accuracy=0.0, strictness=1.0), {"no"}, id="strict-bad-rejects"),
        pytest.param(False, dict(accuracy=0.0, strictness=1.0), {"no"}, id="strict-never-false-accepts"),
        pytest.param(True, dict(accuracy=0.5, strictness=0.5), {"yes", "no"}, id="noisy"),
    ],
)
def test_grader_by_rng(relevant, ctx, expected):
    d = doc(Q2.support_ids[0]) if relevant else irrelevant_doc(Q2)
    assert {grade(d, seed=s, **ctx) for s in range(40)} == expected


def test_grader_error_rates_follow_accuracy_and_strictness():
    rel, irr = doc(Q2.support_ids[0]), irrelevant_doc(Q2)
    n = 400
    lax = sum(grade(rel, seed=s, accuracy=0.6, strictness=0.0) == "no" for s in range(n)) / n
    strict = sum(grade(rel, seed=s, accuracy=0.6, strictness=1.0) == "no" for s in range(n)) / n
    assert lax == pytest.approx(0.2, abs=0.06) and strict == pytest.approx(0.6, abs=0.06)
    fa = sum(grade(irr, seed=s, accuracy=0.6, strictness=0.0) == "yes" for s in range(n)) / n
    assert fa == pytest.approx(0.2, abs=0.06)


def test_grader_reply_shapes():
    d = doc(Q2.support_ids[0])
    verbose = grade(d, accuracy=1.0, verbosity=2.5)
    assert verbose.startswith("Yes.") and parse_grade(verbose)
    schema = {"type": "object", "properties": {"binary_score": {"type": "string"}}}
    r = GraderPolicy().respond(req(GRADER_SYSTEM, format_grader_input(Q2.text, d), schema), make_ctx(accuracy=1.0))
    assert json.loads(r.text) == {"binary_score": "yes"} and parse_grade(r.text)


def test_rewriter_targets_unresolved_hop():
    pol = RewriterPolicy()
    q = Q2
    bridge = WORLD.name(q.path[1])
    first = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, [])), make_ctx(accuracy=1.0)).text
    assert first == HOP_KINDS[q.hop_kinds[0]].question.format(s=WORLD.name(q.path[0]))
    notes = [doc(q.support_ids[0])]
    second = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)), make_ctx(accuracy=1.0)).text
    assert second == HOP_KINDS[q.hop_kinds[1]].question.format(s=bridge)
    verbose = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)),
                          make_ctx(accuracy=1.0, verbosity=3.0)).text
    assert parse_rewrite(verbose) == second
    vague = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)), make_ctx(accuracy=0.0)).text
    assert contains_span(vague, WORLD.name(q.path[0])) and not contains_span(vague, bridge)


def test_generator_correct_when_gold_in_context():
    docs = [doc(pid) for pid in Q2.support_ids]
    for s in range(10):
        text = answer(docs, seed=s, accuracy=1.0)
        assert extract_answer(text) == Q2.answer
    long = answer(docs, accuracy=1.0, verbosity=3.0)
    assert extract_answer(long) == Q2.answer and len(long) > 3 * len(f"Answer: {Q2.answer}")


@pytest.mark.parametrize(
    "mix, check",
    [
        pytest.param(FailureMix(0, 0, 1), lambda a, q: a == "", id="empty"),
        pytest.param(FailureMix(0, 1, 0), lambda a, q: (WORLD.entity_by_name(a).etype == q.answer_type
                                                       and a != q.answer), id="wrong-entity"),
        pytest.param(FailureMix(1, 0, 0), lambda a, q: a and not any(
            contains_span(a, e.name) for e in WORLD.entities.values()), id="underspecified"),
    ],
)
def test_generator_failure_modes(mix, check):
    docs = [doc(pid) for pid in Q2.support_ids]
    for s in range(10):
        a = extract_answer(answer(docs, seed=s, accuracy=0.0, mix=mix))
        assert check(a, Q2), a
        assert judge(Task("t", Q2.text, Q2.answer), a).judgement == "wrong"


def test_generator_cannot_answer_without_evidence():
    docs = [doc(Q2.support_ids[0])]  # first hop only: the gold is not in context
    outs = {extract_answer(answer(docs, seed=s, accuracy=1.0, mix=FailureMix(0, 1, 0))) for s in range(10)}
    assert Q2.answer not in outs and all(outs)


def test_policies_are_deterministic_per_rng():
    docs = [doc(pid) for pid in Q2.support_ids]
    a = [answer(docs, seed=s, accuracy=0.5) for s in range(20)]
    assert a == [answer(docs, seed=s, accuracy=0.5) for s in range(20)]
    assert len(set(a)) > 1  # and they do vary from seed to seed


def test_generator_unknown_question_guesses_from_context():
    text = GeneratorPolicy().respond(
        req(GENERATOR_SYSTEM, format_generator_input("Who carved the Ombrel gate?", [
            {"id": "x", "title": "Gate", "text": "The Ombrel gate was carved by Fenna Quill."}])),
        make_ctx(accuracy=1.0)).text
    assert extract_answer(text) == "Fenna Quill"


@pytest.mark.parametrize(
    "reply, expected",
    [
        pytest.param("Answer: Brashford", "Brashford", id="plain"),
        pytest.param("Answer: Talen Brask.\nBecause the passage says so.", "Talen Brask", id="period-justified"),
        pytest.param("**Final answer:** Keldoria", "Keldoria", id="markdown"),
        pytest.param("Let me think.\nAnswer: Vale", "Vale", id="later-line"),
        pytest.param("Brashford", "Brashford", id="bare"),
        pytest.param("", "", id="empty"),
    ],
)
def test_extract_answer(reply, expected):
    assert extract_answer(reply) == expected


@pytest.mark.parametrize(
    "reply, expected",
    [
        pytest.param("yes", True, id="yes"),
        pytest.param("No.", False, id="no"),
        pytest.param("Yes - it names the city.", True, id="yes-explained"),
        pytest.param('{"binary_score": "no"}', False, id="json-no"),
        pytest.param("", False, id="empty"),
        pytest.param("yesterday", False, id="not-a-yes"),
    ],
)
def test_parse_grade(reply, expected):
    assert parse_grade(reply) is expected
