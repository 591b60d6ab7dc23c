from __future__ import annotations

import pytest

from maestro.contract import Task
from maestro.runner.config import ConfigError, expand_runs, load_study_config, study_config_from_dict


def _cfg(**kw):
    base = {"id": "s", "instances": ["crag"], "backends": ["sim/strong"]}
    base.update(kw)
    return study_config_from_dict(base)


def test_toml_file_and_overrides(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[study]\nid = "x"\ninstances = ["crag"]\nbackends = ["sim/strong", "sim/flaky"]\ntools = "both"\n'
                 'repeats = 3\n[prices]\n"sim/strong" = {input = 1.0, output = 2.0}\n')
    c = load_study_config(f, workers=1)
    assert c.study_id == "x" and c.tools == (True, False) and c.repeats == 3 and c.workers == 1
    assert c.prices == {"sim/strong": {"input": 1.0, "output": 2.0}}
    assert c.timeout_s == 600 and c.max_tokens == 8192


@pytest.mark.parametrize(
    "kw, words",
    [
        pytest.param({"backends": ["bogus"]}, "invalid backend 'bogus'", id="bad-backend"),
        pytest.param({"instances": ["nope"]}, "unknown instance 'nope'", id="bad-instance"),
        pytest.param({"repeats": 0}, "key 'repeats': expected an integer >= 1, got 0 (an integer)", id="zero-repeats"),
        pytest.param({"tools": "sometimes"}, "key 'tools': expected true, false, 'on', 'off', 'both' or a list of them, "
                     "got 'sometimes' (a string)", id="bad-tools"),
        pytest.param({"colour": "red"}, "unknown key(s) colour", id="unknown-key"),
        pytest.param({"id": "../etc"}, "invalid study id", id="unsafe-id"),
        pytest.param({"timeout_s": -1}, "key 'timeout_s': expected a finite number > 0, got -1", id="negative-timeout"),
        pytest.param({"task_file": "/no/such.jsonl"}, "key 'task_file': expected an existing file, got '/no/such.jsonl' "
                     "(does not exist)", id="missing-task-file"),
        pytest.param({"instance_options": {"crga": {"k": 2}}}, "instance_options.crga: no such system in this study (did you mean 'crag'?)",
                     id="options-for-unknown-instance"),
        pytest.param({"instance_options": {"crag": 2}}, "key 'instance_options.crag': expected a table of options, got 2",
                     id="options-not-a-table"),
    ],
)
def test_invalid_configs_name_the_problem(kw, words):
    with pytest.raises(ConfigError) as e:
        _cfg(**kw)
    assert words in str(e.value)


def test_bad_toml_names_file(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[study\n")
    with pytest.raises(ConfigError, match="broken.toml: invalid TOML"):
        load_study_config(f)


def test_expansion_is_complete_stable_and_paired():
    c = _cfg(backends=["sim/strong", "sim/flaky"], tools="both", repeats=3)
    tasks = {"crag": [Task("t1", "q1"), Task("t2", "q2")]}
    runs = expand_runs(c, tasks)
    assert len(runs) == 2 * 2 * 3 * 2 and len({r.run_id for r in runs}) == len(runs)
    assert runs == expand_runs(c, tasks)
    # runs that differ only in backend or tools share a seed (paired comparisons)
    seeds = {(r.task_id, r.repeat): set() for r in runs}
    for r in runs:
        seeds[(r.task_id, r.repeat)].add(r.seed)
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == len(seeds)
    assert [r.repeat for r in runs[:8]] == [0] * 8  # repeat-major order


def test_toolless_instances_run_only_with_tools_off():
    c = _cfg(instances=["crag"], backends=["sim/strong"], tools="both", repeats=2)
    tasks = {"crag": [Task("t1", "q1")]}
    with_tools = expand_runs(c, tasks, tool_counts={"crag": 2})
    assert sorted({r.tools_enabled for r in with_tools}) == [False, True] and len(with_tools) == 4
    toolless = expand_runs(c, tasks, tool_counts={"crag": 0})
    # one run per (task, repeat), tools off, no duplicate on/off pair
    assert [(r.tools_enabled, r.repeat) for r in toolless] == [(False, 0), (False, 1)]
    assert all(".notools." in r.run_id for r in toolless)
    only_on = _cfg(instances=["crag"], tools=True, repeats=1)
    assert [r.tools_enabled for r in expand_runs(only_on, tasks, tool_counts={"crag": 0})] == [False]
    # unknown tool count (instance failed to load): the study's settings stand
    assert len(expand_runs(c, tasks, tool_counts={"crag": None})) == 4
    # by default the registered instance's own count is used (CRAG has two tools)
    assert len(expand_runs(c, tasks)) == 4
