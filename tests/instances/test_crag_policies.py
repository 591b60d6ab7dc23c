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
from maestro.instances.crag.sim_policies import GeneratorPolicy, GraderPolicy, RewriterPolicy
from maestro.instances.qa_world import HOP_KINDS, build_world, judge
from maestro.instances.qa_world.scoring import contains_span
from maestro.sim.policy import PolicyContext, SimMessage, SimRequest, registered_policies

WORLD = build_world()


def make_ctx(seed=0, *, reasoning=1.0, knowledge=0.0, calibration=0.5, abstention=0.5, instruction=1.0,
             verbosity=1.0, profile="test") -> PolicyContext:
    """A PolicyContext with these capabilities whose rng is seeded with ``seed``."""
    from maestro.sim.profiles import failure_mix_of

    return PolicyContext(rng=random.Random(seed), profile_name=profile, accuracy=reasoning,
                         failure_mix=failure_mix_of(calibration, abstention), verbosity=verbosity,
                         strictness=calibration, knowledge=knowledge, instruction_following=instruction,
                         calibration=calibration, abstention=abstention)

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
    names = [WORLD.name(e) for e in q.path]
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


@pytest.mark.parametrize(
    "hop, knowledge, expected",
    [
        pytest.param(0, 0.0, "yes", id="first-hop-read"),
        pytest.param(1, 0.0, "no", id="second-hop-unreachable-without-the-bridge"),
        pytest.param(1, 1.0, "yes", id="second-hop-reached-from-memory"),
    ],
)
def test_grader_reads_relevance_along_its_walk(hop, knowledge, expected):
    """A document is relevant when it states a fact of a hop the model reaches: the second
    hop's passage only helps a model that knows (or read) where the first hop leads."""
    assert grade(doc(Q2.support_ids[hop]), reasoning=1.0, knowledge=knowledge) == expected
    assert grade(irrelevant_doc(Q2), reasoning=1.0, knowledge=1.0) == "no"


def test_grader_slips_with_reasoning():
    rel, irr = doc(Q2.support_ids[0]), irrelevant_doc(Q2)
    n = 400
    miss = sum(grade(rel, seed=s, reasoning=0.7) == "no" for s in range(n)) / n
    false_accept = sum(grade(irr, seed=s, reasoning=0.7) == "yes" for s in range(n)) / n
    # the per-step reliability falls a little with the prompt's length (knowledge.effective_reasoning)
    assert miss == pytest.approx(0.3, abs=0.07) and false_accept == pytest.approx(0.3, abs=0.07)


def test_grader_reply_shapes():
    d = doc(Q2.support_ids[0])
    verbose = grade(d, verbosity=2.5)
    assert verbose.startswith("Yes.") and parse_grade(verbose)
    schema = {"type": "object", "properties": {"binary_score": {"type": "string"}}}
    r = GraderPolicy().respond(req(GRADER_SYSTEM, format_grader_input(Q2.text, d), schema), make_ctx())
    assert json.loads(r.text) == {"binary_score": "yes"} and parse_grade(r.text)


def test_rewriter_targets_the_hop_it_lacks():
    pol = RewriterPolicy()
    q = Q2
    bridge = WORLD.name(q.path[1])
    first = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, [])), make_ctx()).text
    assert first == HOP_KINDS[q.hop_kinds[0]].question.format(s=WORLD.name(q.path[0]))
    notes = [doc(q.support_ids[0])]
    second = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)), make_ctx()).text
    assert second == HOP_KINDS[q.hop_kinds[1]].question.format(s=bridge)
    verbose = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)), make_ctx(verbosity=3.0)).text
    assert parse_rewrite(verbose) == second
    lazy = pol.respond(req(REWRITER_SYSTEM, format_rewriter_input(q.text, notes)), make_ctx(instruction=0.0)).text
    assert contains_span(lazy, WORLD.name(q.path[0])) and not contains_span(lazy, bridge)


def test_generator_reads_the_answer_from_evidence():
    docs = [doc(pid) for pid in Q2.support_ids]
    for s in range(10):
        assert extract_answer(answer(docs, seed=s)) == Q2.answer
    long = answer(docs, verbosity=3.0)
    assert extract_answer(long) == Q2.answer and len(long) > 3 * len(f"Answer: {Q2.answer}")


def test_generator_slip_lands_on_an_entity_of_the_right_type():
    docs = [doc(pid) for pid in Q1.support_ids]
    for s in range(10):
        a = extract_answer(answer(docs, q=Q1, seed=s, reasoning=0.0))
        ent = WORLD.entity_by_name(a)
        assert ent is not None and ent.etype == Q1.answer_type and a != Q1.answer


@pytest.mark.parametrize(
    "calibration, abstention, check",
    [
        pytest.param(1.0, 1.0, lambda a, q: a == "" or "cannot determine" in a, id="aware-abstains"),
        pytest.param(0.0, 0.0, lambda a, q: (WORLD.entity_by_name(a) is not None
                                            and WORLD.entity_by_name(a).etype == q.answer_type), id="unaware-confabulates"),
        pytest.param(1.0, 0.0, lambda a, q: a and not any(
            contains_span(a, e.name) for e in WORLD.entities.values()), id="aware-hedges"),
    ],
)
def test_generator_lacking_a_fact_fails_as_its_capabilities_say(calibration, abstention, check):
    docs = [doc(Q2.support_ids[0])]  # first hop only: the model lacks the second
    for s in range(10):
        text = answer(docs, seed=s, calibration=calibration, abstention=abstention)
        a = extract_answer(text) if text.startswith("Answer:") else text
        assert check(a, Q2), a
        assert judge(Task("t", Q2.text, Q2.answer), a).judgement == "wrong"


def test_generator_recalls_what_the_model_knows_and_speculates_longer():
    """Without documents a model that knows every fact still answers, at more length."""
    grounded = answer([doc(pid) for pid in Q2.support_ids])
    recalled = answer([], knowledge=1.0)
    assert extract_answer(recalled) == Q2.answer
    assert len(recalled) > len(grounded)


def test_which_facts_a_model_knows_is_fixed_per_profile():
    from maestro.instances.qa_world.knowledge import knows

    keys = [f"fact-{i}" for i in range(400)]
    a = [knows(make_ctx(knowledge=0.5, profile="p1"), k) for k in keys]
    assert a == [knows(make_ctx(seed=9, knowledge=0.5, profile="p1"), k) for k in keys]  # not the request's rng
    assert sum(a) / len(a) == pytest.approx(0.5, abs=0.07)
    assert a != [knows(make_ctx(knowledge=0.5, profile="p2"), k) for k in keys]


def test_policies_are_deterministic_per_rng():
    docs = [doc(pid) for pid in Q2.support_ids]
    a = [answer(docs, seed=s, reasoning=0.5) for s in range(20)]
    assert a == [answer(docs, seed=s, reasoning=0.5) for s in range(20)]
    assert len(set(a)) > 1  # and they do vary from seed to seed


def test_generator_unknown_question_guesses_from_context():
    text = GeneratorPolicy().respond(
        req(GENERATOR_SYSTEM, format_generator_input("Who carved the Ombrel gate?", [
            {"id": "x", "title": "Gate", "text": "The Ombrel gate was carved by Fenna Quill."}])),
        make_ctx()).text
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
