"""Travel Planning: tasks, judge, sim policies, and a 20-repeat study through the runner
whose call graphs are identical (Jaccard and LCS 1.0, as the paper reports)."""

from __future__ import annotations

import itertools
import random

import pytest

import maestro
from maestro.contract import Task
from maestro.instances.travel_planning import (
    AGENT_NAMES,
    SYSTEM_PROMPTS,
    TERMINATE,
    format_request,
    judge,
    load_tasks,
    parse_request,
    strip_terminate,
)
from maestro.instances.travel_planning.prompts import day_numbers
from maestro.instances.travel_planning.sim_policies import POLICIES
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest

# -- call-graph similarity (small, local: the analysis module may not exist yet) -------------


def jaccard(a: set, b: set) -> float:
    """|a & b| / |a | b| (1.0 for two empty sets)."""
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def lcs_similarity(a: list, b: list) -> float:
    """Length of the longest common subsequence over the longer length (1.0 for two empty)."""
    if not a and not b:
        return 1.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1] / max(len(a), len(b))


def test_similarity_helpers_on_hand_computed_cases():
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3) and jaccard(set(), set()) == 1.0
    assert lcs_similarity(list("abcd"), list("acbd")) == 0.75 and lcs_similarity(list("ab"), list("ab")) == 1.0


# -- tasks and judge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("Please plan a 3-day trip to Lisbon.", (3, "Lisbon"), id="simple"),
        pytest.param("A 4-day trip to Buenos Aires, please", (4, "Buenos Aires"), id="two-words"),
        pytest.param("Plan a trip to Rome", None, id="no-days"),
    ],
)
def test_parse_request(text, expected):
    assert parse_request(text) == expected


def test_bundled_tasks_are_parseable_and_sampling_is_seeded(tmp_path):
    tasks = load_tasks()
    assert len(tasks) == 8 and len({t.task_id for t in tasks}) == 8
    for t in tasks:
        assert parse_request(t.question) == (t.meta["days"], t.meta["destination"])
        assert t.gold == f"{t.meta['days']} days in {t.meta['destination']}"
    assert load_tasks(n=3, seed=1) == load_tasks(n=3, seed=1) and len(load_tasks(n=3, seed=1)) == 3
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "x", "question": "Please plan a 2-day trip to Oslo."}\n{"id": "y"}\n')
    with pytest.raises(ValueError, match="t.jsonl:2"):
        load_tasks(source=str(f))


def _task(days=3, dest="Lisbon"):
    return Task("t", format_request(days, dest), f"{days} days in {dest}", {"days": days, "destination": dest})


@pytest.mark.parametrize(
    "answer, judgement, reason_part",
    [
        pytest.param("Trip to Lisbon\nDay 1: a\nDay 2: b\nDay 3: c", "correct", "covered", id="complete"),
        pytest.param("Lisbon\n**Day 1**: a\n- Day 2: b\nDay 3 - c", "correct", "covered", id="markdown-days"),
        pytest.param("The city\nDay 1: a\nDay 2: b\nDay 3: c", "wrong", "not named", id="no-destination"),
        pytest.param("Lisbon\nDay 1: a\nDay 3: c", "wrong", "missing day 2", id="missing-day"),
        pytest.param("Lisbon\nDay 1\nDay 2\nDay 3\nDay 4", "wrong", "extra day 4", id="extra-day"),
        pytest.param("", "wrong", "no itinerary", id="empty"),
        pytest.param(None, "wrong", "no itinerary", id="none"),
    ],
)
def test_judge(answer, judgement, reason_part):
    res = judge(_task(), answer)
    assert res.judgement == judgement and reason_part in res.reason


def test_judge_without_task_facts_is_unknown():
    assert judge(Task("t", "anything"), "Day 1").judgement == "unknown"


def test_strip_terminate_and_day_numbers():
    assert strip_terminate("Plan\nDay 1: x\nTERMINATE") == "Plan\nDay 1: x" and strip_terminate(None) == ""
    assert day_numbers("intro\nDay 1: a\n  day 2 b\nnot Day 3") == [1, 2]


# -- sim policies ---------------------------------------------------------------------------------


def _request(role: str, question: str) -> SimRequest:
    return SimRequest(protocol="openai", model="m", messages=(SimMessage("system", SYSTEM_PROMPTS[role]),
                                                               SimMessage("user", question)))


def _ctx(seed=0, accuracy=1.0, verbosity=1.0, mix=FailureMix()):
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy, failure_mix=mix,
                         verbosity=verbosity)


def _reply(role, question, **kw):
    request = _request(role, question)
    matching = [p for p in POLICIES if p.matches(request)]
    assert len(matching) == 1  # each role prompt is matched by its own policy only
    return matching[0].respond(request, _ctx(**kw)).text


def test_each_role_answers_in_character_and_verbosity_lengthens():
    q = format_request(4, "Nepal")
    assert day_numbers(_reply("planner_agent", q)) == [1, 2, 3, 4]
    assert "Nepal" in _reply("local_agent", q) and "Nepal" in _reply("language_agent", q)
    for role in AGENT_NAMES[:3]:
        assert TERMINATE not in _reply(role, q)
        assert len(_reply(role, q, verbosity=2.5)) > len(_reply(role, q, verbosity=1.0))
    summary = _reply("travel_summary_agent", q)
    assert summary.endswith(TERMINATE) and judge(_task(4, "Nepal"), strip_terminate(summary)).judgement == "correct"


@pytest.mark.parametrize(
    "mix, judgement, reason_part",
    [
        pytest.param(FailureMix(underspecified=1, wrong=0, empty=0), "wrong", "not named", id="underspecified"),
        pytest.param(FailureMix(underspecified=0, wrong=1, empty=0), "wrong", "missing day 4", id="wrong-days"),
        pytest.param(FailureMix(underspecified=0, wrong=0, empty=1), "wrong", "no itinerary", id="empty"),
    ],
)
def test_summary_failures_still_terminate(mix, judgement, reason_part):
    text = _reply("travel_summary_agent", format_request(4, "Nepal"), accuracy=0.0, mix=mix)
    assert text.endswith(TERMINATE)
    res = judge(_task(4, "Nepal"), strip_terminate(text))
    assert res.judgement == judgement and reason_part in res.reason


# -- 20 repeats through the runner -------------------------------------------------------------------

REPEATS = 20
EXPECTED_EDGES = [("__start__", "planner_agent"), ("planner_agent", "local_agent"), ("local_agent", "language_agent"),
                  ("language_agent", "travel_summary_agent"), ("travel_summary_agent", "__end__")]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("travel")
    cfg = study_config_from_dict({"id": "travel-t", "instances": ["travel_planning"], "backends": ["sim/verbose"],
                                  "tools": False, "repeats": REPEATS, "tasks": 1, "time_factor": 0, "workers": 2,
                                  "out": str(tmp), "timeout_s": 120})
    result = run_study(cfg, progress=False)
    return result, maestro.load_study(result.path)


@pytest.mark.slow
def test_twenty_repeats_have_identical_call_graphs(study):
    result, st = study
    runs, spans = st.runs, st.spans
    assert result.executed == REPEATS == len(runs) and runs.seed.nunique() == REPEATS
    assert (runs.status == "success").all() and runs.clean.all() and (runs.agent_turns == 4).all()
    assert (runs.llm_calls == 4).all() and (runs.tool_calls == 0).all() and (runs.input_tokens > 0).all()
    # Exactly our spans: root + 4 turns + 4 model calls + 5 edges; AutoGen's own runtime spans
    # (global tracer provider) never enter the run's trace.
    assert (runs.spans_written == 14).all() and set(spans.span_type) == {"run", "agent", "llm", "message"}
    sequences = {}
    for run_id, s in spans.groupby("run_id"):
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        m = s[s.span_type == "message"].sort_values(["start_time_ns", "name"])
        sequences[run_id] = list(zip(m.message_source, m.message_target))
        agents = s[s.span_type == "agent"].sort_values("start_time_ns")
        assert list(agents.agent_name) == list(AGENT_NAMES)
    assert all(seq == EXPECTED_EDGES for seq in sequences.values())
    pairs = list(itertools.combinations(sequences.values(), 2))
    assert len(pairs) == REPEATS * (REPEATS - 1) // 2
    assert all(jaccard(set(a), set(b)) == 1.0 for a, b in pairs)
    assert all(lcs_similarity(a, b) == 1.0 for a, b in pairs)
    # Different seeds, different simulated text: the stability is structural, not a replay.
    assert runs.output_tokens.nunique() > 1


def test_an_agent_error_is_one_line_naming_the_original_error():
    """AutoGen re-raises an agent's error with the remote traceback in the message; the
    run's reason keeps one line naming the original error (the traceback goes to ``error``)."""
    from maestro.backends import resolve_endpoint
    from maestro.contract import RunContext
    from maestro.instances.travel_planning.instance import TravelPlanningInstance
    from maestro.runner.record import exception_reason

    ep = resolve_endpoint("openai/gpt-4o-mini", env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    ctx = RunContext(endpoint=ep, tools_enabled=False, seed=0, timeout_s=10, options={"max_retries": 0})
    inst = TravelPlanningInstance()
    task = load_tasks(n=1, seed=0)[0]
    with pytest.raises(RuntimeError) as info:
        inst.run(inst.build(ctx), task, ctx)
    assert "Traceback" in str(info.value)  # what AutoGen raises
    assert exception_reason(info.value) == "RuntimeError: APIConnectionError: Connection error."