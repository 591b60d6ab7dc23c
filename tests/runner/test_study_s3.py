"""A study whose home is S3-compatible object storage (a real S3 API on loopback, moto's
server mode): run, resumed, extended, retried and compacted there, it records what the
same study records in a local folder, and leaves no staging folder behind."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs
import pytest

import maestro
from maestro.runner.config import ConfigError
from maestro.store.mirror import STAGING_PREFIX
from maestro.store.reader import load_study

from trace_helpers import assert_same_runs, edge_sequence

pytestmark = pytest.mark.slow


def build_pair(ctx: maestro.RunContext):
    """A drafter then an editor, each one LLM call."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI
    from langgraph.graph import END, START, MessagesState, StateGraph

    llm = ChatOpenAI(model=ctx.endpoint.model, base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key,
                     max_retries=0)

    def drafter(state):
        return {"messages": [llm.invoke([SystemMessage("You draft."), HumanMessage(state["messages"][0].content)])]}

    def editor(state):
        return {"messages": [llm.invoke([SystemMessage("You edit."), HumanMessage(state["messages"][-1].content)])]}

    g = StateGraph(MessagesState)
    g.add_node("drafter", drafter)
    g.add_node("editor", editor)
    g.add_edge(START, "drafter")
    g.add_edge("drafter", "editor")
    g.add_edge("editor", END)
    return g.compile()


PAIR = maestro.MAS(name="pair", framework="langgraph", build=build_pair,
                   dataset=[maestro.Sample("capital", "What is the capital of France?", target="Paris"),
                            maestro.Sample("sum", "What is 19 + 23?", target="42"),
                            maestro.Sample("river", "Which river flows through Paris?", target="Seine")],
                   scorer=maestro.scorers.includes())


def _staging_left() -> list[Path]:
    return [p for p in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*") if p.name == f"{STAGING_PREFIX}{os.getpid()}"]


def _stored(fs: pafs.FileSystem, root: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    return sorted(i.path[len(root) + 1:] for i in infos if i.type == pafs.FileType.File)


def test_a_study_in_s3_records_what_a_local_study_records_and_resumes_from_storage(s3, tmp_path, monkeypatch):
    fs, bucket = s3
    monkeypatch.setenv("MAESTRO_COMPACT_MIN_RUNS", "1000")  # per-run files stay: compaction has its own test
    body = dict(instances=[PAIR], backends=["sim/strong"], tools=False, repeats=2, time_factor=0, timeout_s=60,
                seed=3, workers=2)
    local = maestro.run_study(maestro.StudyConfig(study_id="pair", out=str(tmp_path), **body), progress=False)
    uri = f"s3://{bucket}/traces"
    stored = maestro.run_study(maestro.StudyConfig(study_id="pair", out=uri, **body), progress=False)
    assert stored.path == f"{uri}/pair" and stored.executed == local.executed == 6
    assert not _staging_left()

    root = f"{bucket}/traces/pair"
    files = _stored(fs, root)
    assert {"study.json", "runs.parquet", "summary.json"} <= set(files)
    assert not [f for f in files if f.startswith("runlog/")]  # folded into runs.parquet at the end
    assert len([f for f in files if f.startswith("spans/")]) == 6

    a, b = load_study(local.path), load_study(stored.path)
    assert_same_runs(a, b)
    rb = b.runs.set_index("run_id")
    assert {edge_sequence(b.spans, r) for r in rb.index} == \
        {(("__start__", "drafter"), ("drafter", "editor"), ("editor", "__end__"))}

    # a resume from another staging folder reads what storage holds: nothing runs again
    again = maestro.run_study(maestro.StudyConfig(study_id="pair", out=uri, **body), progress=False)
    assert again.executed == 0 and again.skipped == 6
    assert load_study(uri + "/pair", spans=False).runs.set_index("run_id").started_at_ns.to_dict() == \
        rb.started_at_ns.to_dict()
    # extended by a repeat: exactly the 3 new runs run
    more = maestro.run_study(maestro.StudyConfig(study_id="pair", out=uri, **{**body, "repeats": 3}), progress=False)
    assert more.executed == 3 and more.skipped == 6 and more.counts["success"] == 9
    assert len(load_study(more.path, spans=False).runs) == 9
    assert not _staging_left()


def test_a_study_compacted_at_its_end_is_compacted_in_object_storage(s3, monkeypatch):
    fs, bucket = s3
    monkeypatch.setenv("MAESTRO_COMPACT_MIN_RUNS", "2")
    cfg = maestro.StudyConfig(study_id="pair", instances=[PAIR], backends=["sim/strong"], tools=False, repeats=1,
                              time_factor=0, timeout_s=60, out=f"s3://{bucket}/t")
    first = maestro.run_study(cfg, progress=False)
    assert first.executed == 3
    files = _stored(fs, f"{bucket}/t/pair")
    # compacted at the end: the generation and CURRENT.json are stored, the per-run files gone
    assert "compacted/CURRENT.json" in files and any(f.startswith("compacted/gen-000001/spans-") for f in files)
    assert not [f for f in files if f.startswith(("spans/", "resources/", "runlog/"))]
    study = load_study(first.path)
    assert len(study.runs) == 3 and set(study.spans.run_id) == set(study.runs.run_id) and not study.warnings



def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_object_storage_fails_before_any_run_naming_the_uri(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MAESTRO_S3_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    cfg = maestro.StudyConfig(study_id="pair", instances=[PAIR], backends=["sim/strong"], tools=False, repeats=1,
                              time_factor=0, out="s3://nowhere/traces")
    t0 = time.monotonic()
    with pytest.raises(OSError, match=r"object storage s3://nowhere/traces/pair: reading the stored study failed"):
        maestro.run_study(cfg, progress=False)
    assert time.monotonic() - t0 < 60
    assert not _staging_left()


def test_an_unsupported_study_location_is_refused_when_the_config_is_made():
    with pytest.raises(ConfigError, match="out"):
        maestro.StudyConfig(study_id="x", instances=[PAIR], backends=["sim/strong"], out="gs://bucket/traces")


def test_the_command_line_runs_lists_and_reports_a_study_in_object_storage(s3, tmp_path, capsys):
    from maestro.cli import main

    _, bucket = s3
    uri = f"s3://{bucket}/traces"
    assert main(["run", "crag", "--backend", "sim/strong", "--tools", "on", "--repeats", "1", "--tasks", "2",
                 "--out", uri, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"traces: {uri}/crag-adhoc" in out and "figures: not drawn into object storage" in out
    assert main(["runs", "ls", f"{uri}/crag-adhoc"]) == 0
    assert "crag-adhoc: 2 run(s)" in capsys.readouterr().out
    assert main(["report", f"{uri}/crag-adhoc"]) == 2  # no local folder to write to: said, nothing written
    assert "give the report a local folder with --out DIR" in capsys.readouterr().err
    assert main(["report", f"{uri}/crag-adhoc", "--out", str(tmp_path / "report"), "--no-progress"]) == 0
    assert (tmp_path / "report" / "index.html").is_file()


def test_storage_failing_mid_study_stops_it_naming_the_uri_and_a_rerun_completes_exactly(s3, monkeypatch):
    """Fault injection in the study process: object storage refuses every upload after the
    first runs are stored. The study stops with one error naming the location; every run
    stored before stays readable there; the rerun executes exactly the runs not stored."""
    from maestro.store.location import Location

    _, bucket = s3
    real_upload = Location.upload
    runs_stored: list[str] = []

    def failing_upload(self, local_path, path):
        if path.endswith(".json") and "/runlog/" in path:
            if len(runs_stored) == 2:
                raise OSError("AWS Error NETWORK_CONNECTION during PutObject operation: connection refused")
            runs_stored.append(path.rsplit("/", 1)[1][:-5])
        return real_upload(self, local_path, path)

    monkeypatch.setattr(Location, "upload", failing_upload)
    cfg = maestro.StudyConfig(study_id="pair", instances=[PAIR], backends=["sim/strong"], tools=False, repeats=2,
                              time_factor=0, timeout_s=60, workers=1, out=f"s3://{bucket}/traces")
    with pytest.raises(OSError, match=rf"object storage s3://{bucket}/traces/pair: storing run \S+ failed \(AWS "
                                      r"Error NETWORK_CONNECTION.*every run recorded before is stored there"):
        maestro.run_study(cfg, progress=False)
    assert not _staging_left()
    stored = load_study(f"s3://{bucket}/traces/pair", spans=False)
    assert sorted(stored.runs.run_id) == sorted(runs_stored) and len(runs_stored) == 2

    monkeypatch.setattr(Location, "upload", real_upload)  # storage is back
    again = maestro.run_study(cfg, progress=False)
    assert again.skipped == 2 and again.executed == 4 and again.counts["success"] == 6
    after = load_study(again.path)
    assert after.runs.run_id.is_unique and set(after.spans.run_id) == set(after.runs.run_id)
    kept = stored.runs.set_index("run_id").started_at_ns.to_dict()
    assert {r: after.runs.set_index("run_id").started_at_ns[r] for r in kept} == kept  # not rerun
