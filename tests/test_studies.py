"""The bundled study files: both load and validate, the architecture suite has the shape
the paper's study grid asks for, and the smoke study runs end to end with every run
recorded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import maestro
from maestro.instances import get_instance
from maestro.runner.config import expand_runs, load_study_config
from maestro.runner.study import run_study

STUDIES = Path(__file__).resolve().parents[1] / "studies"
STATUSES = {"success", "failure", "timeout", "exception"}


def _runs(config):
    tasks = {name: get_instance(name).tasks(n=config.tasks, source=config.task_file, seed=config.seed)
             for name in config.instances}
    return expand_runs(config, tasks)


def test_architecture_suite_is_the_papers_grid_on_a_balanced_task_design():
    c = load_study_config(STUDIES / "architecture_suite.toml")
    assert c.instances == ("crag", "plan_execute", "lats")
    assert c.backends == ("sim/strong", "sim/underspecified", "sim/abstaining", "sim/confabulating")
    assert c.tools == (True, False) and c.repeats == 5 and c.tasks == 16
    # the paper's 10-minute cap in simulated time at the study's time factor
    assert c.timeout_s == pytest.approx(600 * c.time_factor) and c.max_tokens == 8192 and c.time_factor == 0.02
    runs = _runs(c)
    assert len(runs) == 3 * 4 * 2 * c.tasks * 5 == len({r.run_id for r in runs})
    # the three architectures answer the same tasks: two per stratum of hops x evidence location
    tasks = {name: get_instance(name).tasks(n=c.tasks, seed=c.seed) for name in c.instances}
    ids = {name: [t.task_id for t in ts] for name, ts in tasks.items()}
    assert ids["crag"] == ids["plan_execute"] == ids["lats"]
    strata = Counter((t.meta["hops"], t.meta["evidence"]) for t in tasks["crag"])
    assert set(strata.values()) == {2} and len(strata) == 8
    assert {e for _, e in strata} == {"local", "web", "both"} and {h for h, _ in strata} == {1, 2, 3}


def test_smoke_study_loads_and_runs_tree_of_thoughts_with_tools_off_only():
    c = load_study_config(STUDIES / "smoke.toml")
    assert set(c.instances) == {"crag", "plan_execute", "lats", "tot"}
    runs = _runs(c)
    per_instance = {name: sorted(r.tools_enabled for r in runs if r.instance == name) for name in c.instances}
    assert per_instance["tot"] == [False] * c.tasks  # no duplicate on/off runs for a tool-less instance
    for name in ("crag", "plan_execute", "lats"):
        assert per_instance[name] == [False] * c.tasks + [True] * c.tasks


@pytest.mark.slow
def test_smoke_study_records_every_run(tmp_path):
    c = load_study_config(STUDIES / "smoke.toml", time_factor=0, out=str(tmp_path), workers=2)
    expected = {r.run_id for r in _runs(c)}
    result = run_study(c, progress=False)
    study = maestro.load_study(result.path)
    assert result.total == len(expected) and set(study.runs.run_id) == expected
    assert set(study.runs.status) <= STATUSES, study.runs[["run_id", "status", "outcome_reason"]]
    assert set(study.runs.instance) == {"crag", "plan_execute", "lats", "tot"}
    assert set(study.spans.run_id) == expected
