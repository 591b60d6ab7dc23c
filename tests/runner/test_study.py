"""The study runner end to end: real worker processes, the simulated service over HTTP,
LangGraph CRAG, parquet on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import maestro
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study

from trace_helpers import edge_sequence, span_tree

pytestmark = pytest.mark.slow


def _config(tmp_path, **kw):
    body = {"id": "crag-t", "instances": ["crag"], "backends": ["sim/strong"], "tools": "both", "repeats": 2,
            "tasks": 2, "time_factor": 0, "workers": 2, "out": str(tmp_path), "timeout_s": 120, "store_answers": True}
    body.update(kw)
    return study_config_from_dict(body)


@pytest.fixture(scope="module")
def crag_study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crag")
    result = run_study(_config(tmp), progress=False)
    return result, maestro.load_study(result.path)


def test_crag_study_writes_a_complete_loadable_study(crag_study):
    import duckdb

    result, study = crag_study
    assert result.total == result.executed == 8 and result.skipped == 0
    root = result.path
    assert (root / "study.json").is_file() and (root / "runs.parquet").is_file()
    assert len(list((root / "spans").glob("*.parquet"))) == 8 == len(list((root / "resources").glob("*.parquet")))
    info = json.loads((root / "study.json").read_text())
    assert info["simulated"] and info["schema_version"] == maestro.semconv.SCHEMA_VERSION
    assert info["prices"]["as_of"] and "langgraph" in info["package_versions"]
    assert len(info["run_seeds"]) == 8
    runs = study.runs
    assert set(runs.status) <= {"success", "failure"} and runs.clean.all()
    assert (runs.spans_written == runs.spans_created).all() and (runs.spans_dropped == 0).all()
    assert (runs.input_tokens > 0).all() and (runs.cost_usd > 0).all() and (runs.resource_samples > 0).all()
    from maestro.instances import get_instance

    asked = {t.task_id: t.question for t in get_instance("crag").tasks(n=2, seed=info["study_seed"])}
    assert runs.question.tolist() == runs.task_id.map(asked).tolist() and runs.question.str.len().min() > 10
    n = duckdb.sql(f"select count(distinct run_id) from read_parquet('{root}/spans/*.parquet')").fetchall()[0][0]
    assert n == 8


def test_crag_span_tree_shape(crag_study):
    _, study = crag_study
    spans, runs = study.spans, study.runs
    searched_with_tools = []
    for run_id in runs.run_id:
        s = spans[spans.run_id == run_id]
        roots = s[s.parent_span_id.isna()]
        assert len(roots) == 1 and roots.iloc[0].span_type == "run" and s.trace_id.nunique() == 1
        agents = s[s.span_type == "agent"]
        assert (agents.name == "invoke_agent " + agents.agent_name).all()
        assert set(agents.agent_name) <= {"retrieve", "grade_documents", "generate", "transform_query", "web_search"}
        llm = s[s.span_type == "llm"]
        parents = dict(zip(s.span_id, s.span_type))
        assert len(llm) and all(parents[p] == "agent" for p in llm.parent_span_id)
        assert (llm.input_tokens > 0).all() and (llm.output_tokens > 0).all() and llm.request_model.notna().all()
        assert (llm.input_bytes > 0).all() and (llm.output_bytes > 0).all()
        row = runs[runs.run_id == run_id].iloc[0]
        # every model byte the transport saw was attributed to an LLM span
        assert llm.input_bytes.sum() == row.llm_request_bytes and llm.output_bytes.sum() == row.llm_response_bytes
        tools = s[s.span_type == "tool"]
        assert "local_retriever" in set(tools.tool_name) and tools.tool_call_id.notna().all()
        searched = "web_search" in set(agents.agent_name)
        assert searched == ("web_search" in set(tools.tool_name))  # the node and its tool go together
        if row.tools_enabled:
            searched_with_tools.append(searched)
        else:
            assert not searched  # no web search without tools
        edges = edge_sequence(spans, run_id)
        assert edges[0][0] == "__start__" and edges[-1][1] == "__end__"
        seen_agents = set(agents.agent_name) | {"__start__", "__end__"}
        assert {a for e in edges for a in e} == seen_agents
    assert any(searched_with_tools)  # the corrective web-search path ran where tools were on


def test_same_seed_same_tree_and_seeds_vary_edges(crag_study, tmp_path):
    _, first = crag_study
    again = run_study(_config(tmp_path, id="crag-again"), progress=False)
    second = maestro.load_study(again.path)
    for run_id in first.runs.run_id:
        assert span_tree(first.spans, run_id) == span_tree(second.spans, run_id), run_id
    many = maestro.load_study(run_study(_config(tmp_path, id="crag-seeds", repeats=10, tasks=1, tools=False),
                                        progress=False).path)
    sequences = {edge_sequence(many.spans, r) for r in many.runs.run_id}
    assert len(many.runs) == 10 and len(sequences) >= 2


def test_exception_timeout_crash_and_hard_kill_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("MAESTRO_HARD_KILL_GRACE_S", "1")
    cfg = _config(tmp_path, id="faults", instances=["fake_mas"], tools=True, repeats=1, tasks=5, timeout_s=1.5,
                  workers=3)
    t0 = time.perf_counter()
    result = run_study(cfg, progress=False)
    assert time.perf_counter() - t0 < 30
    runs = maestro.load_study(result.path, spans=False).runs.set_index("task_id")
    assert runs.loc["ok", "status"] == "success" and runs.loc["ok", "judgement"] == "correct"
    assert runs.loc["raise", "status"] == "exception" and "ValueError: the MAS gave up" in runs.loc["raise", "outcome_reason"]
    assert "Traceback" in runs.loc["raise", "error"]
    assert runs.loc["hang", "status"] == "timeout" and "exceeded 1.5 s" in runs.loc["hang", "outcome_reason"]
    assert runs.loc["crash", "status"] == "crashed" and "exit code 3" in runs.loc["crash", "outcome_reason"]
    assert runs.loc["freeze", "status"] == "timeout" and "killed" in runs.loc["freeze", "outcome_reason"]
    # the watchdog kept what the hung run had recorded: root + the open agent span, closed as errors
    hang = pq.read_table(result.path / "spans" / f"{runs.loc['hang', 'run_id']}.parquet").to_pylist()
    assert sorted(r["name"] for r in hang) == ["invoke_agent solo", "invoke_workflow fake_mas"]
    assert all(r["status_code"] == "ERROR" for r in hang)
    assert result.counts == {"success": 1, "failure": 0, "exception": 1, "timeout": 2, "crashed": 1, "write_failed": 0}


def test_question_is_stored_only_with_answers(tmp_path):
    """runs.parquet keeps each run's task question when answers are stored, null when not."""
    for store in (True, False):
        cfg = _config(tmp_path, id=f"q-{store}", instances=["fake_mas"], tools=True, repeats=1, tasks=2,
                      store_answers=store, workers=1)
        runs = maestro.load_study(run_study(cfg, progress=False).path, spans=False).runs.set_index("task_id")
        # fake_mas asks its task id as the question; "raise" fails, its question is stored all the same
        if store:
            assert runs.question.to_dict() == {"ok": "ok", "raise": "raise"} and runs.loc["ok", "answer"] == "42"
        else:
            assert runs.question.isna().all() and runs.answer.isna().all()
        assert (runs.gold == "42").all()


def test_sigkill_then_resume_completes_only_missing_runs(tmp_path):
    study_file = tmp_path / "s.toml"
    study_file.write_text(
        f'[study]\nid = "killed"\ninstances = ["crag"]\nbackends = ["sim/strong"]\ntools = "both"\nrepeats = 6\n'
        f'tasks = 2\ntime_factor = 0.05\nworkers = 2\nout = "{tmp_path}"\n'
    )
    maestro_bin = Path(sys.executable).with_name("maestro")
    proc = subprocess.Popen([str(maestro_bin), "study", "run", str(study_file), "--no-progress"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runlog = tmp_path / "killed" / "runlog"  # one record per finished run (runs.parquet is folded at the end)
    deadline = time.time() + 120
    while time.time() < deadline:
        if runlog.is_dir() and len(list(runlog.glob("*.json"))) >= 4:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = maestro.load_study(tmp_path / "killed", spans=False, resources=False).runs.to_dict("records")
    assert 4 <= len(before) < 24, "the kill must land mid-study"
    result = run_study(maestro.load_study_config(study_file), progress=False)
    assert result.skipped == len(before) and result.executed == 24 - len(before)
    study = maestro.load_study(result.path)
    assert len(study.runs) == 24 and study.runs.run_id.is_unique
    assert study.spans.groupby("run_id").trace_id.nunique().eq(1).all()
    assert set(study.spans.run_id) == set(study.runs.run_id)
    assert not list((tmp_path / "killed").rglob("*.tmp"))
    # a run the kill caught mid-write, or between writing its files and recording itself, is
    # set aside and rerun: said once, and never a recorded run's file
    quarantined = sorted(p.name for p in (tmp_path / "killed" / "quarantine").glob("*"))
    assert study.warnings == ([f"{len(quarantined)} file(s) in quarantine/: partial writes and interrupted attempts "
                               "a resume set aside (not loaded; see maestro runs ls --verbose)"] if quarantined else [])
    assert not [n for n in quarantined for r in before if r["run_id"] in n]
    kept = {r["run_id"]: r["started_at_ns"] for r in before}
    after = study.runs.set_index("run_id").started_at_ns
    assert all(after[k] == v for k, v in kept.items())  # finished runs were not rerun


def test_content_capture_never_writes_secrets(tmp_path, monkeypatch):
    """Capture on, a provider-style key in env and in the Authorization header, and secrets
    inside the task itself: no parquet file contains any of them."""
    key, sim_key, token = "sk-live-9a8b7c6d5e4f3a2b1c0d", "sk-sim-header-1234567890ab", "tok-abcdef0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("MAESTRO_SIM_API_KEY", sim_key)  # sent as "Authorization: Bearer ..." to the service
    monkeypatch.setenv("DEPLOY_TOKEN", token)
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "leak", "question": f"Using key {key} and header Authorization: Bearer "
                                 f"{sim_key}, where was Ada born? (token {token})", "answer": "London"}) + "\n")
    cfg = _config(tmp_path, id="capture", repeats=1, tasks=1, task_file=str(tasks), capture_content=True)
    result = run_study(cfg, progress=False)
    texts = []
    for f in result.path.rglob("*.parquet"):
        texts.append(json.dumps(pq.read_table(f).to_pylist(), default=str))
    blob = "\n".join(texts)
    assert "gen_ai.input.messages" in blob and "[REDACTED]" in blob  # content was captured...
    for secret in (key, sim_key, token):
        assert secret not in blob  # ...and redacted everywhere
    # the stored question is the task's, redacted like the answer
    question = maestro.load_study(result.path, spans=False).runs.question.iloc[0]
    assert question.endswith("where was Ada born? (token [REDACTED])") and key not in question
    assert key not in (result.path / "study.json").read_text()


def test_an_endpoint_that_dies_mid_study_is_named_and_the_study_goes_on(tmp_path, monkeypatch):
    """Pre-flight finds the endpoint listening; it then drops every connection."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    stop = threading.Event()

    def drop_connections():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    dropper = threading.Thread(target=drop_connections, daemon=True)
    dropper.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dead-endpoint-000")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    cfg = _config(tmp_path, id="dead", backends=["openai/gpt-4o-mini"], tools=False, repeats=1, tasks=2,
                  instance_options={"crag": {"max_retries": 0}})
    try:
        result = run_study(cfg, progress=False)
    finally:
        stop.set()
        dropper.join()
        server.close()
    runs = maestro.load_study(result.path, spans=False).runs
    assert len(runs) == 2 and (runs.status == "exception").all()
    assert result.all_raised and f"http://127.0.0.1:{port}/v1" in result.common_error
    assert runs.outcome_reason.str.contains(f"backend openai/gpt-4o-mini at http://127.0.0.1:{port}/v1").all()
    assert not runs.outcome_reason.str.contains("sk-test-dead-endpoint-000").any()


