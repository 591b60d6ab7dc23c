"""Shared fixtures: a run telemetry writing into a temporary study folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path: make the shared helper
# modules in this folder (trace_helpers) importable from every test file.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from maestro.collector.export import RunIdentity
from maestro.collector.telemetry import RunTelemetry
from maestro.store.layout import StudyLayout


@pytest.fixture
def layout(tmp_path) -> StudyLayout:
    return StudyLayout.for_study(tmp_path, "study-t").create()


@pytest.fixture
def make_telemetry(layout):
    made = []

    def make(run_id: str = "run-1", **kwargs) -> RunTelemetry:
        kwargs.setdefault("sample_resources", False)
        ident = RunIdentity(study_id=layout.study_id, run_id=run_id, instance="toy", framework="langgraph",
                            backend="sim/strong", seed=7, task_id="t1", simulated=True)
        t = RunTelemetry(ident, layout.spans_file(run_id), layout.resources_file(run_id), **kwargs)
        made.append(t)
        return t

    yield make
    for t in made:
        t.finish()
