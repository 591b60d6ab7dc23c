"""The runner and store under faults: nothing lost, nothing hidden, nothing left behind.

Every system here is a MAS written in this file (framework ``custom``: it records its own
spans through ``maestro.collector.current_telemetry()``, or ``langgraph`` against the
simulated service), run through the public study API.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import maestro
from maestro.collector.telemetry import current_telemetry
from maestro.store.layout import StudyLayout
from maestro.store.lock import StudyLock, StudyLockedError
from maestro.store.reader import RunHistory, load_study

pytestmark = pytest.mark.slow


def make_spans(n: int, payload: int = 0) -> None:
    """``n`` agent spans, each with ``payload`` bytes of incompressible attribute text."""
    t = current_telemetry()
    for i in range(n):
        attrs = {"maestro.span.type": "agent", "gen_ai.agent.name": f"a{i % 3}"}
        if payload:
            attrs["note"] = os.urandom(payload // 2).hex()
        t.end_span(t.start_span(f"invoke_agent a{i % 3}", attrs))


def spans_then_break_the_folder(app, sample, ctx):
    """Record spans, then make spans/ unusable (a file where the folder was)."""
    make_spans(int(sample.input))
    spans = Path(os.environ["MAESTRO_TEST_SPANS_DIR"])
    spans.rename(spans.with_name("spans.moved"))
    spans.write_text("not a folder")
    return "done"


def _study(tmp_path, invoke, samples, **kw):
    mas = maestro.MAS(name="faulty", framework="custom", build=lambda ctx: None, invoke=invoke,
                      dataset=[maestro.Sample(str(i), s) for i, s in enumerate(samples)])
    body = dict(study_id="faults", instances=[mas], backends=["sim/strong"], tools=False, repeats=1,
                timeout_s=60, workers=1, out=str(tmp_path))
    body.update(kw)
    return maestro.StudyConfig(**body)


@pytest.mark.parametrize("n_spans", [pytest.param(50, id="buffered"), pytest.param(20_007, id="streamed-20007")])
def test_a_span_file_that_cannot_be_written_is_counted_lost_and_rerun(tmp_path, monkeypatch, n_spans):
    spans_dir = tmp_path / "faults" / "spans"
    monkeypatch.setenv("MAESTRO_TEST_SPANS_DIR", str(spans_dir))
    result = maestro.run_study(_study(tmp_path, spans_then_break_the_folder, [str(n_spans)]), progress=False)
    assert result.counts["write_failed"] == 1
    row = load_study(result.path, spans=False, resources=False).runs.iloc[0]
    assert row.status == "write_failed" and not row.clean
    assert row.spans_written == 0 and row.spans_dropped == row.spans_created == n_spans + 1  # + the root
    assert "spans file: NotADirectoryError" in row.outcome_reason and "the run itself: success" in row.outcome_reason

    # repair the folder; the resume reruns the lost run, and what the failed attempt left
    # (its partial temporary file, when it had streamed one) is kept in quarantine/
    spans_dir.unlink()
    spans_dir.with_name("spans.moved").rename(spans_dir)
    again = maestro.run_study(_study(tmp_path, lambda app, s, ctx: make_spans(int(s.input)) or "ok", [str(n_spans)]),
                              progress=False)
    assert again.executed == 1 and again.counts == {**again.counts, "success": 1, "write_failed": 0}
    study = load_study(again.path)
    assert len(study.spans) == n_spans + 1 and study.runs.iloc[0].attempt == 2
    quarantined = sorted(p.name for p in (again.path / "quarantine").glob("*")) if n_spans > 5000 else []
    assert all(name.startswith("spans.partial.") for name in quarantined)
    assert bool(quarantined) == (n_spans > 5000)


def test_a_second_runner_on_the_same_study_is_refused_naming_the_holder(tmp_path):
    layout_root = tmp_path / "locked"
    layout_root.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from maestro.store.lock import StudyLock
        with StudyLock({str(layout_root)!r}):
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StudyLockedError, match=rf"maestro study run \(PID {holder.pid} on host "):
            StudyLock(layout_root).acquire()
        cfg = _study(tmp_path, lambda app, s, ctx: "ok", ["1"], study_id="locked")
        with pytest.raises(StudyLockedError, match=f"PID {holder.pid}"):
            maestro.run_study(cfg, progress=False)
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: the kernel dropped its lock, and the study runs
    result = maestro.run_study(_study(tmp_path, lambda app, s, ctx: "ok", ["1"], study_id="locked"), progress=False)
    assert result.counts["success"] == 1


def sleep_forever_with_a_child(app, sample, ctx):
    child = subprocess.Popen(["sleep", "997"])
    Path(os.environ["MAESTRO_TEST_PID_FILE"]).write_text(str(child.pid))
    time.sleep(120)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_timed_out_run_takes_the_processes_it_started_with_it(tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("MAESTRO_TEST_PID_FILE", str(pid_file))
    result = maestro.run_study(_study(tmp_path, sleep_forever_with_a_child, ["x"], timeout_s=2), progress=False)
    assert result.counts["timeout"] == 1
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the run's child process outlived its timeout"


RUNNER_SCRIPT = """
import os, sys, subprocess, time
from pathlib import Path
import maestro

def invoke(app, sample, ctx):
    child = subprocess.Popen(["sleep", "997"])
    Path(os.environ["MAESTRO_TEST_PID_FILE"]).write_text(str(child.pid))
    time.sleep(120)

mas = maestro.MAS(name="stuck", framework="custom", build=lambda ctx: None, invoke=invoke,
                  dataset=[maestro.Sample("a", "q")])
if __name__ == "__main__":
    maestro.run_study(maestro.StudyConfig(study_id="killed", instances=[mas], backends=["sim/strong"],
                      tools=False, repeats=1, timeout_s=300, out=sys.argv[1]), progress=False)
"""


@pytest.mark.parametrize("sig", [pytest.param(signal.SIGKILL, id="SIGKILL"), pytest.param(signal.SIGTERM, id="SIGTERM"),
                                 pytest.param(signal.SIGINT, id="Ctrl-C")])
def test_a_killed_or_interrupted_runner_leaves_no_process_behind(tmp_path, sig):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER_SCRIPT)
    pid_file = tmp_path / "child.pid"
    runner = subprocess.Popen([sys.executable, str(script), str(tmp_path / "traces")],
                              env=dict(os.environ, MAESTRO_TEST_PID_FILE=str(pid_file)), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the run never started"
    tree = [p.pid for p in psutil.Process(runner.pid).children(recursive=True)]
    assert len(tree) >= 4  # the simulated service, the forkserver, the run, its sleep
    runner.send_signal(sig)
    runner.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [psutil.Process(p).cmdline() for p in tree if _alive(p)]
    assert not left, f"left running after the runner died: {left}"


def test_no_temporary_files_are_left_in_tmp(tmp_path):
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    before = set(tmp.glob("maestro-*"))
    maestro.run_study(_study(tmp_path, lambda app, s, ctx: "ok", ["1", "2"]), progress=False)
    assert set(tmp.glob("maestro-*")) == before


def test_a_full_disk_is_a_clear_error_and_loses_nothing_recorded(tmp_path):
    """A 1 MiB tmpfs: the first run fits, the second's 20,007 spans do not."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (see test_an_injected_enospc_is_recorded for the injected case)")
    try:
        cfg = _study(mount, lambda app, s, ctx: make_spans(int(s.input)) or "ok", ["10"], study_id="full")
        maestro.run_study(cfg, progress=False)
        recorded = load_study(mount / "full")
        big = _study(mount, lambda app, s, ctx: make_spans(int(s.input), payload=200) or "ok", ["10", "20007"],
                     study_id="full")
        try:
            result = maestro.run_study(big, progress=False)
        except OSError as e:  # the run's row itself could not be written: the study stops, saying so
            assert e.errno == errno.ENOSPC
        else:
            assert result.counts["write_failed"] == 1
        after = load_study(mount / "full")
        first = recorded.runs.iloc[0].run_id
        assert first in set(after.runs.run_id) and (after.spans.run_id == first).sum() == 11
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def test_an_injected_enospc_is_recorded(tmp_path, monkeypatch):
    from maestro.store import layout as store_layout

    real = store_layout.StreamingParquetWriter.close

    def full_disk(self):
        if self.path.parent.name == "spans":
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return real(self)

    monkeypatch.setattr(store_layout.StreamingParquetWriter, "close", full_disk)
    with maestro.trace_run("enospc", out=tmp_path) as run:
        run.end_span(run.start_span("invoke_agent a", {"maestro.span.type": "agent"}))
    row = load_study(tmp_path / "enospc", spans=False).runs.iloc[0]
    assert row.status == "write_failed" and row.spans_written == 0 and row.spans_dropped == 2
    assert "No space left on device" in row.outcome_reason and not row.clean


def kill_the_service_then_answer(app, sample, ctx):
    """Task 'kill' stops the study's simulated service; every run calls it over HTTP."""
    import psutil as ps
    from openai import OpenAI

    if sample.id == "kill":
        runner = ps.Process(os.getppid()).parent()
        for p in runner.children():
            if "maestro.sim" in " ".join(p.cmdline()):
                p.kill()
        return "killed it"
    client = OpenAI(base_url=ctx.endpoint.base_url, api_key=ctx.endpoint.api_key, max_retries=0)
    return client.chat.completions.create(model=ctx.endpoint.model, messages=[{"role": "user", "content": sample.input}],
                                          max_tokens=16).choices[0].message.content


def test_a_dead_service_stops_the_study_and_a_retry_completes_it(tmp_path):
    samples = ["kill"] + [f"q{i}" for i in range(7)]
    mas = maestro.MAS(name="fragile", framework="custom", build=lambda ctx: None, invoke=kill_the_service_then_answer,
                      dataset=[maestro.Sample(s, f"question {s}") for s in samples])
    cfg = maestro.StudyConfig(study_id="dead", instances=[mas], backends=["sim/strong"], tools=False, repeats=1,
                              timeout_s=60, workers=1, out=str(tmp_path))
    first = maestro.run_study(cfg, progress=False, max_connection_failures=3)
    assert list(first.stopped_backends) == ["sim/strong"] and "could not reach it" in first.stopped_backends["sim/strong"]
    runs = load_study(first.path, spans=False).runs
    # the kill run succeeded; the 3 that hit the dead service were taken back; 4 never started
    assert list(runs.task_id) == ["kill"] and first.executed_counts["not_run"] == 3
    assert len(RunHistory(StudyLayout(first.path)).rows()) == 3

    # resume (a fresh service): the 7 unrecorded runs run; nothing is recorded twice
    cfg2 = maestro.StudyConfig(**{**cfg.__dict__, "instances": [maestro.MAS(
        name="fragile", framework="custom", build=lambda ctx: None,
        invoke=lambda app, s, ctx: kill_the_service_then_answer(app, s, ctx) if s.id != "kill" else "killed it",
        dataset=mas.dataset)]})
    second = maestro.run_study(cfg2, progress=False, retry=["exception"])
    runs = load_study(second.path, spans=False).runs
    assert second.executed == 7 and len(runs) == 8 and runs.run_id.is_unique
    assert runs.status.isin(["success", "failure"]).all()  # every run reached the service again


def test_retry_from_the_command_line_keeps_the_old_attempts(tmp_path, monkeypatch, capsys):
    from maestro.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "moody_mas.py").write_text(
        "import os, maestro\n"
        "def invoke(app, sample, ctx):\n"
        "    if os.environ.get('MAESTRO_TEST_MOODY') == 'bad':\n        raise RuntimeError('not today')\n"
        "    return 'fine'\n"
        "MAS = maestro.MAS(name='moody', framework='custom', build=lambda ctx: None, invoke=invoke,\n"
        "                  dataset=[maestro.Sample('a', 'q'), maestro.Sample('b', 'q')])\n")
    (tmp_path / "s.toml").write_text('[study]\nid = "moody"\ninstances = ["moody_mas:MAS"]\nbackends = ["sim/strong"]\n'
                                     'tools = false\nrepeats = 1\n')
    monkeypatch.setenv("MAESTRO_TEST_MOODY", "bad")
    assert main(["study", "run", "s.toml", "--no-progress", "--no-figures"]) == 1
    monkeypatch.setenv("MAESTRO_TEST_MOODY", "good")
    assert main(["study", "run", "s.toml", "--no-progress", "--no-figures"]) == 0  # recorded: nothing to do
    assert set(load_study("traces/moody", spans=False).runs.status) == {"exception"}
    assert main(["study", "run", "s.toml", "--no-progress", "--no-figures", "--retry", "exception"]) == 0
    runs = load_study("traces/moody", spans=False).runs
    assert set(runs.status) == {"success"} and set(runs.attempt) == {2}
    capsys.readouterr()
    assert main(["runs", "ls", "traces/moody", "--verbose"]) == 0
    assert "history/: 2 superseded attempt(s)" in capsys.readouterr().out
    assert main(["study", "run", "s.toml", "--retry", "everything"]) == 2
