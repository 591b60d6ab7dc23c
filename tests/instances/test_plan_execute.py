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
from maestro.sim.policy import SimMessage, SimRequest, SimTool, SimToolCall
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
    good = parse_plan(PlannerPolicy().respond(req(PLANNER_SYSTEM, user), ctx(instruction=1.0)).text)
    assert len(good) == Q3.hops + 1 and WORLD.name(Q3.path[0]) in good[0]
    lazy = parse_plan(PlannerPolicy().respond(req(PLANNER_SYSTEM, user), ctx(instruction=0.0)).text)
    assert len(lazy) == 2 and lazy[0].startswith("Search for")


def _support(q, hop: int = 0) -> str:
    return WORLD.passage(q.support_ids[hop]).text


def test_executor_searches_then_reports_what_it_read_and_never_calls_an_absent_tool():
    step = "find it"
    user = SimMessage("user", format_executor_input(Q1.text, [step], [], step))
    for seed in range(20):
        first = ExecutorPolicy().respond(req(EXECUTOR_SYSTEM, user, tools=["local_retriever"]), ctx(seed))
        assert [c.name for c in first.tool_calls] == ["local_retriever"]  # tools off: no web search
    call = SimToolCall("local_retriever", {"query": "q"}, id="c1")
    observed = req(EXECUTOR_SYSTEM, user, SimMessage("assistant", "", tool_calls=(call,)),
                   SimMessage("tool", _support(Q1), tool_call_id="c1"), tools=["local_retriever"])
    reply = ExecutorPolicy().respond(observed, ctx())
    assert reply.text.startswith(f"Result: {Q1.answer} (the answer to:")
    assert _support(Q1) in reply.text  # it quotes the passage it read
    # a passage merely naming the answer is no evidence: nothing read, nothing known
    call2 = SimToolCall("local_retriever", {"query": "q2"}, id="c2")
    naming = req(EXECUTOR_SYSTEM, user, SimMessage("assistant", "", tool_calls=(call,)),
                 SimMessage("tool", f"{Q1.answer} is mentioned here", tool_call_id="c1"),
                 SimMessage("assistant", "", tool_calls=(call2,)),
                 SimMessage("tool", "nothing else", tool_call_id="c2"), tools=["local_retriever"])
    assert ExecutorPolicy().respond(naming, ctx(calibration=1.0)).text.startswith("Result: not found")
    miss = req(EXECUTOR_SYSTEM, user, SimMessage("assistant", "", tool_calls=(call,)),
               SimMessage("tool", "nothing useful", tool_call_id="c1"), tools=["local_retriever", "web_search"])
    again = ExecutorPolicy().respond(miss, ctx())
    assert [c.name for c in again.tool_calls] == ["web_search"]  # the second search tries the other tool
    # a model that knows the fact reports it without a source (a claim)
    recalled = ExecutorPolicy().respond(naming, ctx(knowledge=1.0)).text
    assert recalled.startswith(f"Result: {Q1.answer} (the answer to:") and "Evidence:" not in recalled


def _replan(done, system=None, seed=0, **kw):
    user = SimMessage("user", format_replanner_input(Q1.text, ["step"], done))
    return parse_replan(ReplannerPolicy().respond(req(system or replanner_system(), user), ctx(seed, **kw)).text)


def _claim(entity: str) -> str:
    from maestro.instances.qa_world import HOP_KINDS

    return f"{entity} (the answer to: {HOP_KINDS[Q1.hop_kinds[0]].question.format(s=WORLD.name(Q1.path[0]))})"


def test_replanner_answers_from_quoted_evidence():
    done = [("step", f"{_claim(Q1.answer)}\nEvidence: {_support(Q1)}")]
    assert _replan(done, calibration=1.0) == (Q1.answer, [])
    # the strict prompt asks for one verification step first, then answers
    answer, steps = _replan(done, system=replanner_system(strict=True))
    assert answer is None and steps[0].startswith(VERIFY_PREFIX)
    assert _replan(done + [(steps[0], done[0][1])], system=replanner_system(strict=True)) == (Q1.answer, [])


def test_replanner_doubts_unsupported_claims_as_calibration_says_and_always_the_same_way():
    done = [("step", _claim(Q1.answer))]  # right, but without a source
    answer, steps = _replan(done, calibration=1.0)
    assert answer is None and steps[0].startswith(VERIFY_PREFIX)
    assert _replan(done, calibration=0.0) == (Q1.answer, [])  # taken on trust
    # the same claim meets the same doubt: a verification that brings nothing new changes nothing
    verified = done + [(steps[0], "not found")]
    assert _replan(verified, calibration=1.0)[0] is None
    # rates: over many claims (entities) about the question, doubted in about calibration of them
    from maestro.instances.qa_world.knowledge import doubts_claim

    names = [e.name for e in WORLD.of_type(Q1.answer_type)]
    doubted = sum(doubts_claim(ctx(calibration=0.3), Q1.text, n) for n in names) / len(names)
    assert doubted == pytest.approx(0.3, abs=0.12)


def test_replanner_replans_missing_hops_then_fails_as_its_capabilities_say():
    assert _replan([("step", "not found")])[0] is None
    many = [("step", "not found")] * 4  # 2 * hops + 2 steps done for a 1-hop question
    answer, _ = _replan(many, calibration=1.0, abstention=1.0)
    assert "cannot determine" in answer
    answer, _ = _replan(many, calibration=0.0)
    assert answer and WORLD.entity_by_name(answer) is not None
    assert _replan(many, knowledge=1.0)[0] == Q1.answer  # what it knows itself fills the gap


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
    # a 3-hop question: a lazy plan, a slip or a doubted claim changes the rounds
    many = maestro.load_study(run_study(_config(tmp_path, id="pe-seeds", backends=["sim/underspecified"], tools=False,
                                                 repeats=10, tasks=3), progress=False).path)
    assert len(many.runs) == 30
    runs = many.runs[many.runs.task_id.str.startswith("qa-h3")]
    sequences = [edge_sequence(many.spans, r) for r in runs.run_id]
    assert len(set(sequences)) >= 2
    again = maestro.load_study(run_study(_config(tmp_path, id="pe-again", backends=["sim/underspecified"], tools=False,
                                                  repeats=3, tasks=3), progress=False).path)
    for run_id in again.runs.run_id:
        assert span_tree(again.spans, run_id) == span_tree(many.spans, run_id), run_id


@pytest.mark.slow
def test_a_replanner_doubting_a_claim_nobody_can_verify_loops_until_the_run_cap(tmp_path):
    """The paper's replanner loop by mechanism: a model that knows every fact (oracle) and
    notices every missing source answers a web-only question with web search off; the
    executor recalls the answer, the replanner doubts the unsupported claim, verification
    cannot reach a source, and the same claim meets the same doubt until the time cap."""
    from maestro.instances.qa_world.tasks import evidence_location

    web_only = next(q for q in WORLD.questions if q.hops == 1 and evidence_location(q) == "web")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(f'{{"id": "web-only", "question": "{web_only.text}", "answer": "{web_only.answer}"}}\n')
    cfg = _config(tmp_path, id="pe-loop", backends=["sim/oracle"], tools=False, tasks=1, timeout_s=4,
                  task_file=str(tasks))
    study = maestro.load_study(run_study(cfg, progress=False).path)
    run = study.runs.iloc[0]
    assert run.status == "timeout" and "exceeded 4 s" in run.outcome_reason
    edges = edge_sequence(study.spans, run.run_id)
    loops = sum(e == ("replanner", "executor") for e in edges)
    assert loops >= 2  # round and round until the cap, not an early recursion-limit error
    # with web search on, verification reads the source and the run answers, right
    on = maestro.load_study(run_study(_config(tmp_path, id="pe-on", backends=["sim/oracle"], tools=True, tasks=1,
                                               timeout_s=30, task_file=str(tasks)), progress=False).path).runs.iloc[0]
    assert on.status == "success" and on.judgement == "correct"
    # with a cap on revisions the loop ends on time, the last claim as the answer
    capped = maestro.load_study(run_study(_config(tmp_path, id="pe-capped", backends=["sim/oracle"], tools=False,
                                                   tasks=1, timeout_s=30, task_file=str(tasks),
                                                   instance_options={"plan_execute": {"max_replans": 2}}),
                                          progress=False).path).runs.iloc[0]
    assert capped.status in ("success", "failure") and capped.llm_calls >= 4
