"""Financial Analyzer (mcp-agent): the corpus, tasks and judge by hand, the report readers,
the simulated policies as units, the MCP servers as real stdio processes, and whole runs
through the study runner on the simulated service: every built-in profile with tools on and
off, ten seeds for the edge sequences, the MCP tool spans against the servers' own call log,
and no server process left behind (also when the run is killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import maestro
from maestro.contract import Task
from maestro.instances.financial_analyzer import (
    AGENT_NAMES,
    OPTIONS,
    documents,
    facts,
    format_question,
    judge,
    load_tasks,
    pages,
    parse_company,
    tickers,
)
from maestro.instances.financial_analyzer.prompts import (
    ANALYST,
    COLLECTOR,
    DATA_COLLECTOR,
    EVALUATOR,
    PLANNER,
    SYNTHESIZER,
    WRITER,
    instructions,
)
from maestro.instances.financial_analyzer.report import (
    format_data,
    format_growth,
    format_report,
    read_growth,
    read_previous_revenue,
    read_price,
    read_quote,
    read_releases,
    read_revenue,
    report_block,
)
from maestro.instances.financial_analyzer.servers import confined_path, search_documents
from maestro.instances.financial_analyzer.sim_policies import (
    POLICIES,
    AnalystPolicy,
    CollectorPolicy,
    EvaluatorPolicy,
    PlannerPolicy,
    SynthesizerPolicy,
    WriterPolicy,
)
from maestro.sim.policy import FailureMix, SimMessage, SimRequest, SimTool, SimToolCall
from maestro.sim.profiles import BUILTIN_PROFILES

from trace_helpers import check_statuses, edge_sequence, policy_ctx, run_spans

SERVER_MODULE = "maestro.instances.financial_analyzer.servers"
BWTR = facts("BWTR")  # revenue 699.0 (Q2 733.1), growth -4.65%, price 177.45 (previous close 174.01)

# --- corpus, tasks, judge ----------------------------------------------------------------------


def test_corpus_is_six_fictional_companies_with_unambiguous_facts():
    assert tickers() == ["BWTR", "CRVN", "HLVB", "MTWK", "QLFM", "SNDF"]
    assert (BWTR["revenue_musd"], BWTR["previous_revenue_musd"], BWTR["growth_pct"], BWTR["price"]) == (
        699.0, 733.1, -4.65, 177.45)
    for t in tickers():
        f = facts(t)
        # growth over the wrong base, or the earlier quarter, never passes the judge by accident
        wrong_base = (f["revenue_musd"] - f["previous_revenue_musd"]) / f["revenue_musd"] * 100
        assert abs(wrong_base - f["growth_pct"]) > 0.05 and f["revenue_musd"] != f["previous_revenue_musd"]
    assert len(documents()) == 6 * 5 and all(d.path in pages() for d in documents())
    assert "Last price: $177.45" in pages()["/quote/BWTR"]


def test_bundled_tasks_and_seeded_sample(tmp_path):
    tasks = load_tasks()
    assert [t.task_id for t in tasks] == [f"fa-0{i}" for i in range(1, 7)]
    assert tasks[0].question == format_question("Brightwater Analytics", "BWTR") and tasks[0].meta == BWTR
    assert parse_company(tasks[0].question) == ("Brightwater Analytics", "BWTR")
    assert load_tasks(n=2, seed=3) == load_tasks(n=2, seed=3) and len(load_tasks(n=2, seed=3)) == 2
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "ticker": "sndf"}\n', encoding="utf-8")
    assert load_tasks(source=str(f))[0].meta["ticker"] == "SNDF"
    f.write_text('{"id": "a", "ticker": "ZZZZ"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown ticker 'ZZZZ'; known: BWTR"):
        load_tasks(source=str(f))


TASK = load_tasks()[0]


@pytest.mark.parametrize(
    ("answer", "judgement", "score", "reason_part"),
    [
        (format_report("B", "BWTR", 699.0, -4.65, 177.45), "correct", 1.0, "growth -4.65% matches"),
        (format_report("B", "BWTR", 733.1, -4.65, 177.45), "wrong", 2 / 3, "revenue 733.1M is not 699M"),
        (format_report("B", "BWTR", 699.0, -4.88, 177.45), "wrong", 2 / 3, "growth -4.88% is not"),
        (format_report("B", "BWTR", 699.0, -4.65, 174.01), "wrong", 2 / 3, "share price 174.01 is not"),
        (format_report("B", "BWTR", None, None, None), "wrong", 0.0, "no revenue stated"),
        ("", "wrong", 0.0, "no report"),
    ],
)
def test_judge(answer, judgement, score, reason_part):
    res = judge(TASK, answer)
    assert res.judgement == judgement and res.score == pytest.approx(score) and reason_part in res.reason


def test_judge_without_facts_is_unjudged():
    assert judge(Task("t", "q"), "x").judgement == "unjudged"


def test_readers_read_what_the_writers_write():
    data = format_data("B", "BWTR", 699.0, 733.1, 177.45)
    assert (read_revenue(data), read_previous_revenue(data), read_price(data)) == (699.0, 733.1, 177.45)
    assert read_growth(format_growth(-4.65, 699.0, 733.1)) == -4.65
    assert read_revenue("Latest quarterly revenue: not found") is None
    text = "Latest quarterly revenue: $1,200.5 million\n...\nLatest quarterly revenue (Q3): $7.0 million"
    assert (read_revenue(text), read_revenue(text, last=True)) == (1200.5, 7.0)
    releases = "\n".join(d.text for d in documents() if d.doc_id.startswith("BWTR-q"))
    assert read_releases(releases) == [(3, 699.0, 733.1), (2, 733.1, 713.4)]
    assert read_quote("Last price: $177.45 Previous close: $174.01") == (177.45, 174.01)
    block = report_block("x\n" + format_report("B", "BWTR", 1.0, 2.0, 3.0) + "\nmore")
    assert block is not None and block.endswith("Current share price: $3.00")


# --- simulated policies as units ---------------------------------------------------------------


def _ctx(accuracy=1.0, seed=0, mix=None):
    return policy_ctx(seed, accuracy=accuracy, mix=mix)


def _req(system: str, user: str, tools=(), history=()):
    msgs = (SimMessage("system", system), SimMessage("user", user), *history)
    return SimRequest(protocol="openai", model="m", messages=msgs, tools=tuple(SimTool(t, "", {}) for t in tools))


def _policy(request):
    matching = [p for p in POLICIES if p.matches(request)]
    assert len(matching) == 1, [p.name for p in matching]
    return matching[0]


def _plan_prompt(progress: str = "No steps executed yet") -> str:
    # mcp-agent's full-plan prompt, reduced to the parts the planner reads.
    text = instructions(True)
    agents = "\n".join(f"{i}. Agent Name: {n}\nDescription: {text[d]}\nServers in Agent: "
                       for i, (n, d) in enumerate(((DATA_COLLECTOR, COLLECTOR), (ANALYST, ANALYST), (WRITER, WRITER)), 1))
    return (f"Objective: {TASK.question}\n\nPlan Objective: {TASK.question}\n\nProgress So Far (steps completed):\n"
            f"{progress}\n\nPlan Current Status: In Progress\n\nAgents:\n{agents}\n\nGenerate a plan")


def test_every_role_has_exactly_one_policy():
    for on in (True, False):
        for name, text in instructions(on).items():
            assert _policy(_req(text, "x")) is not None, name


def _plan(progress="No steps executed yet", seed=0):
    reply = PlannerPolicy("p", "x").respond(_req(instructions(True)[PLANNER], _plan_prompt(progress)), _ctx(seed=seed))
    return json.loads(reply.text)


def test_planner_plans_by_descriptions_cautiously_or_fully_then_completes():
    firsts = {tuple(s["tasks"][0]["agent"] for s in _plan(seed=s)["steps"]) for s in range(20)}
    assert firsts == {(DATA_COLLECTOR,), (DATA_COLLECTOR, ANALYST, WRITER)}
    data = "Step Subtasks:\nResult: " + format_data("B", "BWTR", 699.0, 733.1, 177.45)
    assert [s["tasks"][0]["agent"] for s in _plan(data)["steps"]] == [ANALYST, WRITER]
    done = data + "\nStep Subtasks:\nResult: " + format_report("B", "BWTR", 699.0, -4.65, 177.45)
    assert _plan(done) == {"steps": [], "is_complete": True}
    assert _plan("Step Subtasks:\n" * 6)["is_complete"] is True  # bounded whatever the results


def _search_result():
    return json.dumps([{"title": d.title, "url": "http://127.0.0.1:9" + d.path, "text": d.text}
                       for d in documents() if d.doc_id.startswith("BWTR")])


def test_collector_searches_fetches_then_states_the_figures():
    system, tools = instructions(True)[COLLECTOR], ("search_search", "fetch_fetch")
    policy, user = CollectorPolicy("c", "x"), f"objective: {TASK.question}"
    first = policy.respond(_req(system, user, tools), _ctx())
    assert first.tool_calls[0].name == "search_search" and "Brightwater" in first.tool_calls[0].arguments["query"]
    searched = (SimMessage("assistant", "", tool_calls=(SimToolCall("search_search", {}, id="1"),)),
                SimMessage("tool", _search_result(), tool_call_id="1"))
    second = policy.respond(_req(system, user, tools, searched), _ctx())
    assert second.tool_calls == (SimToolCall("fetch_fetch", {"url": "http://127.0.0.1:9/quote/BWTR"}),)
    fetched = searched + (SimMessage("assistant", "", tool_calls=(SimToolCall("fetch_fetch", {}, id="2"),)),
                          SimMessage("tool", "Last price: $177.45 Previous close: $174.01", tool_call_id="2"))
    text = policy.respond(_req(system, user, tools, fetched), _ctx()).text
    assert (read_revenue(text), read_previous_revenue(text), read_price(text)) == (699.0, 733.1, 177.45)
    # a collector that always errs, and always confidently: the neighbouring figures
    wrong = policy.respond(_req(system, user, tools, fetched), _ctx(0.0, mix=FailureMix(0, 1, 0))).text
    assert (read_revenue(wrong), read_previous_revenue(wrong), read_price(wrong)) == (733.1, 713.4, 174.01)
    # without tools it knows nothing of a fictional company
    blank = policy.respond(_req(instructions(False)[COLLECTOR], user), _ctx(mix=FailureMix(1, 0, 0))).text
    assert read_revenue(blank) is None


def test_evaluator_rates_by_the_figures_stated():
    policy, system = EvaluatorPolicy("e", "x"), instructions(True)[EVALUATOR]

    def rate(data):
        return json.loads(policy.respond(_req(system, f"Current Response (Iteration 1): {data}"), _ctx()).text)

    assert rate(format_data("B", "BWTR", 699.0, 733.1, 177.45)) == {
        "rating": 3, "feedback": "All required figures are stated.", "needs_improvement": False, "focus_areas": []}
    partial = rate(format_data("B", "BWTR", 699.0, 733.1, None))
    assert partial["rating"] == 2 and partial["needs_improvement"] and partial["focus_areas"] == ["current share price"]


def test_analyst_computes_growth_from_its_context_and_writer_copies():
    context = f"Results so far: {format_data('B', 'BWTR', 699.0, 733.1, 177.45)}"
    growth = AnalystPolicy("a", "x").respond(_req(instructions(True)[ANALYST], context), _ctx()).text
    assert read_growth(growth) == -4.65
    wrong = AnalystPolicy("a", "x").respond(_req(instructions(True)[ANALYST], context),
                                            _ctx(0.0, mix=FailureMix(0, 1, 0))).text
    assert read_growth(wrong) == round((699.0 - 733.1) / 699.0 * 100, 2)
    ctx_text = f"{TASK.question}\n{context}\n{growth}"
    first = WriterPolicy("w", "x").respond(_req(instructions(True)[WRITER], ctx_text, ("files_write_file",)), _ctx())
    (call,) = first.tool_calls
    assert call.name == "files_write_file" and call.arguments["path"] == "report.md"
    assert judge(TASK, call.arguments["content"]).judgement == "correct"
    answer = SynthesizerPolicy("s", "x").respond(_req(instructions(True)[SYNTHESIZER], "Result: " + call.arguments["content"]),
                                                 _ctx()).text
    assert judge(TASK, answer).judgement == "correct"


# --- the MCP servers -----------------------------------------------------------------------------


def test_search_ranks_the_company_documents_first():
    hits = search_documents("Brightwater Analytics quarterly revenue share price")
    assert len(hits) == 4 and all("Brightwater" in h["title"] for h in hits)
    assert {h["path"] for h in hits} >= {"/news/bwtr-q3", "/quote/BWTR"}


def test_files_are_confined_to_the_run_folder(tmp_path):
    assert confined_path(tmp_path, "report.md") == (tmp_path / "report.md").resolve()
    (tmp_path / "out").symlink_to("/tmp")
    for bad in ("../x.md", "/etc/passwd", "sub/../../x", "out/x.md"):
        with pytest.raises(ValueError, match="outside the run's folder"):
            confined_path(tmp_path, bad)


async def _call_servers(tmp_path, pages_url):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    log = tmp_path / "calls.jsonl"
    results = {}
    for kind, calls in (("files", [("write_file", {"path": "r.md", "content": "hi"}),
                                   ("write_file", {"path": "../escape.md", "content": "no"}),
                                   ("list_files", {})]),
                        ("fetch", [("fetch", {"url": pages_url + "/quote/BWTR"}),
                                   ("fetch", {"url": "http://example.com/"})])):
        params = StdioServerParameters(command=sys.executable, args=[
            "-m", SERVER_MODULE, kind, "--log", str(log), "--pages", pages_url, "--root", str(tmp_path / "run")])
        (tmp_path / "run").mkdir(exist_ok=True)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for tool, args in calls:
                res = await session.call_tool(tool, args)
                results.setdefault(kind, []).append((res.isError, res.content[0].text if res.content else ""))
    return results, [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_servers_serve_refuse_and_log_every_call(tmp_path):
    import anyio

    from maestro.instances.financial_analyzer.web import PageServer

    with PageServer() as site:
        results, log = anyio.run(_call_servers, tmp_path, site.url)
    assert results["files"][0] == (False, "wrote 2 bytes to r.md") and (tmp_path / "run" / "r.md").read_text() == "hi"
    assert results["files"][1][0] and "outside the run's folder" in results["files"][1][1]
    assert not (tmp_path / "escape.md").exists() and results["files"][2] == (False, "r.md")
    assert results["fetch"][0][0] is False and "Last price: $177.45" in results["fetch"][0][1]
    assert results["fetch"][1][0] and "refused" in results["fetch"][1][1]
    assert [(e["server"], e["tool"], e["is_error"]) for e in log] == [
        ("files", "write_file", False), ("files", "write_file", True), ("files", "list_files", False),
        ("fetch", "fetch", False), ("fetch", "fetch", True)]
    assert all(e["request_bytes"] > 0 and e["response_bytes"] > 0 for e in log)


# --- whole runs through the study runner --------------------------------------------------------


def _server_processes(marker: str) -> list[psutil.Process]:
    procs = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or ())
        if SERVER_MODULE in cmd and marker in cmd:
            procs.append(p)
    return procs


def _wait_gone(marker: str, within_s: float = 10.0) -> list[psutil.Process]:
    deadline = time.monotonic() + within_s
    while (left := _server_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _sound_tree(spans, run_id):
    s, _ = run_spans(spans, run_id, set(AGENT_NAMES))
    assert set(s.parent_span_id.dropna()) <= set(s.span_id)
    types = dict(zip(s.span_id, s.span_type, strict=True))
    for row in s[s.span_type.isin(["llm", "tool"])].itertuples():
        assert types[row.parent_span_id] == "agent", row.name  # every model and tool call inside an agent's turn
    assert edge_sequence(spans, run_id)[0] == ("__start__", "orchestrator")


def _call_log(workdir: Path, seed: int) -> list[dict]:
    (folder,) = workdir.glob(f"fa-s{seed}-*")
    log = folder / "mcp_calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture(scope="module")
def seeds_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("fa-seeds")
    result = maestro.run_study(maestro.StudyConfig(
        study_id="fa-seeds", instances=["financial_analyzer"], backends=["sim/strong"], tools=(True,), repeats=10,
        tasks=1, out=str(out), store_answers=True, time_factor=0, workers=2,
        instance_options={"financial_analyzer": {"workdir": str(out / "work")}}), progress=False)
    return maestro.load_study(result.path), out / "work"


@pytest.mark.slow
@pytest.mark.timeout(600)  # ten runs, each starting three MCP server processes
def test_mcp_tool_spans_are_the_calls_the_servers_received(seeds_study):
    study, workdir = seeds_study
    runs, spans = study.runs, study.spans
    assert len(runs) == 10 and set(runs.status) == {"success"}, runs[["status", "outcome_reason", "error"]]
    total = 0
    for r in runs.itertuples():
        _sound_tree(spans, r.run_id)
        tools = spans[(spans.run_id == r.run_id) & (spans.span_type == "tool")]
        served = _call_log(workdir, r.seed)
        got = sorted((json.loads(a)["mcp.server"], t, i, o) for a, t, i, o in
                     zip(tools.attributes_json, tools.tool_name, tools.input_bytes, tools.output_bytes, strict=True))
        want = sorted((e["server"], e["tool"], e["request_bytes"], e["response_bytes"]) for e in served)
        assert got == want and r.tool_calls == len(served) > 0  # same calls, same wire bytes
        total += len(served)
    assert total >= 30  # search, fetch and write_file at least, in every run


@pytest.mark.slow
@pytest.mark.timeout(600)  # ten runs, each starting three MCP server processes
def test_edge_sequences_vary_over_seeds_and_no_server_is_left(seeds_study):
    study, workdir = seeds_study
    sequences = {edge_sequence(study.spans, r) for r in study.runs.run_id}
    assert len(sequences) >= 2
    for seq in sequences:
        assert ("orchestrator", "planner") in seq and ("data_collector", "collector") in seq
        assert ("data_collector", "collector_evaluator") in seq and seq[-1] == ("orchestrator", "__end__")
    assert not _wait_gone(str(workdir), within_s=5)


@pytest.mark.slow
@pytest.mark.parametrize("tools", [True, False], ids=["tools-on", "tools-off"])
def test_every_default_profile_runs(tmp_path, tools):
    # One study per tool setting keeps each under the suite's per-test time limit on 2 cores.
    profiles = [p.name for p in BUILTIN_PROFILES]
    result = maestro.run_study(maestro.StudyConfig(
        study_id="fa-profiles", instances=["financial_analyzer"], backends=[f"sim/{p}" for p in profiles],
        tools=(tools,), repeats=1, tasks=1, out=str(tmp_path), store_answers=True, time_factor=0, workers=2,
        instance_options={"financial_analyzer": {"workdir": str(tmp_path / "work")}}), progress=False)
    study = maestro.load_study(result.path)
    runs, spans = study.runs, study.spans
    assert len(runs) == len(profiles)
    check_statuses(runs)
    for r in runs.itertuples():
        _sound_tree(spans, r.run_id)
        assert (r.tool_calls > 0) == tools and r.clean
    assert not _wait_gone(str(tmp_path / "work"), within_s=5)
    if tools:
        assert runs[runs.backend == "sim/oracle"].judgement.tolist() == ["correct"]
    else:
        assert (runs.judgement == "wrong").all()  # a fictional company is unknown


_KILLED_RUN = textwrap.dedent("""
    import sys
    from maestro.contract import ModelEndpoint, RunContext
    from maestro.instances.financial_analyzer import INSTANCE, load_tasks
    from maestro.sim import SimServer, openai_base_url

    with SimServer(time_factor=1.0) as sim:  # real simulated latencies: the run lasts
        ep = ModelEndpoint(spec="sim/verbose", provider="maestro.sim", model="sim-verbose", api_key="sim",
                           base_url=openai_base_url(sim.url, "verbose", seed=1), simulated=True)
        ctx = RunContext(endpoint=ep, tools_enabled=True, seed=1, options={"workdir": sys.argv[1]})
        INSTANCE.run(INSTANCE.build(ctx), load_tasks()[0], ctx)
""")


@pytest.mark.slow
def test_servers_die_with_a_killed_run(tmp_path):
    marker = str(tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, marker], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _server_processes(marker) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        started = _server_processes(marker)
        assert started, "the run started no MCP server"
        # the servers run in sessions of their own: a group kill of the run does not reach them
        assert all(os.getsid(p.pid) != os.getsid(proc.pid) for p in started)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert not _wait_gone(marker, within_s=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_a_run_the_runner_times_out_leaves_no_server(tmp_path):
    # Real simulated latencies on the slow profile: the run is still working at its cap.
    result = maestro.run_study(maestro.StudyConfig(
        study_id="fa-timeout", instances=["financial_analyzer"], backends=["sim/verbose"], tools=(True,), repeats=1,
        tasks=1, out=str(tmp_path), time_factor=1.0, timeout_s=8, workers=1,
        instance_options={"financial_analyzer": {"workdir": str(tmp_path / "work")}}), progress=False)
    runs = maestro.load_study(result.path).runs
    assert list(runs.status) == ["timeout"], runs[["status", "outcome_reason"]]
    assert list((tmp_path / "work").glob("*/mcp_calls.jsonl")), "no server was running when the cap was reached"
    assert not _wait_gone(str(tmp_path / "work"), within_s=10)


def test_options_are_declared_framework_free():
    assert [o.name for o in OPTIONS] == ["max_plan_iterations", "max_refinements", "min_rating", "workdir"]
