"""Choosing an executor (argument > config > ``MAESTRO_EXECUTOR`` > local), refusing bad
choices before anything is written, and how a Ray run's returned files reach the store.
The Ray cluster itself is exercised in ``test_ray_executor.py``."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reliability.test_config_validation import write_study

import maestro
from maestro.cli import main
from maestro.runner.config import ConfigError, load_study_config
from maestro.runner.executors import RunFiles, _store_run_files, resolve_executor
from maestro.store.layout import StudyLayout, file_metadata, table_from_rows
from maestro.store.schema import SPAN_COLUMNS


def test_an_argument_beats_the_variable_which_beats_local(monkeypatch):
    monkeypatch.delenv("MAESTRO_EXECUTOR", raising=False)
    assert resolve_executor(None, None) == ("local", None)
    monkeypatch.setenv("MAESTRO_EXECUTOR", "ray")
    assert resolve_executor(None, "auto") == ("ray", "auto")
    assert resolve_executor("local", None) == ("local", None)
    monkeypatch.setenv("MAESTRO_EXECUTOR", "spark")
    with pytest.raises(ValueError, match=r"environment variable MAESTRO_EXECUTOR: expected one of local, ray, "
                                         r"got 'spark'"):
        resolve_executor(None, None)


def test_an_address_without_ray_is_refused(monkeypatch):
    monkeypatch.delenv("MAESTRO_EXECUTOR", raising=False)
    with pytest.raises(ConfigError, match=r"address '127.0.0.1:1' is for executor 'ray'; this study uses executor "
                                          r"'local'"):
        resolve_executor(None, "127.0.0.1:1")


def test_the_study_config_names_a_bad_executor_or_address():
    with pytest.raises(ConfigError, match=r"key 'executor': expected one of 'local', 'ray', got 'spark'"):
        maestro.StudyConfig(study_id="s", instances=["crag"], backends=["sim/strong"], executor="spark")
    with pytest.raises(ConfigError, match=r"key 'address': expected a Ray cluster address"):
        maestro.StudyConfig(study_id="s", instances=["crag"], backends=["sim/strong"], executor="ray", address=" ")


def test_a_study_file_chooses_ray_and_its_address(tmp_path):
    f = write_study(tmp_path, {"executor": '"ray"', "address": '"127.0.0.1:6379"'})
    cfg = load_study_config(f)
    assert (cfg.executor, cfg.address) == ("ray", "127.0.0.1:6379")
    # where runs execute does not change what they measure: a study may move between executors
    assert "executor" not in cfg.comparable_settings() and "address" not in cfg.comparable_settings()


def test_run_study_refuses_an_address_for_the_local_executor_before_writing(tmp_path, monkeypatch):
    monkeypatch.delenv("MAESTRO_EXECUTOR", raising=False)
    cfg = maestro.StudyConfig(study_id="s", instances=["crag"], backends=["sim/strong"], out=str(tmp_path / "out"),
                              address="127.0.0.1:1")
    with pytest.raises(ConfigError, match="is for executor 'ray'"):
        maestro.run_study(cfg, progress=False)
    assert not (tmp_path / "out").exists()


def test_a_cluster_address_that_does_not_answer_is_named_at_once(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = maestro.StudyConfig(study_id="s", instances=["crag"], backends=["sim/strong"], out=str(tmp_path / "out"),
                              executor="ray", address=f"127.0.0.1:{port}")
    with pytest.raises(ConfigError, match=rf"executor 'ray': no Ray cluster answers at 127.0.0.1:{port} "
                                          r"\(Connection refused\); start one"):
        maestro.run_study(cfg, progress=False)
    assert not (tmp_path / "out").exists()


def test_the_cli_refuses_an_unknown_executor_in_one_line(tmp_path, capsys):
    f = write_study(tmp_path)
    assert main(["study", "run", str(f), "--executor", "spark", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "argument --executor: invalid choice: 'spark'" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def _span_file_bytes(n: int) -> bytes:
    rows = [{"run_id": "r1", "span_id": f"{i:016x}", "name": f"invoke_agent a{i}", "span_type": "agent"}
            for i in range(n)]
    sink = pa.BufferOutputStream()
    pq.write_table(table_from_rows(SPAN_COLUMNS, rows, file_metadata("spans", {"run_id": "r1"})), sink)
    return sink.getvalue().to_pybytes()


def test_a_ray_runs_files_are_written_through_the_store_as_the_node_wrote_them(tmp_path):
    layout = StudyLayout(tmp_path / "s").create()
    row = {"run_id": "r1", "status": "success", "spans_written": 3, "spans_dropped": 0, "clean": True}
    data = _span_file_bytes(3)
    out = _store_run_files(str(layout.root), "r1", RunFiles(row, data, None))
    assert out == row
    written = pq.read_table(layout.spans_file("r1"))
    assert written.column("name").to_pylist() == ["invoke_agent a0", "invoke_agent a1", "invoke_agent a2"]
    # byte for byte: schema version, artefact kind and run id as written on the node
    assert layout.spans_file("r1").read_bytes() == data
    assert written.schema.metadata[b"maestro.run_id"] == b"r1"
    assert not layout.resources_file("r1").exists()  # the run sent none: none is made up


def test_a_ray_run_whose_files_cannot_be_written_here_is_write_failed(tmp_path):
    layout = StudyLayout(tmp_path / "s").create()
    layout.spans_dir.rmdir()
    layout.spans_dir.write_text("not a folder")
    row = {"run_id": "r1", "status": "success", "outcome_reason": None, "spans_created": 3, "spans_written": 3,
           "spans_dropped": 0, "clean": True}
    out = _store_run_files(str(layout.root), "r1", RunFiles(row, _span_file_bytes(3), None))
    assert out["status"] == "write_failed" and out["outcome"] == "failure" and not out["clean"]
    assert out["spans_written"] == 0 and out["spans_dropped"] == 3
    assert out["outcome_reason"].startswith("the run's files could not be written by the study process (")
    assert out["outcome_reason"].endswith("the run itself: success")


STUDY_SCRIPT = '''
import os, sys
# every process that imports this script notes itself (the study process, then the forkserver)
with open(os.environ["IMPORT_LOG"], "a") as f:
    f.write(f"{os.getpid()}\\n")

import maestro


def build(ctx):
    return None


def invoke(app, sample, ctx):
    return "42"


MAS = maestro.MAS(name="scripted", framework="custom", build=build, invoke=invoke,
                  dataset=[maestro.Sample(str(i), "What is six times seven?", target="42") for i in range(4)],
                  scorer=maestro.scorers.includes())

if __name__ == "__main__":
    cfg = maestro.StudyConfig(study_id="scripted", instances=[MAS], backends=["sim/strong"], tools=False,
                              repeats=2, workers=2, out=sys.argv[1], time_factor=0)
    result = maestro.run_study(cfg, progress=False)
    print(result.executed, result.counts["success"])
'''


def test_a_study_script_is_imported_once_for_all_runs_not_once_per_run(tmp_path):
    """multiprocessing imports the main script in every child of a forkserver; the runner
    has the forkserver import it once, so 8 runs do not import the user's script 8 times."""
    import os
    import subprocess
    import sys

    script, log = tmp_path / "my_study.py", tmp_path / "imports.log"
    script.write_text(STUDY_SCRIPT)
    p = subprocess.run([sys.executable, str(script), str(tmp_path / "traces")], capture_output=True, text=True,
                       env={**os.environ, "IMPORT_LOG": str(log)}, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["8", "8"]
    pids = log.read_text().split()
    assert len(pids) == 2 and len(set(pids)) == 2  # the script's own process and the forkserver, nothing per run
