"""Tree of Thoughts: the puzzle generator and verifier, the message layouts, the simulated
roles, the graph in-process, and whole studies through the runner over HTTP."""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest

import maestro
from maestro.contract import Task
from maestro.instances.tot import INSTANCE, build_graph, initial_state, register_sim_policies
from maestro.instances.tot import puzzles as pz
from maestro.instances.tot.prompts import (
    compose_expression,
    extract_answer,
    format_evaluator_input,
    format_proposer_input,
    format_solver_input,
    parse_proposals,
    parse_proposer_input,
    parse_step,
    parse_value,
)
from maestro.instances.tot.sim_policies import EvaluatorPolicy, ProposerPolicy, SolverPolicy, behaviour_for
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest

from trace_helpers import edge_sequence, run_spans, span_tree

F = Fraction

# -- verifier ---------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, kind, reason", [
    pytest.param("(4 + 8) * (3 - 1)", "correct", "evaluates to 24 using each number once", id="valid"),
    pytest.param("Answer: (3 - 1) × (8 + 4) = 24", "correct", "evaluates to 24", id="valid-labelled-unicode-op"),
    pytest.param("4 * 8 - 3 * 1", "incorrect", "evaluates to 29, not 24", id="wrong-value"),
    pytest.param("(4 + 8) / (3 * 1)", "incorrect", "evaluates to 4, not 24", id="wrong-value-exact-division"),
    pytest.param("(8 + 8) + (4 * 1)", "incorrect", "uses 8 beyond the puzzle's numbers; does not use 3", id="reused"),
    pytest.param("(4 + 8) * 2", "incorrect", "uses 2 beyond the puzzle's numbers; does not use 1 3", id="missing"),
    pytest.param("(4 + 8) * (3 - 1) * 1", "incorrect", "uses 1 beyond", id="extra-number"),
    pytest.param("8 / (4 - 3 - 1)", "incorrect", "division by zero", id="division-by-zero"),
    pytest.param("3 * 8 * (1 - 1)", "incorrect", "uses 1 beyond the puzzle's numbers; does not use 4", id="swap"),
    pytest.param("I think it is 24", "incorrect", "not an arithmetic expression", id="garbage"),
    pytest.param("(4 + 8 * (3 - 1)", "incorrect", "not an arithmetic expression", id="unbalanced"),
    pytest.param("-4 + 8 * 3 + 1", "incorrect", "unary minus is not allowed", id="unary-minus"),
    pytest.param("", "empty", "empty answer", id="empty"),
    pytest.param("   ", "empty", "empty answer", id="blank"),
    pytest.param(None, "empty", "empty answer", id="none"),
])
def test_verify_against_hand_cases(answer, kind, reason):
    v = pz.verify(answer, [1, 3, 4, 8], 24)
    assert v.kind == kind and reason in v.reason, v


def test_verify_division_by_zero_and_exact_fractions():
    assert pz.verify("3 / (8 - 8) + 1", [1, 3, 8, 8]).reason == "division by zero"
    # 8 / (3 - 8/3) = 8 / (1/3) = 24 exactly; floating point would give 23.999999999999993
    assert pz.verify("8 / (3 - 8 / 3)", [3, 3, 8, 8]).correct
    v = pz.verify("8 / 3 + 3 * 8", [3, 3, 8, 8])
    assert v.kind == "incorrect" and v.value == F(80, 3) and "80/3" in v.reason


def test_verify_never_evaluates_model_text():
    v = pz.verify("__import__('os').system('true')", [1, 3, 4, 8])
    assert v.kind == "incorrect" and "not an arithmetic expression" in v.reason


# -- search and generator ---------------------------------------------------------------------


def test_moves_of_two_numbers_by_hand():
    got = sorted(m.text() for m in pz.moves([1, 2]))
    assert got == sorted(["1 + 2 = 3 (left: 3)", "1 - 2 = -1 (left: -1)", "2 - 1 = 1 (left: 1)",
                          "1 * 2 = 2 (left: 2)", "1 / 2 = 1/2 (left: 1/2)", "2 / 1 = 2 (left: 2)"])
    assert [m.text() for m in pz.moves([5, 0]) if m.op == "/"] == ["0 / 5 = 0 (left: 0)"]  # no division by zero


@pytest.mark.parametrize("numbers, target, ok", [
    pytest.param([4, 7, 8, 8], 24, True, id="4-7-8-8"),
    pytest.param([3, 3, 8, 8], 24, True, id="needs-fractions"),
    pytest.param([1, 1, 1, 1], 24, False, id="too-small"),
    pytest.param([13, 13, 13, 13], 24, False, id="13s"),
    pytest.param([1, 2, 3], 6, True, id="three-numbers-target-6"),
])
def test_solvable_and_solve_agree_with_the_verifier(numbers, target, ok):
    assert pz.solvable(numbers, target) is ok
    sol = pz.solve(numbers, target)
    assert (sol is not None) is ok
    if ok:
        assert pz.verify(sol, numbers, target).correct, sol


def test_difficulty_raises_on_unsolvable_and_orders_strata():
    with pytest.raises(ValueError, match=r"has no solution"):
        pz.difficulty_of([1, 1, 1, 1])
    # 1 2 3 4 -> 24 forgives many first steps; 3 3 8 8 has a single famous route
    assert pz.difficulty_of([1, 2, 3, 4])[0] == "easy" and pz.difficulty_of([3, 3, 8, 8])[0] == "hard"


def test_generator_is_seeded_stratified_and_only_solvable():
    a, b, c = pz.generate_puzzles(12, seed=0), pz.generate_puzzles(12, seed=0), pz.generate_puzzles(12, seed=1)
    assert a == b and a != c
    assert [p.difficulty for p in a] == ["easy", "medium", "hard"] * 4
    assert len({p.numbers for p in a}) == 12
    for p in a:
        assert len(p.numbers) == 4 and all(1 <= n <= 13 for n in p.numbers)
        assert pz.solvable(p.numbers, p.target) and pz.verify(p.solution, p.numbers, p.target).correct


def test_precomputed_table_agrees_with_the_search():
    entries = dict(item.split(":") for item in pz.table_text().split())
    assert len(entries) == 1362  # the known count of solvable 1..13 quadruples for 24
    rng = random.Random(11)
    for _ in range(40):
        nums = tuple(sorted(rng.randint(1, 13) for _ in range(4)))
        key = ".".join(map(str, nums))
        assert (key in entries) is pz.solvable(nums), nums
        if key in entries:
            good, total = map(int, entries[key].split("/"))
            assert pz.difficulty_of(nums) == (pz.stratum(good / total), good / total)
    # outside the table's setting the generator searches: still only solvable puzzles
    for p in pz.generate_puzzles(6, seed=2, target=10, lo=1, hi=9):
        assert p.target == 10 and pz.verify(p.solution, p.numbers, 10).correct
        assert (p.difficulty, p.solvable_share) == (pz.difficulty_of(p.numbers, 10)[0],
                                                    round(pz.difficulty_of(p.numbers, 10)[1], 4))


def test_tasks_carry_gold_and_meta_and_read_jsonl(tmp_path):
    tasks = INSTANCE.tasks(n=6, seed=3)
    assert tasks == INSTANCE.tasks(n=6, seed=3) and len(tasks) == 6 and len({t.task_id for t in tasks}) == 6
    for t in tasks:
        assert t.task_id == "g24-" + "-".join(map(str, t.meta["numbers"]))
        assert INSTANCE.judge(t, t.gold).judgement == "correct"
        assert " ".join(map(str, t.meta["numbers"])) in t.question
    assert len(INSTANCE.tasks(seed=0)) == 30
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"numbers": [4, 7, 8, 8], "id": "mine"}) + "\n"
                   + json.dumps({"numbers": [1, 2, 3], "target": 6}) + "\n")
    mine = INSTANCE.tasks(source=str(src))
    assert [t.task_id for t in mine] == ["mine", "g6-1-2-3"] and mine[1].meta["target"] == 6
    src.write_text(json.dumps({"numbers": [4, 7, 8, 8]}) + "\n" + json.dumps({"numbers": [1, 1, 1, 1]}) + "\n")
    with pytest.raises(ValueError, match=r"p.jsonl:2: bad puzzle.*no solution"):
        INSTANCE.tasks(source=str(src))


def test_judge_maps_verdicts():
    task = Task("t", "q", gold="(4 + 8) * (3 - 1)", meta={"numbers": [1, 3, 4, 8], "target": 24})
    assert INSTANCE.judge(task, "(4 + 8) * (3 - 1) = 24").judgement == "correct"
    wrong = INSTANCE.judge(task, "4 * 8 - 3 - 1")
    assert wrong.judgement == "wrong" and wrong.reason == "incorrect: evaluates to 28, not 24" and wrong.exact_match == 0
    assert INSTANCE.judge(task, "").reason == "empty: empty answer"


# -- message layouts --------------------------------------------------------------------------


@pytest.mark.parametrize("line, text", [
    pytest.param("4 * 6 = 24 (left: 1 24)", "4 * 6 = 24 (left: 1 24)", id="valid"),
    pytest.param("1. 4 x 6 = 24", "4 * 6 = 24 (left: 1 24)", id="numbered-x-operator"),
    pytest.param("4 * 6 = 25 (left: 1 24)", "4 * 6 = 25 (left: 1 25)", id="wrong-claim-is-trusted"),
    pytest.param("4 * 9 = 36 (left: 1 36)", None, id="unavailable-number"),
    pytest.param("6 * 6 = 36", None, id="number-used-twice"),
    pytest.param("Multiply the big ones.", None, id="prose"),
])
def test_parse_step(line, text):
    parsed = parse_step(line, [F(1), F(4), F(6)])
    assert (parsed[0].text if parsed else None) == text


def test_layouts_round_trip_and_compose():
    msg = format_proposer_input(24, [3, 3, 8, 8], ["8 / 3 = 8/3 (left: 3 8 8/3)"], [F(3), F(8), F(8, 3)], 4,
                                ["3 + 8 = 11 (left: 11 8/3)"])
    inp = parse_proposer_input(msg)
    assert (inp.target, inp.remaining, inp.n) == (24, [3, 8, F(8, 3)], 4)
    assert inp.steps == ["8 / 3 = 8/3 (left: 3 8 8/3)"] and inp.avoid == ["3 + 8 = 11 (left: 11 8/3)"]
    chain = ["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3 (left: 8 1/3)", "8 / 1/3 = 24 (left: 24)"]
    assert compose_expression([3, 3, 8, 8], chain) == "8 / (3 - (8 / 3))"
    # a wrong claimed result makes an expression with another value
    assert compose_expression([1, 3, 4, 8], ["4 * 8 = 30 (left: 1 3 30)", "30 - 3 = 27 (left: 1 27)",
                                             "27 - 1 = 26 (left: 26)"]) == "((4 * 8) - 3) - 1"
    assert compose_expression([1, 2, 3, 4], ["9 + 1 = 10"]) is None
    steps, bad = parse_proposals("1 + 2 = 3 (left: 3 3 4)\n\nnonsense\n7 * 7 = 49", [1, 2, 3, 4])
    assert [s.text for s, _ in steps] == ["1 + 2 = 3 (left: 3 3 4)"] and bad == 2
    assert extract_answer("thinking\nAnswer: (1 + 2) * 8 = 24\nDone.") == "(1 + 2) * 8 = 24"
    assert parse_value("4 6: 4 * 6 = 24\nsure") == "sure" and parse_value("") is None


# -- simulated roles --------------------------------------------------------------------------


def _req(system: str, user: str) -> SimRequest:
    return SimRequest("openai", "m", (SimMessage("system", system), SimMessage("user", user)))


def _ctx(seed: int, accuracy: float = 1.0, mix: FailureMix = FailureMix(), strictness: float = 0.5,
         **extra) -> PolicyContext:
    return PolicyContext(random.Random(seed), "test", accuracy, mix, 1.0, strictness, extra)


@pytest.fixture(scope="module")
def systems():
    from maestro.instances.tot.prompts import EVALUATOR_SYSTEM, PROPOSER_SYSTEM, SOLVER_SYSTEM

    register_sim_policies()
    return PROPOSER_SYSTEM, EVALUATOR_SYSTEM, SOLVER_SYSTEM


@pytest.mark.parametrize("remaining, word", [
    pytest.param([F(4), F(6)], "sure", id="two-make-it"),
    pytest.param([F(1), F(4), F(6)], "likely", id="three-solvable"),
    pytest.param([F(1), F(1), F(1)], "impossible", id="too-small"),
    pytest.param([F(24)], "sure", id="reached"),
    pytest.param([F(25)], "impossible", id="missed"),
])
def test_perfect_evaluator_tells_the_truth(systems, remaining, word):
    reply = EvaluatorPolicy().respond(_req(systems[1], format_evaluator_input(24, remaining)), _ctx(0))
    assert parse_value(reply.text) == word


def test_proposer_quality_follows_the_profile(systems):
    msg = format_proposer_input(24, [1, 3, 4, 8], [], [1, 3, 4, 8], 5)
    good = ProposerPolicy().respond(_req(systems[0], msg), _ctx(1))
    steps, bad = parse_proposals(good.text, [1, 3, 4, 8])
    assert len(steps) == 5 and bad == 0 and all(pz.solvable(left) for _, left in steps)
    # a confabulating model: many arithmetic errors (steps parse, but the claims are false)
    n_wrong = n_steps = n_bad = 0
    for seed in range(30):
        reply = ProposerPolicy().respond(_req(systems[0], msg), _ctx(seed, 0.4, FailureMix(0, 1, 0)))
        steps, bad = parse_proposals(reply.text, [1, 3, 4, 8])
        n_steps += len(steps)
        n_bad += bad
        n_wrong += sum(pz.apply_op(s.a, s.op, s.b) != s.claimed for s, _ in steps)
    assert n_bad == 0 and 0.4 < n_wrong / n_steps < 0.8
    # an underspecified model writes lines the graph cannot use; an abstainer leaves slots out
    bad_total = sum(parse_proposals(ProposerPolicy().respond(_req(systems[0], msg), _ctx(s, 0.4, FailureMix(1, 0, 0))).text,
                                    [1, 3, 4, 8])[1] for s in range(10))
    assert bad_total > 10
    same = [ProposerPolicy().respond(_req(systems[0], msg), _ctx(7, 0.5)).text for _ in range(2)]
    assert same[0] == same[1]


def test_solver_abstains_writes_chains_and_profiles_override(systems):
    full = format_solver_input(24, [1, 3, 4, 8], ["8 - 4 = 4 (left: 1 3 4)", "3 - 1 = 2 (left: 2 4)",
                                                  "4 + 2 = 6 (left: 6)"])
    text = SolverPolicy().respond(_req(systems[2], full), _ctx(0)).text
    assert text == "Answer: (8 - 4) + (3 - 1) = 6"  # a careful model reports the chain's value
    assert pz.verify(extract_answer(text), [1, 3, 4, 8]).reason == "evaluates to 6, not 24"
    good = format_solver_input(24, [1, 3, 4, 8], ["8 - 4 = 4 (left: 1 3 4)", "3 * 1 = 3 (left: 3 4)",
                                                  "4 * 3 = 12 (left: 12)"])
    assert SolverPolicy().respond(_req(systems[2], good), _ctx(0)).text == "Answer: (8 - 4) * (3 * 1) = 12"
    abstainer = _ctx(0, 0.6, FailureMix(1, 1, 8))
    assert behaviour_for(abstainer).p_solver_abstain == 1.0
    assert SolverPolicy().respond(_req(systems[2], full), abstainer).text == ""
    confident = _ctx(0, 1.0, FailureMix(0, 1, 0))
    assert SolverPolicy().respond(_req(systems[2], full), confident).text.endswith("= 24")  # claims the target
    override = _ctx(0, 0.6, FailureMix(1, 1, 8), tot_p_solver_abstain=0.0, tot_p_solver_fail=0.0)
    assert behaviour_for(override).p_solver_abstain == 0.0
    assert SolverPolicy().respond(_req(systems[2], full), override).text == "Answer: (8 - 4) + (3 - 1) = 6"
    # no chain at all: a model may still solve it alone (p = accuracy / 5), never with a bogus chain
    solo = format_solver_input(24, [1, 3, 4, 8], [])
    texts = {SolverPolicy().respond(_req(systems[2], solo), _ctx(s)).text for s in range(40)}
    assert any(pz.verify(extract_answer(t), [1, 3, 4, 8]).correct for t in texts)


# -- the graph in-process ---------------------------------------------------------------------


def _nodes(app, state) -> list[str]:
    return [node for update in app.stream(state, stream_mode="updates") for node in update]


def test_beam_keeps_the_best_valued_states_and_the_solver_gets_the_best_chain():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    replies = [
        "1 + 2 = 3 (left: 3 3)\n2 * 3 = 6 (left: 1 6)\n3 - 1 = 2 (left: 2 2)\nrubbish",  # proposer (root)
        "likely", "impossible", "5 5\nsure",  # evaluator: 3 3 / 1 6 / 2 2
        "2 + 2 = 4 (left: 4)",  # proposer for "2 2" (valued sure: first in the beam)
        "3 + 3 = 6 (left: 6)\n3 * 9 = 27",  # proposer for "3 3"
        "impossible", "sure",  # evaluator: 4 / 6
        "Answer: (1 + 2) + 3 = 6",  # solver
    ]
    app = build_graph(FakeListChatModel(responses=replies), beam_width=2, n_propose=3)
    init = initial_state([1, 2, 3], 6)
    assert _nodes(app, init) == ["proposer", "evaluator", "proposer", "evaluator", "solver"]
    app = build_graph(FakeListChatModel(responses=replies), beam_width=2, n_propose=3)
    out = app.invoke(init)
    assert out["chain"] == ["1 + 2 = 3 (left: 3 3)", "3 + 3 = 6 (left: 6)"]
    assert out["depth"] == 2 and out["retries"] == 0 and out["invalid"] == 2 and out["evaluated"] == 5
    assert [s["left"] for s in out["frontier"]] == ["6"] and out["frontier"][0]["value"] == 20.0
    task = Task("t", "q", meta={"numbers": [1, 2, 3], "target": 6})
    assert INSTANCE.judge(task, extract_answer(out["generation"])).judgement == "correct"


def test_nothing_survives_retries_then_solves_without_a_chain():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    app = build_graph(FakeListChatModel(responses=[""]), max_retries=1)
    assert _nodes(app, initial_state([1, 3, 4, 8], 24)) == ["proposer", "evaluator", "proposer", "evaluator", "solver"]
    app = build_graph(FakeListChatModel(responses=[""]), max_retries=0)
    out = app.invoke(initial_state([1, 3, 4, 8], 24))
    assert out["retries"] == 1 and out["chain"] == [] and out["generation"] == ""
    with pytest.raises(ValueError, match="beam_width"):
        build_graph(FakeListChatModel(responses=[""]), beam_width=0)


def test_build_ignores_the_tool_setting_and_checks_options():
    from maestro.contract import ModelEndpoint, RunContext

    ep = ModelEndpoint("sim/strong", "maestro.sim", "strong", "http://127.0.0.1:9/v1", "k", True)
    for tools in (True, False):
        app = INSTANCE.build(RunContext(ep, tools, 1, options={"beam_width": 2}))
        assert set(app.get_graph().nodes) == {"__start__", "__end__", "proposer", "evaluator", "solver"}
    with pytest.raises(ValueError, match="n_propose=0"):
        INSTANCE.build(RunContext(ep, False, 1, options={"n_propose": 0}))
    with pytest.raises(ValueError, match="no meta\\['numbers'\\]"):
        INSTANCE.run(None, Task("q1", "What is 2+2?"), RunContext(ep, False, 1))


def test_oracle_model_solves_every_puzzle_in_process(policy_chat):
    register_sim_policies()
    for task in INSTANCE.tasks(n=6, seed=5):
        chat = policy_chat(seed=1, accuracy=1.0, strictness=0.5)
        out = build_graph(chat).invoke(initial_state(task.meta["numbers"], 24))
        assert INSTANCE.judge(task, extract_answer(out["generation"])).judgement == "correct", out
        assert out["depth"] == 3 and chat.calls[0] == "tot.proposer" and chat.calls[-1] == "tot.solver"


# -- end to end through the runner ------------------------------------------------------------

OPTIONS = {"tot": {"beam_width": 2, "n_propose": 3}}
"""Smaller search than the defaults, to keep the file fast (about 15 model calls a run)."""


def _study(tmp, study_id: str, backends: list[str], *, tasks: int, repeats: int, tools=False):
    from maestro.runner.config import study_config_from_dict
    from maestro.runner.study import run_study

    cfg = study_config_from_dict({"id": study_id, "instances": ["tot"], "backends": backends, "tools": tools,
                                  "repeats": repeats, "tasks": tasks, "time_factor": 0, "workers": 2,
                                  "out": str(tmp), "timeout_s": 120, "instance_options": OPTIONS})
    return maestro.load_study(run_study(cfg, progress=False).path)


PAPER_PROFILES = ("strong", "underspecified", "abstaining", "confabulating")
"""The four failure signatures of the paper's section 4.6 (the other built-ins are variants)."""


@pytest.fixture(scope="module")
def profile_study(tmp_path_factory):
    return _study(tmp_path_factory.mktemp("tot"), "tot-profiles", [f"sim/{p}" for p in PAPER_PROFILES],
                  tasks=3, repeats=1)


@pytest.mark.slow
def test_every_profile_runs_with_a_conforming_span_tree(profile_study):
    spans, runs = profile_study.spans, profile_study.runs
    assert set(runs.backend) == {f"sim/{p}" for p in PAPER_PROFILES} and len(runs) == 3 * len(PAPER_PROFILES)
    assert set(runs.status) <= {"success", "failure"}, runs[["backend", "status", "outcome_reason"]]
    for run_id in runs.run_id:
        s, agents = run_spans(spans, run_id, {"proposer", "evaluator", "solver"})
        assert {"proposer", "solver"} <= set(agents.agent_name)
        assert not (s.span_type == "tool").any() and not s.name.str.startswith("execute_tool").any()
        llm = s[s.span_type == "llm"]
        parents = dict(zip(s.span_id, s.span_type))
        assert len(llm) >= 3 and all(parents[p] == "agent" for p in llm.parent_span_id)
        assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all()
        assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all()
        row = runs[runs.run_id == run_id].iloc[0]
        assert llm.input_bytes.sum() == row.llm_request_bytes and llm.output_bytes.sum() == row.llm_response_bytes
        edges = edge_sequence(spans, run_id)
        assert edges[0] == ("__start__", "proposer") and edges[-1] == ("solver", "__end__")
        assert ("proposer", "evaluator") in edges and {a for e in edges for a in e} == set(agents.agent_name) | {
            "__start__", "__end__"}


@pytest.mark.slow
def test_profiles_differ_in_outcome(profile_study):
    runs = profile_study.runs
    by = runs.groupby("backend").judgement.apply(lambda j: (j == "correct").mean())
    assert by["sim/strong"] >= 2 / 3 and by["sim/strong"] > max(by["sim/underspecified"], by["sim/confabulating"]) - 1e-9
    assert by["sim/abstaining"] == 0.0
    abst = runs[runs.backend == "sim/abstaining"]
    assert (abst.status == "failure").all() and abst.judgement_reason.str.startswith("empty:").all()
    conf = runs[(runs.backend == "sim/confabulating") & (runs.judgement == "wrong")]
    assert conf.judgement_reason.str.startswith("incorrect:").all()  # confidently wrong, not empty


@pytest.mark.slow
def test_seeds_vary_the_tree_and_the_same_seed_reproduces_it(tmp_path):
    many = _study(tmp_path / "a", "tot-seeds", ["sim/underspecified"], tasks=1, repeats=20)
    assert len(many.runs) == 20 and set(many.runs.status) <= {"success", "failure"}
    sequences = [edge_sequence(many.spans, r) for r in many.runs.run_id]
    assert len(set(sequences)) >= 2  # not every pair of runs took the same path
    again = _study(tmp_path / "b", "tot-seeds", ["sim/underspecified"], tasks=1, repeats=2)
    first = many.runs.set_index("repeat").run_id
    for rep, run_id in again.runs.set_index("repeat").run_id.items():
        assert span_tree(again.spans, run_id) == span_tree(many.spans, first[rep]), rep
