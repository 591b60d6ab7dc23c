"""The ADK marketing agency: prompts, tool, policies and judge as units, and whole runs
through the study runner against the simulated service over HTTP."""

from __future__ import annotations

import json
import random

import pytest

import maestro
from maestro.instances.marketing import (
    COORDINATOR,
    DOMAIN,
    LOGO,
    SPECIALISTS,
    STRATEGY,
    WEBSITE,
    deliverables_present,
    format_brief,
    judge,
    load_tasks,
    parse_brief,
    render_logo,
)
from maestro.instances.marketing.prompts import INSTRUCTIONS, Brief, sections, slugify
from maestro.instances.marketing.sim_policies import POLICIES, CoordinatorPolicy, SpecialistPolicy, visited_specialists
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, SimTool, SimToolCall

TASK = load_tasks()[0]  # Crumb & Co

KIT = """# Launch kit for Crumb & Co

## Domain options
- crumbandco.com
- getcrumbandco.com
Recommended: crumbandco.com

## Website
Headline: Crumb & Co: gluten-free pastries
Pages: Home, About, Shop, Contact
Call to action: Order today

## Marketing strategy
Audience: young families
Positioning: the simplest way to get gluten-free pastries
Channels: Instagram, local press, email newsletter
Launch plan: four weeks on Instagram

## Logo
Concept: a badge carrying the name Crumb & Co
Palette: #C2562E, #F4E3C1
File: logo-crumb-co-0123456789ab.svg"""


def _without(kit: str, heading: str) -> str:
    blocks = kit.split("\n\n")
    return "\n\n".join(b for b in blocks if not b.startswith(heading))


@pytest.mark.parametrize(
    "answer, judgement, reason_part",
    [
        pytest.param(KIT, "correct", "deliverables 4/4; logo file cited", id="complete"),
        pytest.param(KIT.replace("\nFile: logo-crumb-co-0123456789ab.svg", ""), "correct", "logo file not cited",
                     id="tools-off-no-file"),
        pytest.param(_without(KIT, "## Logo"), "wrong", "missing or incomplete: logo", id="no-logo"),
        pytest.param(KIT.replace("Pages: Home, About, Shop, Contact", "Pages: Home"), "wrong", "website", id="too-few-pages"),
        pytest.param(KIT.replace("Channels: Instagram, local press, email newsletter\n", ""), "wrong", "strategy",
                     id="no-channels"),
        pytest.param(KIT.replace("crumbandco", "northwindgoods"), "wrong", "domain", id="domains-for-another-brand"),
        pytest.param(KIT.replace("Crumb & Co", "Northwind Goods"), "wrong", "not named", id="wrong-business"),
        pytest.param("# Launch kit for Crumb & Co\n\nThe team has prepared what the brief asked for.", "wrong",
                     "deliverables 0/4", id="underspecified"),
        pytest.param("", "wrong", "empty answer", id="empty"),
        pytest.param(None, "wrong", "empty answer", id="none"),
    ],
)
def test_judge(answer, judgement, reason_part):
    result = judge(TASK, answer)
    assert result.judgement == judgement and reason_part in result.reason


def test_deliverables_read_through_adk_quoting():
    # ADK quotes other agents as "[agent] said: ..." between fence markers
    quoted = ("<<<BEGIN_QUOTED_AGENT_CONTENT>>>\n[domain_create_agent] said: ## Domain options\n- crumbandco.com\n"
              "Recommended: crumbandco.com\n<<<END_QUOTED_AGENT_CONTENT>>>")
    assert sections(quoted) == {DOMAIN: "- crumbandco.com\nRecommended: crumbandco.com"}
    assert deliverables_present(quoted, "Crumb & Co")[DOMAIN]


def test_brief_round_trip_and_tasks():
    b = Brief("Crumb & Co", "pastries", "families", "Lisbon", "grow")
    parsed = parse_brief("For context: ...\n" + format_brief(b))
    assert (parsed.business, parsed.product, parsed.audience, parsed.location, parsed.goal) == (
        "Crumb & Co", "pastries", "families", "Lisbon", "grow")
    assert slugify("Crumb & Co") == "crumbandco" and parse_brief("no brief here") is None
    tasks = load_tasks()
    assert len(tasks) == 6 and len({t.task_id for t in tasks}) == 6
    assert [t.task_id for t in load_tasks(n=2, seed=1)] == [t.task_id for t in load_tasks(n=2, seed=1)]
    assert all(parse_brief(t.question).business == t.meta["business"] for t in tasks)


def test_task_file(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "business": "Zed Bikes", "product": "e-bikes"}\n{"id": "b", "question": "Business: Q"}\n')
    tasks = load_tasks(source=str(f))
    assert [(t.task_id, t.meta["business"]) for t in tasks] == [("a", "Zed Bikes"), ("b", "Q")]
    f.write_text('{"id": "c", "question": "no brief"}\n')
    with pytest.raises(ValueError, match="'c'.*Business"):
        load_tasks(source=str(f))


def test_render_logo_is_deterministic():
    a = render_logo("Crumb & Co", "badge", "warm")
    assert a == render_logo("Crumb & Co", "badge", "warm")
    assert a["file"].startswith("logo-crumb-co-") and a["file"].endswith(".svg") and a["colours"] == ["#C2562E", "#F4E3C1"]
    assert render_logo("Crumb & Co", "emblem", "#111111 #EEEEEE")["colours"] == ["#111111", "#EEEEEE"]
    assert render_logo("Crumb & Co", "badge", "ocean")["file"] != a["file"]


# --- policies ----------------------------------------------------------------------------

TRANSFER_TOOL = SimTool("transfer_to_agent", "", {"type": "object"})
LOGO_TOOL = SimTool("render_logo", "", {"type": "object"})


def _ctx(accuracy=1.0, mix=FailureMix(), verbosity=1.0, seed=0):
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy, failure_mix=mix, verbosity=verbosity)


def _req(agent, messages=(), tools=(TRANSFER_TOOL,)):
    system = SimMessage("system", INSTRUCTIONS[agent])
    return SimRequest("gemini", "m", (system, SimMessage("user", TASK.question), *messages), tools=tools)


def test_every_role_has_exactly_one_policy():
    for agent in (COORDINATOR, *SPECIALISTS):
        assert len([p for p in POLICIES if p.matches(_req(agent))]) == 1


def test_coordinator_routes_to_the_first_missing_specialist_then_compiles():
    pol = CoordinatorPolicy()
    first = pol.respond(_req(COORDINATOR), _ctx())
    assert first.tool_calls == (SimToolCall("transfer_to_agent", {"agent_name": DOMAIN}),)
    done = SimMessage("user", KIT.split("## Website")[0])  # domain section only
    nxt = pol.respond(_req(COORDINATOR, (done,)), _ctx())
    assert nxt.tool_calls[0].arguments == {"agent_name": WEBSITE}
    # a visited specialist that wrote nothing is not asked again
    visited = SimMessage("assistant", "", (SimToolCall("transfer_to_agent", {"agent_name": WEBSITE}),))
    assert pol.respond(_req(COORDINATOR, (done, visited)), _ctx()).tool_calls[0].arguments == {"agent_name": STRATEGY}
    final = pol.respond(_req(COORDINATOR, (SimMessage("user", KIT),)), _ctx())
    assert not final.tool_calls and judge(TASK, final.text).judgement == "correct"


def test_visited_specialists_reads_calls_and_quotes():
    req = _req(COORDINATOR, (SimMessage("user", "[logo_create_agent] said: nothing"),
                             SimMessage("assistant", "", (SimToolCall("transfer_to_agent", {"agent_name": DOMAIN}),))))
    assert visited_specialists(req) == {LOGO, DOMAIN}


@pytest.mark.parametrize("agent", SPECIALISTS)
def test_specialists_write_their_section_and_hand_back(agent):
    reply = SpecialistPolicy(name="x", marker="", agent=agent).respond(_req(agent), _ctx())
    assert reply.tool_calls == (SimToolCall("transfer_to_agent", {"agent_name": COORDINATOR}),)
    assert deliverables_present(f"# Launch kit for Crumb & Co\n\n{reply.text}", "Crumb & Co")[agent]


def test_logo_designer_calls_the_tool_when_offered_and_cites_the_file():
    pol = SpecialistPolicy(name="x", marker="", agent=LOGO)
    first = pol.respond(_req(LOGO, tools=(TRANSFER_TOOL, LOGO_TOOL)), _ctx())
    (call,) = first.tool_calls
    assert call.name == "render_logo" and call.arguments["business"] == "Crumb & Co"
    result = render_logo(**call.arguments)
    tool_msg = SimMessage("tool", json.dumps(result), name="render_logo")
    second = pol.respond(_req(LOGO, (SimMessage("assistant", "", (call,)), tool_msg), tools=(TRANSFER_TOOL, LOGO_TOOL)), _ctx())
    assert f"File: {result['file']}" in second.text and second.tool_calls[0].name == "transfer_to_agent"


@pytest.mark.parametrize(
    "mix, check",
    [
        pytest.param(FailureMix(0, 0, 1), lambda t: t == "", id="empty"),
        pytest.param(FailureMix(1, 0, 0), lambda t: "Something that fits" in t, id="underspecified"),
        pytest.param(FailureMix(0, 1, 0), lambda t: "Crumb" not in t and "Pages:" in t, id="wrong-business"),
    ],
)
def test_failure_modes_follow_the_profile(mix, check):
    pol = SpecialistPolicy(name="x", marker="", agent=WEBSITE)
    replies = [pol.respond(_req(WEBSITE), _ctx(accuracy=0.0, mix=mix, seed=s)) for s in range(40)]
    failed = [r for r in replies if check(r.text)]
    # at accuracy 0 a role fails half the time, always in the profile's way; the rest are fine
    assert 10 <= len(failed) <= 30
    good = [r for r in replies if not check(r.text)]
    assert all(deliverables_present(f"Crumb & Co\n{r.text}", "Crumb & Co")[WEBSITE] for r in good)
    assert all(r.tool_calls[0].name == "transfer_to_agent" for r in replies)  # always hands back


# --- whole runs ------------------------------------------------------------------------------

PROFILES = ["strong", "abstaining", "flaky", "verbose", "underspecified", "confabulating", "oracle"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("marketing")
    config = study_config_from_dict({
        "id": "mk", "instances": ["marketing"], "backends": [f"sim/{p}" for p in PROFILES], "tools": "both",
        "repeats": 1, "tasks": 1, "time_factor": 0, "workers": 2, "out": str(out), "timeout_s": 120,
    })
    result = run_study(config, progress=False)
    return maestro.load_study(result.path)


@pytest.mark.slow
def test_every_profile_runs_without_crashing(study):
    runs = study.runs
    assert len(runs) == 2 * len(PROFILES)
    # flaky may exhaust its retries: an exception naming the backend, never a crash
    assert set(runs.status) <= {"success", "failure", "exception"}, runs[["backend", "status", "outcome_reason"]]
    assert (runs[runs.status == "exception"].backend == "sim/flaky").all()
    assert runs.clean.all() and (runs.framework == "adk").all() and runs.simulated.all()
    assert set(runs.judgement) <= {"correct", "wrong"}
    oracle = runs[runs.backend == "sim/oracle"]
    assert (oracle.judgement == "correct").all() and (oracle.status == "success").all()


@pytest.mark.slow
def test_runs_have_one_trace_handoff_edges_and_tool_spans(study):
    spans, runs = study.spans, study.runs
    for r in runs.itertuples():
        s = spans[spans.run_id == r.run_id]
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        root = s[s.parent_span_id.isna()].span_id.iloc[0]
        edges = set(zip(s[s.span_type == "message"].message_source, s[s.span_type == "message"].message_target))
        assert ("__start__", COORDINATOR) in edges
        agents = s[s.span_type == "agent"]
        # every turn (transferred-to ones included) sits directly under the run root
        assert (agents.parent_span_id == root).all()
        llm = s[s.span_type == "llm"]
        assert len(llm) == r.llm_calls and (llm.provider == "maestro.sim").all() and (llm.input_tokens > 0).all()
        if r.status == "success":
            assert {(COORDINATOR, a) for a in SPECIALISTS} <= edges
            assert (COORDINATOR, "__end__") in edges
        tools = s[s.span_type == "tool"]
        assert set(tools.tool_name) <= {"render_logo"}
        if r.tools_enabled and r.status == "success":
            assert len(tools) == 1 and tools.tool_call_id.iloc[0]
        if not r.tools_enabled:
            assert tools.empty


@pytest.mark.slow
def test_flaky_retries_are_one_llm_span_with_several_attempts(study):
    spans = study.spans
    flaky = spans[(spans.backend == "sim/flaky") & (spans.span_type == "llm")]
    assert (flaky.http_attempts >= 1).all()
    assert flaky.http_attempts.sum() > len(flaky)  # at least one retried call, still one span


def test_abstaining_profile_fails_mostly_empty():
    """The abstaining profile's failures follow from its capabilities: it notices what it
    lacks and says nothing rather than hedging or inventing (derived failure mix)."""
    from maestro.instances.marketing.sim_policies import _fails
    from maestro.sim.profiles import get_profile

    p = get_profile("abstaining")
    modes = [_fails(PolicyContext(rng=random.Random(s), profile_name=p.name, accuracy=p.accuracy,
                                  failure_mix=p.failure_mix, verbosity=p.verbosity)) for s in range(2000)]
    failed = [m for m in modes if m is not None]
    assert len(failed) / len(modes) == pytest.approx((1 - p.reasoning) / 2, abs=0.03)
    assert failed.count("empty") / len(failed) == pytest.approx(p.calibration * p.abstention, abs=0.08)
