"""Every ``maestro`` command ends in one line on stderr, never a traceback: a bad study
file, option or backend exits 2 before anything is written; a file-system error (full disk,
read-only or missing folder) exits 1 naming the path; anything unexpected exits 1 naming the
exception and pointing at ``--debug``, which prints the traceback. Task files are named by
file and line, never echoed."""

from __future__ import annotations

import errno

import pytest
from reliability.test_config_validation import BAD_VALUES, write_study  # the same bad values, through the CLI

import maestro.runner
import maestro.store.reader
from maestro.cli import main

ADHOC = ["--repeats", "1", "--tasks", "1", "--no-progress", "--no-figures"]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize("study, tables, key, words", BAD_VALUES)
def test_study_run_with_a_bad_value_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys,
                                                                            study, tables, key, words):
    monkeypatch.chdir(tmp_path)
    f = write_study(tmp_path, study, tables)
    assert main(["study", "run", str(f), "--no-progress"]) == 2
    err = _one_line(capsys)
    assert err.startswith(f"maestro: error: {f}: key {key!r}: expected ") and words in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, words", [
    pytest.param('study = "x"\n', "key 'study': expected a table ([study]), got 'x' (a string)", id="study-string"),
    pytest.param(b'[study]\nid = "caf\xe9"\n', "not a UTF-8 text file (byte 0xe9 on line 2)", id="not-utf8"),
    pytest.param(None, "is a folder, not a study file", id="a-folder"),
    pytest.param("[study\n", "invalid TOML", id="invalid-toml"),
])
def test_study_run_with_an_unreadable_file_exits_2_with_one_line(tmp_path, capsys, content, words):
    f = tmp_path / "study.toml"
    if content is None:
        f.mkdir()
    elif isinstance(content, bytes):
        f.write_bytes(content)
    else:
        f.write_text(content)
    assert main(["study", "run", str(f)]) == 2
    assert _one_line(capsys).startswith(f"maestro: error: {f}: {words}")


@pytest.mark.parametrize("argv, words", [
    pytest.param(["run", "crag", "--timeout", "inf"], "argument --timeout: expected a finite number > 0, got 'inf'",
                 id="timeout-inf"),
    pytest.param(["run", "crag", "--timeout", "nan"], "argument --timeout: expected a finite number > 0, got 'nan'",
                 id="timeout-nan"),
    pytest.param(["run", "crag", "--timeout", "0"], "argument --timeout: expected a finite number > 0", id="timeout-0"),
    pytest.param(["run", "crag", "--time-factor", "-1"], "argument --time-factor: expected a finite number >= 0",
                 id="time-factor-negative"),
    pytest.param(["run", "crag", "--repeats", "2.5"], "argument --repeats: expected an integer >= 1, got '2.5'",
                 id="repeats-float"),
    pytest.param(["run", "crag", "--tasks", "0"], "argument --tasks: expected an integer >= 1, got '0'", id="tasks-0"),
    pytest.param(["run", "crag", "--workers", "0"], "argument --workers: expected an integer >= 1", id="workers-0"),
    pytest.param(["run", "crag", "--seed", "x"], "argument --seed: expected an integer, got 'x'", id="seed-word"),
    pytest.param(["run", "crag", "--tools", "sometimes"], "maestro run: key 'tools': expected true, false",
                 id="tools-word"),
    pytest.param(["run", "crag", "--backend", "bogus"], "invalid backend 'bogus'", id="bad-backend"),
    pytest.param(["study", "run", "{study}", "--repeats", "0"], "argument --repeats: expected an integer >= 1",
                 id="study-repeats-0"),
    pytest.param(["study", "run", "{study}", "--workers", "-2"], "argument --workers: expected an integer >= 1",
                 id="study-workers-negative"),
])
def test_a_bad_option_exits_2_with_one_line_naming_it(tmp_path, capsys, argv, words):
    f = write_study(tmp_path)
    argv = [a.replace("{study}", str(f)) for a in argv] + ["--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 2
    assert words in _one_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("line, words", [
    pytest.param("SECRET-TOKEN not json", ":1: invalid JSON", id="not-json"),
    pytest.param('{"id": "a", "question": "q", "answer": "x"}\n{"question": "SECRET-TOKEN", "answer": "x"}',
                 ":2: missing required field 'id'", id="missing-id"),
    pytest.param('["SECRET-TOKEN"]', ":1: expected a JSON object, got list", id="not-an-object"),
])
def test_a_bad_task_file_names_file_and_line_without_its_text(tmp_path, capsys, line, words):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(line + "\n")
    assert main(["run", "crag", "--task-file", str(tasks), "--out", str(tmp_path / "out"), *ADHOC]) == 2
    err = _one_line(capsys)
    assert err.startswith(f"maestro: error: task file {tasks}{words}") and "SECRET" not in err
    assert not (tmp_path / "out").exists()


def test_a_users_own_samples_file_is_named_by_line_too(tmp_path, monkeypatch, capsys):
    (tmp_path / "cli_err_mas.py").write_text(
        "import maestro\n"
        "MAS = maestro.MAS(name='mine', framework='custom', build=lambda ctx: None, invoke=lambda a, s, c: 'x',\n"
        "                  dataset=[maestro.Sample('a', 'q')])\n")
    monkeypatch.chdir(tmp_path)  # module:attribute references import from the current folder
    monkeypatch.syspath_prepend(str(tmp_path))
    tasks = tmp_path / "samples.jsonl"
    tasks.write_text('{"id": "ok", "input": "q"}\n{"id": "", "input": "SECRET-TOKEN"}\n')
    assert main(["run", "cli_err_mas:MAS", "--task-file", str(tasks), "--out", str(tmp_path / "out"), *ADHOC]) == 2
    err = _one_line(capsys)
    assert err.startswith(f"maestro: error: task file {tasks}:2: not a sample") and "SECRET" not in err
    assert not (tmp_path / "out").exists()


def test_an_out_folder_under_a_file_exits_1_naming_the_path(tmp_path, capsys):
    """A real file-system error (NotADirectoryError: root ignores chmod, not this)."""
    (tmp_path / "afile").write_text("a regular file")
    out = tmp_path / "afile" / "traces"
    f = write_study(tmp_path, {"out": f'"{out}"', "repeats": "1", "tasks": "1"})
    assert main(["study", "run", str(f), "--no-progress"]) == 1
    assert _one_line(capsys) == f"maestro: error: Not a directory ({out / 'v'})"
    assert (tmp_path / "afile").read_text() == "a regular file"


@pytest.mark.parametrize("error, line", [
    pytest.param(OSError(errno.ENOSPC, "No space left on device", "/data/traces/v/runs.parquet"),
                 "No space left on device (/data/traces/v/runs.parquet)", id="disk-full"),
    pytest.param(OSError(errno.EROFS, "Read-only file system", "/data/traces/v"),
                 "Read-only file system (/data/traces/v)", id="read-only"),
    pytest.param(PermissionError(errno.EACCES, "Permission denied", "/data/traces/v/study.json"),
                 "Permission denied (/data/traces/v/study.json)", id="permission-denied"),
    pytest.param(OSError(errno.EXDEV, "Invalid cross-device link", "/a/tmp", None, "/b/runs.parquet"),
                 "Invalid cross-device link (/a/tmp -> /b/runs.parquet)", id="two-paths"),
    pytest.param(OSError("flush failed"), "flush failed", id="no-errno"),
])
def test_a_file_system_error_exits_1_with_one_line(tmp_path, monkeypatch, capsys, error, line):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(maestro.runner, "run_study", fail)
    f = write_study(tmp_path)
    assert main(["study", "run", str(f), "--no-progress"]) == 1
    assert _one_line(capsys) == f"maestro: error: {line}"


def _raise_unexpected(*args, **kwargs):
    raise RuntimeError("the index is\ncorrupt")


@pytest.mark.parametrize("argv", [
    pytest.param(["study", "run", "{study}", "--no-progress"], id="study-run"),
    pytest.param(["run", "crag", "--out", "{out}", "--no-progress"], id="run"),
    pytest.param(["runs", "ls", "{out}"], id="runs-ls"),
    pytest.param(["report", "{out}", "--no-progress"], id="report"),
])
def test_an_unexpected_error_is_one_line_with_a_hint_and_debug_gives_the_traceback(tmp_path, monkeypatch, capsys,
                                                                                   argv):
    import maestro.analysis.report

    monkeypatch.setattr(maestro.runner, "run_study", _raise_unexpected)
    monkeypatch.setattr(maestro.store.reader, "load_study", _raise_unexpected)
    monkeypatch.setattr(maestro.analysis.report, "write_report", _raise_unexpected)
    f = write_study(tmp_path)
    argv = [a.replace("{study}", str(f)).replace("{out}", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 1
    assert _one_line(capsys) == ("maestro: error: unexpected RuntimeError: the index is; corrupt "
                                 "(rerun with --debug for the traceback)")
    for debug_argv in (["--debug", *argv], [*argv, "--debug"]):
        assert main(debug_argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):") and "_raise_unexpected" in err
        assert err.splitlines()[-1] == "maestro: error: unexpected RuntimeError: the index is; corrupt"


def test_debug_also_shows_the_traceback_of_a_file_system_error(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/x")

    monkeypatch.setattr(maestro.runner, "run_study", fail)
    f = write_study(tmp_path)
    assert main(["--debug", "study", "run", str(f)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1] == "maestro: error: No space left on device (/data/x)"


def test_a_usage_error_is_one_line_and_help_still_exits_0(capsys):
    assert main(["study", "run"]) == 2
    assert _one_line(capsys).startswith("maestro study run: error: the following arguments are required: file")
    assert main(["--help"]) == 0
    assert "--debug" in capsys.readouterr().out
