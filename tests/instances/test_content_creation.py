"""Content creation (ADK agents over A2A, each remote agent in its own process): layouts,
judge and policies by mechanism; the cross-process span path (headers, OTLP to the span
sink) against a real run telemetry; and, through the real runner, one trace per run across
processes, created = written spans summed over processes, variation over seeds, and a
remote agent killed or hung mid-run being a recorded failure after which the study goes on,
with no server process left behind."""

from __future__ import annotations

import json
import random
import signal
import threading
import time

import psutil
import pytest

import maestro
from maestro.collector.export import RunIdentity
from maestro.collector.remote import (
    REMOTE_PROCESS,
    REMOTE_PROCESSES,
    RemoteRun,
    RemoteTelemetry,
    SpanSink,
    note_lost,
    propagation_headers,
)
from maestro.collector.telemetry import RunTelemetry
from maestro.instances.content_creation import BRIEFS, format_brief, judge, load_tasks, parse_brief
from maestro.instances.content_creation.prompts import (
    COORDINATOR,
    EDITOR,
    PLANNER,
    WRITER,
    draft_sections,
    missing_line,
    plan_sections,
    verdict,
    word_count,
)
from maestro.instances.content_creation.servers import process_name
from maestro.instances.content_creation.sim_policies import EditorPolicy, WriterPolicy
from maestro.instances.content_creation.tasks import task_for
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest

HOST = "maestro.adapters.adk.a2a"
BRIEF = BRIEFS[0][1]  # urban beekeeping: hive placement; neighbour relations; first-year harvest


# --- layouts and judge ------------------------------------------------------------------------------


def test_brief_round_trips_and_tasks_carry_their_points():
    assert parse_brief(format_brief(BRIEF)) == BRIEF
    tasks = load_tasks()
    assert [t.task_id for t in tasks] == [tid for tid, _ in BRIEFS]
    assert tasks[0].meta["key_points"] == list(BRIEF.key_points)
    assert [t.task_id for t in load_tasks(n=2, seed=3)] == [t.task_id for t in load_tasks(n=2, seed=3)]


def test_task_file_rows(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"id": "a", "topic": "tea", "key_points": "water; time", "max_words": 100}\n'
                 '{"id": "b", "topic": "x", "key_points": []}\n')
    with pytest.raises(ValueError, match=r"t.jsonl:2: bad content_creation task \(key_points is empty\)"):
        load_tasks(str(f))
    f.write_text('{"id": "a", "topic": "tea", "key_points": "water; time", "max_words": 100}\n')
    (task,) = load_tasks(str(f))
    assert task.meta == {"topic": "tea", "key_points": ["water", "time"], "max_words": 100}


def _article(sections, filler=""):
    return "# Urban beekeeping for balconies\n\n" + "\n\n".join(
        f"### {s}\nAbout urban beekeeping and {s}. {filler}" for s in sections)


def test_judge_counts_sections_topic_and_length():
    task = task_for("t", BRIEF)
    good = judge(task, _article(BRIEF.key_points))
    assert good.judgement == "correct" and good.score == 1.0
    assert good.reason.startswith("key points 3/3")
    partial = judge(task, _article(BRIEF.key_points[:2]))
    assert partial.judgement == "wrong" and partial.score == pytest.approx(2 / 3)
    assert "missing sections: first-year harvest" in partial.reason
    long = judge(task, _article(BRIEF.key_points, "word " * 450))
    assert long.judgement == "wrong" and "over the limit of 450" in long.reason
    assert judge(task, "").score == 0.0


def test_layout_readers():
    plan = "## Plan\nTitle: T\nSections: a; b ;c\nKey message: k"
    assert plan_sections("old\n## Plan\nSections: z\n" + plan) == ["a", "b", "c"]
    assert draft_sections("# T\n### a\ntext\n### b c\n") == ["a", "b c"]
    assert verdict("VERDICT: approved\n...\nVERDICT: revise") == "revise"
    assert missing_line("VERDICT: revise\nMissing: a; b") == ["a", "b"]
    assert word_count("# Title here\n### a\none two") == 5


# --- policies by mechanism --------------------------------------------------------------------------


def _ctx(accuracy: float, seed: int = 0) -> PolicyContext:
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy,
                         failure_mix=FailureMix(underspecified=1.0, wrong=0.0, empty=0.0), verbosity=1.0)


def _req(system: str, user: str) -> SimRequest:
    return SimRequest(protocol="gemini", model="m", messages=(SimMessage("system", system), SimMessage("user", user)))


def test_editor_asks_for_what_the_draft_lacks_and_approves_a_complete_one():
    system = EditorPolicy().marker
    lacking = f"{format_brief(BRIEF)}\n\n## Draft\n{_article(BRIEF.key_points[:2])}"
    reply = EditorPolicy().respond(_req(system, lacking), _ctx(1.0))
    assert verdict(reply.text) == "revise" and missing_line(reply.text) == ["first-year harvest"]
    complete = f"{format_brief(BRIEF)}\n\n## Draft\n{_article(BRIEF.key_points)}"
    reply = EditorPolicy().respond(_req(system, complete), _ctx(1.0))
    assert verdict(reply.text) == "approved" and "## Final" in reply.text


def test_writer_revision_adds_the_missing_section():
    plan = "## Plan\nTitle: Bees\nSections: hive placement; neighbour relations; first-year harvest"
    first = WriterPolicy().respond(_req(WriterPolicy().marker, f"{format_brief(BRIEF)}\n\n{plan}"), _ctx(1.0))
    assert draft_sections(first.text) == list(BRIEF.key_points)
    previous = "## Draft\n" + _article(BRIEF.key_points[:2])
    request = (f"{format_brief(BRIEF)}\n\n{plan}\n\nEditor notes:\nVERDICT: revise\nMissing: first-year harvest\n\n"
               f"Previous draft:\n{previous}")
    revised = WriterPolicy().respond(_req(WriterPolicy().marker, request), _ctx(1.0))
    assert draft_sections(revised.text) == list(BRIEF.key_points)


# --- the span path across processes, in one process ----------------------------------------------------


def test_remote_spans_reach_the_run_through_the_sink(tmp_path):
    ident = RunIdentity("s", "r1", instance="content_creation", framework="adk")
    t = RunTelemetry(ident, tmp_path / "spans.parquet", tmp_path / "res.parquet", sample_resources=False)
    t.start()
    sink = SpanSink("127.0.0.1")
    try:
        tool = t.start_span("execute_tool content_writer", {"maestro.span.type": "tool"})
        headers = propagation_headers(t, tool, sink.register(t))
        remote = RemoteRun.from_headers(headers)
        assert remote is not None and remote.identity == ident
        assert remote.parent.trace_id == tool.context.trace_id and remote.parent.span_id == tool.context.span_id
        rt = RemoteTelemetry(remote, "content_writer@test:1")
        agent = rt.start_span("invoke_agent content_writer", {"maestro.span.type": "agent",
                                                              "gen_ai.agent.name": "content_writer"})
        rt.record_message("__start__", "content_writer", 10, parent=agent)  # the caller records hand-overs
        rt.start_span("chat m", {"maestro.span.type": "llm"}, agent)  # left open: ended as failed at flush
        rt.end_span(agent)
        assert rt.flush() and rt.exported == 2
        t.end_span(tool)
        stats = t.finish()
    finally:
        sink.close()
    assert sink.counts("r1") == {"content_writer@test:1": {"created": 2, "received": 2}}
    assert stats.spans_created == stats.spans_written == 4 and stats.spans_dropped == 0
    import pandas as pd

    spans = pd.read_parquet(tmp_path / "spans.parquet")
    assert spans.trace_id.nunique() == 1
    by_name = spans.set_index("name")
    assert by_name.loc["invoke_agent content_writer", "parent_span_id"] == tool.span_id_hex
    chat = by_name.loc["chat m"]
    assert chat.status_code == "ERROR" and chat.parent_span_id == by_name.loc["invoke_agent content_writer", "span_id"]
    assert json.loads(chat.attributes_json)[REMOTE_PROCESS] == "content_writer@test:1"
    root = spans[spans.span_type == "run"].iloc[0]
    assert json.loads(json.loads(root.attributes_json)[REMOTE_PROCESSES]) == sink.counts("r1")


def test_the_sink_refuses_spans_of_a_run_it_does_not_know(tmp_path):
    ident = RunIdentity("s", "unknown-run")
    sink = SpanSink("127.0.0.1")
    try:
        t = RunTelemetry(ident, tmp_path / "s.parquet", tmp_path / "r.parquet", sample_resources=False).start()
        remote = RemoteRun.from_headers(propagation_headers(t, t.root, sink.url))  # never registered
        assert remote is not None
        rt = RemoteTelemetry(remote, "x@h:1")
        rt.end_span(rt.start_span("invoke_agent x", {}))
        assert rt.flush(timeout_s=5) is False and rt.exported == 0
        assert t.finish().spans_created == 1  # nothing of the refused export was taken in
    finally:
        sink.close()
    # The remote knows its export failed and says so in its answer: the run counts them dropped.
    assert rt.lost == 1
    t2 = RunTelemetry(RunIdentity("s", "r2"), tmp_path / "s2.parquet", tmp_path / "r2.parquet",
                      sample_resources=False).start()
    note_lost(t2, "x@h:1", rt.lost)
    stats = t2.finish()
    assert (stats.spans_created, stats.spans_written, stats.spans_dropped) == (2, 1, 1) and not stats.run_columns()["clean"]


def test_planner_tool_is_named_as_its_prompt_says():
    from maestro.instances.content_creation.agents import build_remote_agent, lookup_notes
    from maestro.instances.content_creation.prompts import NOTES_TOOL

    assert lookup_notes.__name__ == NOTES_TOOL
    assert lookup_notes("Urban beekeeping ")["notes"][0].startswith("a hive needs")
    config = {"gemini_base_url": "http://127.0.0.1:9", "model": "m", "api_key": "k", "tools_enabled": False}
    assert build_remote_agent(PLANNER, config).tools == []
    with pytest.raises(ValueError, match="unknown content_creation agent 'boss'"):
        build_remote_agent("boss", config)


def test_remote_urls_option():
    from maestro.instances.content_creation.instance import parse_remote_urls

    urls = parse_remote_urls(f"{PLANNER}=http://a:1, {WRITER}=http://b:2,{EDITOR}=http://c:3")
    assert urls == {PLANNER: "http://a:1", WRITER: "http://b:2", EDITOR: "http://c:3"}
    with pytest.raises(ValueError, match=f"no URL for {EDITOR}"):
        parse_remote_urls(f"{PLANNER}=http://a:1,{WRITER}=http://b:2")
    with pytest.raises(ValueError, match="'boss=http://x' is not <agent>=<url>"):
        parse_remote_urls("boss=http://x")


@pytest.mark.slow
def test_a_server_that_cannot_start_is_named_with_its_last_words():
    from maestro.instances.content_creation.servers import RemoteServers

    servers = RemoteServers((WRITER,), {"gemini_base_url": "http://127.0.0.1:9"}, start_timeout_s=60, launch="spawn")
    with pytest.raises(RuntimeError, match=r"remote agent content_writer exited with code 1: KeyError: 'model'"):
        servers.start()
    assert not servers.procs


def test_headers_without_maestro_fields_leave_the_remote_untraced():
    assert RemoteRun.from_headers({"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}) is None
    assert RemoteRun.from_headers({"traceparent": "junk", "x-maestro-run": "e30", "x-maestro-span-sink": "u"}) is None


# --- through the runner -----------------------------------------------------------------------------------


NAMES = {process_name(a): a for a in (PLANNER, WRITER, EDITOR)}


def _servers() -> dict[psutil.Process, str]:
    """Live remote-agent servers -> their agent: forked ones by process name, spawned ones
    by command line."""
    out = {}
    for p in psutil.process_iter(["name", "cmdline", "status"]):
        if p.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        cmd = p.info.get("cmdline") or []
        if p.info.get("name") in NAMES:
            out[p] = NAMES[p.info["name"]]
        elif HOST in cmd and "maestro.instances.content_creation.agents:build_remote_agent" in cmd:
            out[p] = cmd[cmd.index("--name") + 1]
    return out


def _study(tmp_path, study_id, repeats, options=None, time_factor=0.0):
    config = study_config_from_dict({
        "id": study_id, "instances": ["content_creation"], "backends": ["sim/strong"], "tools": True,
        "repeats": repeats, "tasks": 1, "time_factor": time_factor, "workers": 1, "out": str(tmp_path),
        "timeout_s": 120, "instance_options": {"content_creation": options or {}},
    })
    return run_study(config, progress=False)


def _edge_sequences(spans):
    msgs = spans[spans.span_type == "message"].sort_values("start_time_ns")
    return {rid: tuple(zip(g.message_source, g.message_target)) for rid, g in msgs.groupby("run_id")}


@pytest.mark.slow
def test_runs_are_one_trace_across_processes_and_vary_over_seeds(tmp_path):
    result = _study(tmp_path, "cc-seeds", repeats=10)
    study = maestro.load_study(result.path)
    runs, spans = study.runs, study.spans
    assert len(runs) == 10 and (runs.status == "success").all(), runs.outcome_reason.tolist()
    assert (spans.groupby("run_id").trace_id.nunique() == 1).all()
    for rid, g in spans.groupby("run_id"):
        run = runs.set_index("run_id").loc[rid]
        attrs = [json.loads(a) if isinstance(a, str) else {} for a in g.attributes_json]
        remote = [a.get(REMOTE_PROCESS) for a in attrs]
        root = json.loads(g[g.span_type == "run"].iloc[0].attributes_json)
        counts = json.loads(root[REMOTE_PROCESSES])
        # one process per remote agent, each counted on both ends
        assert sorted(k.split("@")[0] for k in counts) == sorted([PLANNER, WRITER, EDITOR])
        for process, c in counts.items():
            assert c["created"] == c["received"] == remote.count(process) > 0
        local_written = remote.count(None)
        local_created = run.spans_created - sum(c["created"] for c in counts.values())
        assert local_created == local_written > 0
        assert run.spans_created == run.spans_written == len(g) and run.spans_dropped == 0
        # remote agents' turns hang under the coordinator's tool call that handed over to them
        by_id = g.set_index("span_id")
        for _, s in g[g.span_type == "agent"].iterrows():
            if s.agent_name != COORDINATOR:
                assert by_id.loc[s.parent_span_id, "name"] == f"execute_tool {s.agent_name}"
        a2a = g[(g.span_type == "message") & (g.is_in_process_call == False)]  # noqa: E712
        assert len(a2a) >= 6 and (a2a.total_bytes > 100).all()
        assert run.a2a_bytes == g[g.span_type == "message"].total_bytes.sum()
    sequences = _edge_sequences(spans)
    assert len(set(sequences.values())) >= 2, "no variation over 10 seeds"
    assert not _servers(), "a remote agent's server outlived its run"


def _kill_during_planner(signum: int, stop: threading.Event, done: list) -> None:
    """Signal the writer's server once the coordinator is talking to the planner (the run's
    work has started; the writer's hand-over comes next)."""
    while not stop.is_set():
        procs = {agent: p for p, agent in _servers().items()}
        planner, writer = procs.get(PLANNER), procs.get(WRITER)
        try:
            if planner and writer and any(c.status == psutil.CONN_ESTABLISHED for c in planner.net_connections("tcp")):
                writer.send_signal(signum)
                done.append(writer.pid)
                return
        except psutil.Error:
            pass
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("signum, options", [
    pytest.param(signal.SIGKILL, {}, id="killed"),
    pytest.param(signal.SIGSTOP, {"remote_timeout_s": 15.0}, id="hung"),
])
def test_a_remote_agent_killed_or_hung_mid_run_is_a_recorded_failure(tmp_path, signum, options):
    stop, done = threading.Event(), []
    killer = threading.Thread(target=_kill_during_planner, args=(signum, stop, done), daemon=True)
    killer.start()
    t0 = time.monotonic()
    try:
        # time_factor 1: the simulated model takes its profile's time, so the planner's turn is long enough to see
        result = _study(tmp_path, f"cc-{signal.Signals(signum).name}", repeats=2, options=options, time_factor=1.0)
    finally:
        stop.set()
        killer.join(5)
    assert done, "the test never saw the planner at work"
    study = maestro.load_study(result.path)
    runs = study.runs.sort_values("repeat")
    first, second = runs.iloc[0], runs.iloc[1]
    assert first.status == "failure", (first.status, first.outcome_reason)
    assert first.outcome_reason.startswith(f"remote agent {WRITER} failed: ")
    assert second.status == "success", second.outcome_reason  # the study went on
    assert time.monotonic() - t0 < 110
    spans = study.spans[study.spans.run_id == first.run_id]
    assert spans.trace_id.nunique() == 1 and first.spans_created == first.spans_written
    failed = spans[(spans.message_target == WRITER) & (spans.message_source == COORDINATOR)]
    assert len(failed) == 1 and failed.iloc[0].failure_category == "system"
    assert not ((spans.message_source == WRITER) & (spans.message_target == COORDINATOR)).any()
    assert not psutil.pid_exists(done[0]) or psutil.Process(done[0]).status() == psutil.STATUS_ZOMBIE
    assert not _servers()


@pytest.mark.slow
def test_servers_die_with_a_killed_run(tmp_path):
    # SIGKILL the run's worker process while its servers run: they get their parent-death
    # signal, and the runner records the run as crashed and goes on.
    stop, killed = threading.Event(), []

    def kill_worker():
        while not stop.is_set():
            servers = _servers()
            if len(servers) == 3:
                worker = psutil.Process(next(iter(servers)).ppid())
                killed.append((worker.pid, [s.pid for s in servers]))
                worker.kill()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=kill_worker, daemon=True)
    thread.start()
    try:
        result = _study(tmp_path, "cc-crash", repeats=2)
    finally:
        stop.set()
        thread.join(5)
    assert killed
    runs = maestro.load_study(result.path, spans=False).runs.sort_values("repeat")
    assert list(runs.status) == ["crashed", "success"]
    _, pids = killed[0]
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
    assert not _servers()
