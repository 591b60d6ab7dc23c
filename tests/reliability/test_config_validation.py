"""A study file is validated into typed values before anything runs or is written: every
bad value is one ConfigError line naming the file, the key, what was expected and what was
given (and its kind)."""

from __future__ import annotations

import math

import pytest

import maestro
from maestro.runner.config import ConfigError, load_study_config, study_config_from_dict

# key -> the TOML text of a valid value; a case replaces or adds keys in [study]
BASE = {"id": '"v"', "instances": '["crag"]', "backends": '["sim/strong"]'}


def write_study(tmp_path, study: dict[str, str] | None = None, tables: str = "", *, out: bool = True):
    """A study TOML file in ``tmp_path`` whose out folder is ``tmp_path / "out"``."""
    body = {**BASE, **({"out": f'"{tmp_path / "out"}"'} if out else {}), **(study or {})}
    f = tmp_path / "study.toml"
    f.write_text("[study]\n" + "".join(f"{k} = {v}\n" for k, v in body.items()) + tables)
    return f


# (TOML values in [study], extra tables, the key named, the words after "key '<key>': ")
BAD_VALUES = [
    pytest.param({"capture_content": '"false"'}, "", "capture_content",
                 "expected a boolean (true/false), got 'false' (a string)", id="capture-content-string"),
    pytest.param({"capture_content": "1"}, "", "capture_content", "expected a boolean (true/false), got 1 (an integer)",
                 id="capture-content-int"),
    pytest.param({"store_answers": '"yes"'}, "", "store_answers", "expected a boolean (true/false), got 'yes'",
                 id="store-answers-string"),
    pytest.param({"timeout_s": "inf"}, "", "timeout_s", "expected a finite number > 0, got inf (not a finite number)",
                 id="timeout-infinite"),
    pytest.param({"timeout_s": "nan"}, "", "timeout_s", "expected a finite number > 0, got nan (not a finite number)",
                 id="timeout-nan"),
    pytest.param({"timeout_s": "0"}, "", "timeout_s", "expected a finite number > 0, got 0 (an integer)",
                 id="timeout-zero"),
    pytest.param({"timeout_s": "-1.5"}, "", "timeout_s", "expected a finite number > 0, got -1.5 (a number)",
                 id="timeout-negative"),
    pytest.param({"timeout_s": '"600"'}, "", "timeout_s", "expected a finite number > 0, got '600' (a string)",
                 id="timeout-string"),
    pytest.param({"timeout_s": "true"}, "", "timeout_s", "got True (a boolean)", id="timeout-bool"),
    pytest.param({"time_factor": "-0.1"}, "", "time_factor", "expected a finite number >= 0, got -0.1",
                 id="time-factor-negative"),
    pytest.param({"time_factor": "inf"}, "", "time_factor", "expected a finite number >= 0, got inf",
                 id="time-factor-infinite"),
    pytest.param({"max_tokens": "0"}, "", "max_tokens", "expected an integer >= 1, got 0", id="max-tokens-zero"),
    pytest.param({"max_tokens": "8192.0"}, "", "max_tokens", "expected an integer >= 1, got 8192.0 (a number)",
                 id="max-tokens-float"),
    pytest.param({"repeats": "2.5"}, "", "repeats", "expected an integer >= 1, got 2.5 (a number)", id="repeats-float"),
    pytest.param({"repeats": "0"}, "", "repeats", "expected an integer >= 1, got 0 (an integer)", id="repeats-zero"),
    pytest.param({"repeats": "true"}, "", "repeats", "expected an integer >= 1, got True (a boolean)",
                 id="repeats-bool"),
    pytest.param({"tasks": "2.5"}, "", "tasks", "expected an integer >= 1 (or omit it for every task), got 2.5",
                 id="tasks-float"),
    pytest.param({"tasks": "0"}, "", "tasks", "got 0 (an integer)", id="tasks-zero"),
    pytest.param({"workers": "0"}, "", "workers", "expected an integer >= 1 (or omit it for one per core), got 0",
                 id="workers-zero"),
    pytest.param({"workers": "1.5"}, "", "workers", "got 1.5 (a number)", id="workers-float"),
    pytest.param({"seed": "1.5"}, "", "seed", "expected an integer, got 1.5 (a number)", id="seed-float"),
    pytest.param({"seed": '"0"'}, "", "seed", "expected an integer, got '0' (a string)", id="seed-string"),
    pytest.param({"tools": '"sometimes"'}, "", "tools", "got 'sometimes' (a string)", id="tools-word"),
    pytest.param({"tools": "[1]"}, "", "tools", "got [1] (a list)", id="tools-number"),
    pytest.param({"id": "7"}, "", "id", "expected a string, got 7 (an integer)", id="id-number"),
    pytest.param({"instances": "3"}, "", "instances", "expected a list of strings, got 3 (an integer)",
                 id="instances-number"),
    pytest.param({"backends": "[1]"}, "", "backends", "expected a list of strings, got [1] (a list)",
                 id="backends-number"),
    pytest.param({"out": "3"}, "", "out", "expected a path (a non-empty string), got 3 (an integer)", id="out-number"),
    pytest.param({"task_file": '"no-such-tasks.jsonl"'}, "", "task_file",
                 "expected an existing file, got 'no-such-tasks.jsonl' (does not exist)", id="task-file-missing"),
    pytest.param({"task_file": '"."'}, "", "task_file", "expected an existing file, got '.' (a folder)",
                 id="task-file-folder"),
    pytest.param({}, '[prices]\n"sim/strong" = { input = -1.0, output = 0.6 }\n', "prices.sim/strong.input",
                 "expected a finite number >= 0, got -1.0 (a number)", id="price-negative"),
    pytest.param({}, '[prices]\n"sim/strong" = { input = "0.15", output = 0.6 }\n', "prices.sim/strong.input",
                 "got '0.15' (a string)", id="price-string"),
    pytest.param({}, '[prices]\n"sim/strong" = { input = 0.15, output = inf }\n', "prices.sim/strong.output",
                 "got inf (not a finite number)", id="price-infinite"),
    pytest.param({}, '[prices]\n"sim/strong" = { input = 0.15 }\n', "prices.sim/strong",
                 "expected a table {input = <USD per 1M tokens>, output = <USD per 1M tokens>}, got {'input': 0.15}",
                 id="price-missing-output"),
    pytest.param({}, '[prices]\n"sim/strong" = 0.15\n', "prices.sim/strong", "got 0.15 (a number)",
                 id="price-not-a-table"),
    pytest.param({"prices": "3"}, "", "prices", "expected a table of backend -> {input, output}, got 3 (an integer)",
                 id="prices-not-a-table"),
    pytest.param({}, "[instance_options]\ncrag = 3\n", "instance_options.crag",
                 "expected a table of options, got 3 (an integer)", id="instance-options-not-tables"),
    pytest.param({"instance_options": "3"}, "", "instance_options",
                 "expected a table of tables (instance name -> options), got 3 (an integer)",
                 id="instance-options-not-a-table"),
]


@pytest.mark.parametrize("study, tables, key, words", BAD_VALUES)
def test_a_bad_value_is_one_line_naming_file_key_expected_and_given(tmp_path, monkeypatch, study, tables, key, words):
    monkeypatch.chdir(tmp_path)  # relative task files resolve here
    f = write_study(tmp_path, study, tables)
    with pytest.raises(ConfigError) as e:
        load_study_config(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: key {key!r}: expected ") and words in msg
    assert "\n" not in msg and e.value.key == key
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("write, words", [
    pytest.param(lambda f: f.write_text('study = "x"\n'), "key 'study': expected a table ([study]), got 'x' (a string)",
                 id="study-not-a-table"),
    pytest.param(lambda f: f.write_bytes(b'[study]\nid = "caf\xe9"\n'),
                 "not a UTF-8 text file (byte 0xe9 on line 2); TOML files are UTF-8", id="not-utf8"),
    pytest.param(lambda f: f.mkdir(), "is a folder, not a study file", id="a-folder"),
    pytest.param(lambda f: None, "no such study file", id="missing"),
    pytest.param(lambda f: f.write_text("[study\n"), "invalid TOML", id="invalid-toml"),
    pytest.param(lambda f: f.write_text('[study]\nid = "x"\ninstances = ["crag"]\nbackends = ["sim/strong"]\n'
                                        "[sutdy_options]\nk = 1\n"),
                 "unknown table(s) or key(s) outside [study]: sutdy_options", id="unknown-table"),
    pytest.param(lambda f: f.write_text('[study]\nid = "x"\n'), "missing 'instances' and 'backends'",
                 id="missing-keys"),
])
def test_an_unreadable_or_misshapen_file_is_one_line_naming_it(tmp_path, write, words):
    f = tmp_path / "study.toml"
    write(f)
    with pytest.raises(ConfigError) as e:
        load_study_config(f)
    assert str(e.value).startswith(f"{f}: {words}") and "\n" not in str(e.value)


@pytest.mark.parametrize("overrides, words", [
    pytest.param({"repeats": 0}, "key 'repeats' (override): expected an integer >= 1, got 0", id="repeats"),
    pytest.param({"workers": 1.5}, "key 'workers' (override): expected an integer >= 1", id="workers"),
    pytest.param({"timeout_s": math.inf}, "key 'timeout_s' (override): expected a finite number > 0", id="timeout"),
    pytest.param({"id": "../x"}, "key 'id' (override): invalid study id '../x'", id="study-id"),
])
def test_a_bad_override_is_named_as_one(tmp_path, overrides, words):
    f = write_study(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_study_config(f, **overrides)
    assert str(e.value).startswith(f"{f}: {words}")


@pytest.mark.parametrize("kw, words", [
    pytest.param({"capture_content": "false"}, "key 'capture_content': expected a boolean (true/false), got 'false'",
                 id="capture-content-string"),
    pytest.param({"store_answers": None}, "key 'store_answers': expected a boolean (true/false), got None (nothing)",
                 id="store-answers-none"),
    pytest.param({"timeout_s": math.inf}, "key 'timeout_s': expected a finite number > 0, got inf", id="timeout-inf"),
    pytest.param({"timeout_s": math.nan}, "key 'timeout_s': expected a finite number > 0, got nan", id="timeout-nan"),
    pytest.param({"repeats": 2.5}, "key 'repeats': expected an integer >= 1, got 2.5", id="repeats-float"),
    pytest.param({"repeats": True}, "key 'repeats': expected an integer >= 1, got True (a boolean)", id="repeats-bool"),
    pytest.param({"tasks": 2.0}, "key 'tasks': expected an integer >= 1", id="tasks-float"),
    pytest.param({"max_tokens": True}, "key 'max_tokens': expected an integer >= 1, got True", id="max-tokens-bool"),
    pytest.param({"prices": {"sim/strong": {"input": -0.1, "output": 1}}},
                 "key 'prices.sim/strong.input': expected a finite number >= 0, got -0.1", id="price-negative"),
    pytest.param({"prices": {"sim/strong": {"input": 1, "output": 1, "cached": 0.5}}},
                 "key 'prices.sim/strong': expected a table {input", id="price-extra-key"),
    pytest.param({"backends": [1]}, "key 'backends': expected a list of backend specs (strings), got 1",
                 id="backend-not-a-string"),
    pytest.param({"study_id": 7}, "invalid study id 7", id="study-id-number"),
])
def test_python_callers_get_the_same_checks(tmp_path, kw, words):
    body = dict(study_id="py", instances=["crag"], backends=["sim/strong"], out=str(tmp_path / "out"))
    body.update(kw)
    with pytest.raises(ConfigError) as e:
        maestro.StudyConfig(**body)
    assert str(e.value).startswith(words) and "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()


def test_valid_values_are_kept_as_written(tmp_path):
    """Ints stay ints (a resumed study compares the recorded config as JSON: 600 is not 600.0)."""
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "t1", "question": "q", "answer": "a"}\n')
    f = write_study(tmp_path, {"timeout_s": "600", "time_factor": "0", "capture_content": "true", "tasks": "2",
                               "workers": "3", "seed": "-4", "task_file": f'"{tasks}"', "tools": '["on", false]'},
                    '[prices]\n"sim/strong" = { input = 0, output = 2.5 }\n[instance_options.crag]\nk = 4\n')
    c = load_study_config(f)
    assert (c.timeout_s, c.time_factor, c.capture_content, c.tasks, c.workers, c.seed) == (600, 0, True, 2, 3, -4)
    assert type(c.timeout_s) is int and c.tools == (True, False) and c.task_file == str(tasks)
    assert c.to_dict()["timeout_s"] == 600 and c.prices == {"sim/strong": {"input": 0, "output": 2.5}}
    assert c.instance_options == {"crag": {"k": 4}}
    # and a Python caller may give paths and a single backend
    p = maestro.StudyConfig(study_id="py", instances=["crag"], backends="sim/strong", out=tmp_path / "o",
                            task_file=tasks, tools="both")
    assert p.out == str(tmp_path / "o") and p.task_file == str(tasks) and p.backends == ("sim/strong",)
    assert p.to_dict()["out"] == str(tmp_path / "o")


def test_an_out_path_that_is_a_file_is_refused_up_front(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"key 'out': expected a folder, got '.*taken' \(a file\)"):
        study_config_from_dict({"id": "s", "instances": ["crag"], "backends": ["sim/strong"],
                                "out": str(tmp_path / "taken")}, "here")


def test_run_study_refuses_before_making_the_study_folder(tmp_path):
    """Validation is part of constructing the config, so run_study never sees a bad one."""
    f = write_study(tmp_path, {"timeout_s": "inf"})
    with pytest.raises(ConfigError):
        maestro.run_study(load_study_config(f), progress=False)
    assert not (tmp_path / "out").exists()
