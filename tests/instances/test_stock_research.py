"""Stock Research (AutoGen Swarm): the bundled market and its tools, tasks, the judge by
hand, the report readers, the simulated policies as units, and whole runs through the study
runner on the simulated service (tools on and off)."""

from __future__ import annotations

import json
import random

import pytest

import maestro
from maestro.contract import Task
from maestro.instances.stock_research import (
    AGENT_NAMES,
    OPTIONS,
    TERMINATE,
    facts,
    format_question,
    generate_market,
    get_news,
    get_stock_data,
    judge,
    load_market,
    load_tasks,
    parse_ticker,
    system_prompt,
)
from maestro.instances.stock_research.market import DEFAULT_SEED, MIN_CHANGE_PCT, dump_market, tickers
from maestro.instances.stock_research.prompts import FINANCIAL, NEWS, PLANNER, WRITER
from maestro.instances.stock_research.report import headline_named, stated_change, stated_close, stated_headline
from maestro.instances.stock_research.sim_policies import POLICIES, PlannerPolicy, WriterPolicy
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, SimTool, SimToolCall

DATA_TOOLS = {"get_stock_data", "get_news"}

# --- the market and its tools --------------------------------------------------------------


def test_bundled_market_is_the_seeded_generator_output():
    from importlib import resources

    text = resources.files("maestro.instances.stock_research").joinpath("market.json").read_text(encoding="utf-8")
    assert text == dump_market(generate_market(DEFAULT_SEED))  # regenerate with market.main()
    assert generate_market(7) == generate_market(7) and generate_market(7) != generate_market(DEFAULT_SEED)


def test_market_facts_are_unambiguous():
    ts = tickers()
    assert len(ts) == 6 and "fictional" in load_market()["about"].lower()
    for i, t in enumerate(ts):
        f = facts(t)
        assert abs(f["change_pct"]) >= MIN_CHANGE_PCT and (f["change_pct"] > 0) == (i % 2 == 0)
        dates = [n["date"] for n in load_market()["tickers"][t]["news"]]
        assert len(set(dates)) == len(dates) and f["headline_date"] == max(dates)


def test_tools_return_json_the_facts_can_be_read_from():
    f = facts("cyvo")  # case-insensitive
    stock = json.loads(get_stock_data("$CYVO"))
    assert stock["ticker"] == "CYVO" and stock["company"] == f["company"] and len(stock["sessions"]) == 10
    closes = [r["close"] for r in stock["sessions"]]
    assert closes[-1] == f["close"] and closes[-6] == f["close_5d_ago"]
    assert stock["sessions"][-1]["date"] == f["as_of"]
    articles = json.loads(get_news("CYVO"))["articles"]
    assert articles[0]["headline"] == f["headline"] and [a["date"] for a in articles] == sorted(
        (a["date"] for a in articles), reverse=True)
    assert "error" in json.loads(get_stock_data("ZZZZ")) and "error" in json.loads(get_news(""))


# --- tasks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ticker",
    [
        pytest.param("Write a short report on AQRX: last close", "AQRX", id="on"),
        pytest.param("Conduct market research for BLNQ stock", "BLNQ", id="for"),
        pytest.param("How is $CYVO doing in USD terms?", "CYVO", id="dollar"),
        pytest.param("USD moves: what about DRMZ?", "DRMZ", id="bare-caps"),
        pytest.param("no ticker here", None, id="none"),
    ],
)
def test_parse_ticker(text, ticker):
    assert parse_ticker(text) == ticker


def test_bundled_tasks_load_and_sampling_is_seeded(tmp_path):
    tasks = load_tasks()
    assert len(tasks) == 6 and len({t.task_id for t in tasks}) == 6
    for i, t in enumerate(tasks):
        assert parse_ticker(t.question) == t.meta["ticker"] and t.question == format_question(t.meta["ticker"], i)
        assert f"{t.meta['close']:.2f}" in t.gold and t.meta["headline"] in t.gold
    assert load_tasks(n=2, seed=1) == load_tasks(n=2, seed=1) and len(load_tasks(n=2, seed=1)) == 2
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "question": "Brief me on EXLW please."}\n{"id": "b", "question": "x", "ticker": "fnqt"}\n')
    assert [(t.task_id, t.meta["ticker"]) for t in load_tasks(source=str(f))] == [("a", "EXLW"), ("b", "FNQT")]
    f.write_text('{"id": "c", "question": "Report on MSFT."}\n')
    with pytest.raises(ValueError, match="t.jsonl:1.*'MSFT' is not in the bundled market.*AQRX"):
        load_tasks(source=str(f))


# --- the judge, by hand ---------------------------------------------------------------------

TASK = load_tasks()[0]  # AQRX: close 44.73, 5-day change +3.52%, latest headline below
HEADLINE = "Aquarex Biosystems raises full-year outlook on lower input costs"
OLDER = "Analysts at Kestrel Capital upgrade Aquarex Biosystems to buy"


def test_the_hand_written_reports_match_the_data():
    assert (TASK.meta["ticker"], TASK.meta["close"], TASK.meta["change_pct"], TASK.meta["headline"]) == (
        "AQRX", 44.73, 3.52, HEADLINE)
    assert OLDER in [n["headline"] for n in load_market()["tickers"]["AQRX"]["news"]]


CORRECT = (f"Aquarex Biosystems (AQRX) closed at $44.73 on 11 April 2025. Over the past five trading days the "
           f"shares gained 3.5%. The latest headline: '{HEADLINE}'.")


@pytest.mark.parametrize(
    "answer, judgement, score, reason_part",
    [
        pytest.param(CORRECT, "correct", 1.0, "close 44.73 matches 44.73", id="prose"),
        pytest.param(f"# AQRX\n- Last close (2025-04-11): $44.70\n- 5-day change: +3.52%\n- Latest headline: {HEADLINE}",
                     "correct", 1.0, "has the sign of +3.52%", id="list-date-before-price"),
        pytest.param(f"AQRX last closed at 44.7 dollars, up 3% over the past week. News: {HEADLINE.upper()}.",
                     "correct", 1.0, "headline named", id="rounded-and-shouted"),
        pytest.param(CORRECT.replace("$44.73", "$45"), "wrong", 2 / 3, "close 45 is not 44.73", id="rounded-too-far"),
        pytest.param(CORRECT.replace("$44.73", "$44.39"), "wrong", 2 / 3, "close 44.39 is not 44.73", id="wrong-close"),
        pytest.param(CORRECT.replace("gained 3.5%", "fell 3.5%"), "wrong", 2 / 3, "lacks the sign", id="wrong-sign"),
        pytest.param(CORRECT.replace(HEADLINE, OLDER), "wrong", 2 / 3, "headline not named", id="older-headline"),
        pytest.param("AQRX is a promising stock with active news flow.", "wrong", 0.0, "no last close stated",
                     id="no-figures"),
        pytest.param("", "wrong", 0.0, "no report", id="empty"),
        pytest.param(None, "wrong", 0.0, "no report", id="none"),
    ],
)
def test_judge(answer, judgement, score, reason_part):
    res = judge(TASK, answer)
    assert res.judgement == judgement and res.score == pytest.approx(score) and reason_part in res.reason


def test_judge_without_facts_is_unjudged():
    assert judge(Task("t", "Write a report on AQRX."), CORRECT).judgement == "unjudged"


@pytest.mark.parametrize(
    "text, close, change",
    [
        pytest.param("Last close: $1,204.50 on 2025-04-11. 5-day change: -2.1%", 1204.5, -2.1, id="list"),
        pytest.param("It closed at 12.30. It lost 4% over the last 5 trading days.", 12.3, -4.0, id="words"),
        pytest.param("Over the last five sessions it rose 1.2% (the close was 8.10).", 8.1, 1.2, id="reversed"),
        pytest.param("The 5-day change was 0.8%; latest close on 2025-04-11 was $30", 30.0, 0.8, id="unsigned"),
        pytest.param("Nothing to report.", None, None, id="nothing"),
    ],
)
def test_report_readers(text, close, change):
    assert stated_close(text) == close and stated_change(text) == change


def test_headline_readers():
    assert stated_headline('The latest headline is "Foo Corp wins big deal" (2025-04-01).') == "Foo Corp wins big deal"
    assert headline_named("Aquarex raised its full-year outlook thanks to lower input costs", HEADLINE, "Aquarex Biosystems")
    assert not headline_named("Aquarex Biosystems news", HEADLINE, "Aquarex Biosystems")


# --- sim policies ---------------------------------------------------------------------------------


def _ctx(seed=0, accuracy=1.0, mix=FailureMix(), verbosity=1.0):
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy, failure_mix=mix,
                         verbosity=verbosity)


def _handoffs(agent):
    targets = {PLANNER: (FINANCIAL, NEWS, WRITER)}.get(agent, (PLANNER,))
    return tuple(SimTool(f"transfer_to_{t}", "", {"type": "object", "properties": {}}) for t in targets)


def _req(agent, messages=(), tools_enabled=True):
    tools = _handoffs(agent)
    if tools_enabled and agent in (FINANCIAL, NEWS):
        tools += (SimTool("get_stock_data" if agent == FINANCIAL else "get_news", "", {"type": "object"}),)
    return SimRequest("openai", "m", (SimMessage("system", system_prompt(agent, tools_enabled)),
                                      SimMessage("user", TASK.question, name="user"), *messages), tools=tools)


def _policy(request):
    matching = [p for p in POLICIES if p.matches(request)]
    assert len(matching) == 1
    return matching[0]


def _targets(reply):
    return [c.name.removeprefix("transfer_to_") for c in reply.tool_calls if c.name.startswith("transfer_to_")]


def test_every_role_has_exactly_one_policy():
    for agent in AGENT_NAMES:
        for on in (True, False):
            _policy(_req(agent, tools_enabled=on))


def test_planner_delegates_one_at_a_time_then_writer_then_terminates():
    first = PlannerPolicy().respond(_req(PLANNER), _ctx())
    (a,) = _targets(first)
    assert a in (FINANCIAL, NEWS) and "Plan for AQRX" in first.text
    back = (SimMessage("assistant", "", (SimToolCall(f"transfer_to_{a}", {}),)),
            SimMessage("user", "Transferred to planner.", name=a))
    (b,) = _targets(PlannerPolicy().respond(_req(PLANNER, back), _ctx()))
    assert {a, b} == {FINANCIAL, NEWS}
    both = back + (SimMessage("user", "Transferred to planner.", name=b),)
    assert _targets(PlannerPolicy().respond(_req(PLANNER, both), _ctx())) == [WRITER]
    done = both + (SimMessage("user", "Transferred to planner.", name=WRITER),)
    final = PlannerPolicy().respond(_req(PLANNER, done), _ctx())
    assert final.text.endswith(TERMINATE) and not final.tool_calls


def test_analysts_call_their_tool_then_report_what_it_shows():
    for agent, tool, fn in ((FINANCIAL, "get_stock_data", get_stock_data), (NEWS, "get_news", get_news)):
        first = _policy(_req(agent)).respond(_req(agent), _ctx())
        assert first.tool_calls == (SimToolCall(tool, {"ticker": "AQRX"}),)
        result = (SimMessage("assistant", "", first.tool_calls), SimMessage("tool", fn("AQRX"), name=tool))
        note = _policy(_req(agent)).respond(_req(agent, result), _ctx())
        assert _targets(note) == [PLANNER]
        if agent == FINANCIAL:
            assert stated_close(note.text) == 44.73 and stated_change(note.text) == 3.52
        else:
            assert stated_headline(note.text) == HEADLINE


@pytest.mark.parametrize(
    "mix, check",
    [
        pytest.param(FailureMix(0, 1, 0), lambda t: stated_close(t) is not None and stated_close(t) != 44.73,
                     id="confabulated"),
        pytest.param(FailureMix(1, 0, 0), lambda t: stated_close(t) is None and "do not have" in t, id="vague"),
        pytest.param(FailureMix(0, 0, 1), lambda t: t == "", id="empty"),
    ],
)
def test_analysts_without_tools_answer_in_the_profiles_failure_mix(mix, check):
    for seed in range(5):
        reply = _policy(_req(FINANCIAL, tools_enabled=False)).respond(_req(FINANCIAL, tools_enabled=False),
                                                                      _ctx(seed=seed, mix=mix))
        assert check(reply.text) and _targets(reply) == [PLANNER]


def _relayed(payload_json, name):
    return SimMessage("user", payload_json, name=name)


def test_writer_reads_its_context_not_the_data_set():
    # A doctored tool result: the writer reports what its context shows, even when it is not the data set's.
    doctored = json.loads(get_stock_data("AQRX"))
    doctored["sessions"][-1]["close"] = 99.99
    ctx_msgs = (_relayed(json.dumps(doctored), FINANCIAL), _relayed(get_news("AQRX"), NEWS),
                SimMessage("user", "Transferred to writer.", name=PLANNER))
    report = WriterPolicy().respond(_req(WRITER, ctx_msgs), _ctx()).text
    assert stated_close(report) == 99.99 and headline_named(report, HEADLINE)
    honest = (_relayed(get_stock_data("AQRX"), FINANCIAL),) + ctx_msgs[1:]
    report = WriterPolicy().respond(_req(WRITER, honest), _ctx()).text
    assert judge(TASK, report).judgement == "correct"
    # its next call (own report last) hands back to the planner
    again = WriterPolicy().respond(_req(WRITER, honest + (SimMessage("assistant", report),)), _ctx())
    assert _targets(again) == [PLANNER]


def test_writer_relays_notes_and_fails_in_the_profiles_way():
    notes = (SimMessage("assistant", "From what I know, AQRX last closed at about $120.00. Over the last five trading "
                                     "days it fell about 2.0%."),
             SimMessage("user", "Transferred to writer.", name=PLANNER))
    report = WriterPolicy().respond(_req(WRITER, notes), _ctx()).text
    assert stated_close(report) == 120.0 and stated_change(report) == -2.0
    data = (_relayed(get_stock_data("AQRX"), FINANCIAL), _relayed(get_news("AQRX"), NEWS))
    misread = WriterPolicy().respond(_req(WRITER, data), _ctx(accuracy=0.0, mix=FailureMix(0, 1, 0))).text
    assert stated_close(misread) != 44.73 and judge(TASK, misread).judgement == "wrong"
    vague = WriterPolicy().respond(_req(WRITER, data), _ctx(accuracy=0.0, mix=FailureMix(1, 0, 0))).text
    assert stated_close(vague) is None and judge(TASK, vague).judgement == "wrong"
    assert WriterPolicy().respond(_req(WRITER, data), _ctx(accuracy=0.0, mix=FailureMix(0, 0, 1))).text == ""


# --- the instance ---------------------------------------------------------------------------------


def test_instance_row_and_options():
    from maestro.contract import resolve_options
    from maestro.instances import get_instance

    inst = get_instance("stock_research")
    info = inst.info
    assert (info.name, info.app_field, info.framework, info.interaction, info.n_agents, info.n_tools, info.data_in,
            info.data_out, info.suites) == ("stock_research", "Finance", "autogen", "Coordination", 4, 2, "Artifacts",
                                            "Open-End", "F")
    assert inst.options == OPTIONS
    assert resolve_options(OPTIONS, {}) == {"max_messages": 40, "temperature": 0.0, "max_retries": 3,
                                            "request_timeout_s": 120.0}


def test_final_report_is_the_writers_last_text():
    from autogen_agentchat.messages import TextMessage, ThoughtEvent

    from maestro.instances.stock_research import final_report

    msgs = [TextMessage(content="q", source="user"), TextMessage(content="draft", source=WRITER),
            ThoughtEvent(content="report v2", source=WRITER), TextMessage(content=TERMINATE, source=PLANNER),
            TextMessage(content="  ", source=WRITER)]
    assert final_report(msgs) == "report v2" and final_report(msgs[:1]) is None


# --- whole runs through the runner ----------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("stock")
    result = maestro.run_study(maestro.StudyConfig(
        study_id="stock-t", instances=["stock_research"], backends=["sim/strong"], tools=(True, False), repeats=2,
        tasks=2, out=str(out), store_answers=True))
    return maestro.load_study(result.path)


@pytest.mark.slow
def test_runs_end_with_data_tool_spans_only_when_tools_are_on(study):
    runs, spans = study.runs, study.spans
    assert len(runs) == 8 and set(runs.status) <= {"success", "failure"}, runs[["status", "outcome_reason"]]
    assert (runs.framework == "autogen").all() and runs.clean.all() and (runs.cost_usd > 0).all()
    for r in runs.itertuples():
        s = spans[spans.run_id == r.run_id]
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        data_tools = set(s[s.span_type == "tool"].tool_name) & DATA_TOOLS
        if r.tools_enabled:
            assert data_tools and (s[s.tool_name.isin(list(DATA_TOOLS))].tool_call_id.astype(bool)).all()
        else:
            assert not data_tools  # only the handoffs' transfer_to_* calls
        assert set(s[s.span_type == "tool"].tool_name) - DATA_TOOLS <= {f"transfer_to_{a}" for a in AGENT_NAMES}
    on = runs[runs.tools_enabled]
    used = set(spans[spans.run_id.isin(on.run_id) & (spans.span_type == "tool")].tool_name)
    assert DATA_TOOLS <= used


@pytest.mark.slow
def test_handoffs_between_the_four_agents_are_message_spans(study):
    runs, spans = study.runs, study.spans
    msgs = spans[spans.span_type == "message"]
    edges = set(zip(msgs.message_source, msgs.message_target, strict=True))
    handoffs = {(PLANNER, FINANCIAL), (FINANCIAL, PLANNER), (PLANNER, NEWS), (NEWS, PLANNER), (PLANNER, WRITER),
                (WRITER, PLANNER)}
    assert handoffs <= edges
    for r in runs[runs.status == "success"].itertuples():
        m = msgs[msgs.run_id == r.run_id].sort_values("start_time_ns")
        seq = list(zip(m.message_source, m.message_target, strict=True))
        assert seq[0] == ("__start__", PLANNER) and seq[-1] == (PLANNER, "__end__")
        assert (PLANNER, WRITER) in seq and (WRITER, PLANNER) in seq
        assert set(spans[(spans.run_id == r.run_id) & (spans.span_type == "agent")].agent_name) <= set(AGENT_NAMES)


@pytest.mark.slow
def test_tools_on_reports_are_right_and_tools_off_reports_mostly_wrong(study):
    runs = study.runs
    on, off = runs[runs.tools_enabled], runs[~runs.tools_enabled]
    assert (on.judgement == "correct").sum() >= 1, on[["judgement", "judgement_reason"]]
    assert (off.judgement == "wrong").mean() >= 0.75, off[["judgement", "judgement_reason"]]
    ok = runs[runs.status == "success"]
    assert ok.answer.str.contains("Stock report").all() and ok.question.str.contains("report").all()
