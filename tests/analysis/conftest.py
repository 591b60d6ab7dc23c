"""A small real study for the analysis tests, generated once per test session.

CRAG on LangGraph against the simulated service over HTTP, two model profiles (one that
abstains, so there are failures to classify), tools on and off (so paired tool deltas
exist), two tasks x two repeats: 16 runs, with ``time_factor=0`` so it takes seconds.
``extra_study`` adds LATS and travel planning (AutoGen) for reports over several studies.
"""

from __future__ import annotations

import pytest

import maestro
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study

ANALYSIS_STUDY = {
    "id": "analysis-t",
    "store_answers": True,  # the failure rules and judges read the answers
    "instances": ["crag"],
    "backends": ["sim/strong", "sim/abstaining"],
    "tools": "both",
    "repeats": 2,
    "tasks": 2,
    "time_factor": 0,
    "workers": 2,
    "timeout_s": 120,
    "seed": 11,
}
"""The fixture study's configuration (``out`` is a session temporary folder)."""

EXTRA_STUDY = {
    "id": "analysis-x",
    "store_answers": True,
    "instances": ["lats", "travel_planning"],
    "backends": ["sim/strong"],
    "tools": "both",
    "repeats": 2,
    "tasks": 1,
    "time_factor": 0,
    "workers": 2,
    "timeout_s": 120,
    "seed": 12,
}
"""A second study with two more architectures (LATS on LangGraph, travel planning on
AutoGen): 6 runs (travel planning has no tools to switch), so reports span studies,
instances and frameworks."""


@pytest.fixture(scope="session")
def analysis_study(tmp_path_factory):
    """Path of a finished small study (see the module docstring)."""
    out = tmp_path_factory.mktemp("analysis-study")
    result = run_study(study_config_from_dict({**ANALYSIS_STUDY, "out": str(out)}), progress=False)
    assert result.total == result.executed == 16, result.counts
    maestro.load_study(result.path)  # it loads cleanly before any analysis test relies on it
    return result.path


@pytest.fixture(scope="session")
def extra_study(tmp_path_factory):
    """Path of a finished 6-run study of two other instances (see ``EXTRA_STUDY``)."""
    out = tmp_path_factory.mktemp("analysis-extra")
    result = run_study(study_config_from_dict({**EXTRA_STUDY, "out": str(out)}), progress=False)
    # travel planning has no external tools, so it runs with tools off only: 4 + 2 runs
    assert result.total == result.executed == 6, result.counts
    return result.path
