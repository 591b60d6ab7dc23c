"""Plan-and-Execute: prompt layouts, the sim policies' control flow, and end-to-end runs
through the study runner (real worker processes, the simulated service over HTTP)."""

from __future__ import annotations

import pytest

import maestro
from maestro.instances.plan_execute.prompts import (
    EXECUTOR_SYSTEM,
    PLANNER_SYSTEM,
    VERIFY_PREFIX,
    format_executor_input,
    format_planner_input,
    format_replanner_input,
    parse_plan,
    parse_replan,
    replanner_system,
)
from maestro.instances.plan_execute.sim_policies import ExecutorPolicy, PlannerPolicy, ReplannerPolicy
from maestro.instances.qa_world import build_world
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.sim.policy import FailureMix, SimMessage, SimRequest, SimTool, SimToolCall
from maestro.sim.profiles import BUILTIN_PROFILES

from trace_helpers import QUERY_SCHEMA, check_span_tree, check_statuses, edge_sequence, policy_ctx, span_tree

WORLD = build_world()
Q1 = next(q for q in WORLD.questions if q.hops == 1)
Q3 = next(q for q in WORLD.questions if q.hops == 3)
PROFILES = tuple(p.name for p in BUILTIN_PROFILES)  # strong, verbose, underspecified, ..., flaky, oracle
AGENTS = {"planner", "executor", "replanner"}
TOOL = QUERY_SCHEMA
ctx = policy_ctx


def req(system: str, *messages: SimMessage, tools=()) -> SimRequest:
    return SimRequest("openai", "m", (SimMessage("system", system), *messages),
                      tools=tuple(SimTool(t, t, TOOL) for t in tools))


# -- prompts -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    pytest.param("1. Find A\n2. Find B\n3. Answer", ["Find A", "Find B", "Answer"], id="numbered"),
    pytest.param("Plan:\n- look up X\n- answer", ["look up X", "answer"], id="bulleted"),
    pytest.param("just search", ["just search"], id="no-list-is-one-step"),
    pytest.param("", [], id="empty"),
])
def test_parse_plan(text, steps):
    assert parse_plan(text) == steps


@pytest.mark.parametrize("text, expected", [
    pytest.param("Answer: Brashford.", ("Brashford", []), id="answer"),
    pytest.param("Plan:\n1. Verify X\n2. Answer", (None, ["Verify X", "Answer"]), id="revised-plan"),
    pytest.param("", ("", []), id="empty-reply-is-an-empty-answer"),
    pytest.param("I think it is Oslo", ("I think it is Oslo", []), id="free-text-ends-the-loop"),
])
def test_parse_replan(text, expected):
    assert parse_replan(text) == expected


# -- policies ------------------------------------------------------------------------------

def test_planner_writes_one_step_per_hop_or_a_lazy_step():
    user = SimMessage("user", format_planner_input(Q3.text))
    good = parse_plan(PlannerPolicy().respond(req(PLANNER_SYSTEM, user), ctx(accuracy=1.0)).text)
    assert len(good) == Q3.hops + 1 and WORLD.name(Q3.path[0]) in good[0]
    lazy = parse_plan(PlannerPolicy().respond(req(PLANNER_SYSTEM, user), ctx(accuracy=0.0)).text)
    assert len(lazy) == 2 and lazy[0].startswith("Search for")


def test_executor_searches_then_reports_the_hop_target_and_never_calls_an_absent_tool():
    step = "find it"
    user = SimMessage("user", format_executor_input(Q1.text, [step], [], step))
    for seed in range(20):
        first = ExecutorPolicy().respond(req(EXECUTOR_SYSTEM, user, tools=["local_retriever"]), ctx(seed))
        assert [c.name for c in first.tool_calls] == ["local_retriever"]  # tools off: no web search
    call = SimToolCall("local_retriever", {"query": "q"}, id="c1")
    observed = req(EXECUTOR_SYSTEM, user, SimMessage("assistant", "", tool_calls=(call,)),
                   SimMessage("tool", f"{Q1.answer} is mentioned here", tool_call_id="c1"), tools=["local_retriever"])
    reply = ExecutorPolicy().respond(observed, ctx(accuracy=1.0))
    assert reply.text.startswith(f"Result: {Q1.answer}")
    miss = req(EXECUTOR_SYSTEM, user, SimMessage("assistant", "", tool_calls=(call,)),
               SimMessage("tool", "nothing useful", tool_call_id="c1"), tools=["local_retriever", "web_search"])
    again = ExecutorPolicy().respond(miss, ctx(accuracy=1.0))
    assert [c.name for c in again.tool_calls] == ["web_search"]  # the second search tries the other tool


def _replan(done, system=None, seed=0, **kw):
    user = SimMessage("user", format_replanner_input(Q1.text, ["step"], done))
    return parse_replan(ReplannerPolicy().respond(req(system or replanner_system(), user), ctx(seed, **kw)).text)


def test_replanner_answers_or_distrusts_a_correct_result():
    done = [("step", Q1.answer)]
    assert _replan(done, pe_doubt=0.0) == (Q1.answer, [])
    answer, steps = _replan(done, pe_doubt=1.0)
    assert answer is None and steps[0].startswith(VERIFY_PREFIX)
    # after a verification step, pe_persist decides (not pe_doubt)
    verified = done + [(steps[0], Q1.answer)]
    assert _replan(verified, pe_doubt=1.0, pe_persist=0.0) == (Q1.answer, [])
    assert _replan(verified, pe_doubt=0.0, pe_persist=1.0)[0] is None
    # the strict prompt never lets it answer
    for seed in range(10):
        assert _replan(verified, system=replanner_system(strict=True), seed=seed, pe_doubt=0.0, pe_persist=0.0)[0] is None
    # rates: distrust in about pe_doubt of the draws
    rejected = sum(_replan(done, seed=s, pe_doubt=0.3)[0] is None for s in range(400))
    assert 80 <= rejected <= 160


def test_replanner_replans_missing_hops_then_gives_up_with_the_profiles_failure():
    assert _replan([("step", "not found")])[0] is None
    many = [("step", "not found")] * 4  # 2 * hops + 2 steps done for a 1-hop question
    answer, _ = _replan(many, mix=FailureMix(underspecified=0, wrong=0, empty=1))
    assert answer == ""
    answer, _ = _replan(many, mix=FailureMix(underspecified=0, wrong=1, empty=0))
    assert answer and answer != Q1.answer and WORLD.entity_by_name(answer) is not None


# -- end to end through the runner ---------------------------------------------------------

def _config(tmp_path, **kw):
    body = {"id": "pe", "instances": ["plan_execute"], "backends": [f"sim/{p}" for p in PROFILES], "tools": "both",
            "repeats": 1, "tasks": 1, "time_factor": 0, "workers": 2, "out": str(tmp_path), "timeout_s": 60}
    body.update(kw)
    return study_config_from_dict(body)


@pytest.fixture(scope="module")
def pe_study(tmp_path_factory):
    result = run_study(_config(tmp_path_factory.mktemp("pe")), progress=False)
    return maestro.load_study(result.path)


@pytest.mark.slow
def test_every_profile_with_tools_on_and_off_runs_with_a_sound_span_tree(pe_study):
    runs = pe_study.runs
    assert len(runs) == len(PROFILES) * 2
    check_statuses(runs)
    assert runs.clean.all() and (runs.llm_calls >= 3).all()
    check_span_tree(pe_study, AGENTS)
    # every run planned, executed and replanned at least once, in that order
    for run_id in runs.run_id:
        edges = edge_sequence(pe_study.spans, run_id)
        assert edges[:3] == (("__start__", "planner"), ("planner", "executor"), ("executor", "replanner"))
        assert edges[-1] == ("replanner", "__end__")


@pytest.mark.slow
def test_seeds_vary_the_edge_sequence_and_a_seed_reproduces_its_tree(tmp_path):
    many = maestro.load_study(run_study(_config(tmp_path, id="pe-seeds", backends=["sim/underspecified"], tools=False,
                                                 repeats=20, tasks=1), progress=False).path)
    assert len(many.runs) == 20
    sequences = [edge_sequence(many.spans, r) for r in many.runs.run_id]
    assert len(set(sequences)) >= 2
    again = maestro.load_study(run_study(_config(tmp_path, id="pe-again", backends=["sim/underspecified"], tools=False,
                                                  repeats=3, tasks=1), progress=False).path)
    for run_id in again.runs.run_id:
        assert span_tree(again.spans, run_id) == span_tree(many.spans, run_id), run_id


@pytest.mark.slow
def test_a_replanner_that_never_accepts_loops_until_the_run_cap(tmp_path):
    cfg = _config(tmp_path, id="pe-loop", backends=["sim/strong"], tools=False, tasks=1, timeout_s=4,
                  instance_options={"plan_execute": {"strict_replanner": True}})
    study = maestro.load_study(run_study(cfg, progress=False).path)
    run = study.runs.iloc[0]
    assert run.status == "timeout" and "exceeded 4 s" in run.outcome_reason
    edges = edge_sequence(study.spans, run.run_id)
    loops = sum(e == ("replanner", "executor") for e in edges)
    assert loops >= 2  # round and round until the cap, not an early recursion-limit error
    # the same study with a cap on revisions ends on time with the last result as the answer
    capped = maestro.load_study(run_study(_config(tmp_path, id="pe-capped", backends=["sim/strong"], tools=False, tasks=1,
                                                   timeout_s=30, instance_options={"plan_execute": {
                                                       "strict_replanner": True, "max_replans": 2}}),
                                          progress=False).path).runs.iloc[0]
    assert capped.status in ("success", "failure") and capped.llm_calls >= 4
