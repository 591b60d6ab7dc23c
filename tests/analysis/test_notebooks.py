"""The four analysis notebooks execute top to bottom against a small real study (the
session fixture), so they never rot; the committed files match their generator."""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _generator():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS / "build_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _generator()


@pytest.mark.parametrize("name", list(GEN.NOTEBOOKS))
def test_committed_notebook_matches_its_generator_and_has_no_outputs(name):
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert committed == GEN.build(name), f"{name} is stale: run notebooks/build_notebooks.py"
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def _outputs(cell) -> list:
    return [o for o in cell.get("outputs", [])]


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in _outputs(c))


def _text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in _outputs(c):
            parts.append(o.get("text", ""))
            parts.append(json.dumps(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


# name -> (number of figures drawn: one PNG output per figure cell, strings that must appear in the text outputs)
EXPECT = {
    "01_explore_traces.ipynb": (10, ["runs; simulated: True", "llm", "agent_name"]),
    "02_call_graph_similarity.ipynb": (3, ["hand-overs:", "Jaccard", "lcs_mean"]),
    "03_cost_latency_accuracy.ipynb": (6, ["max |difference|:", "frontier_freq", "delta_cost_usd"]),
    "04_failures.ipynb": (2, ["failed runs out of 16", "Silent semantic failures", "Empty prediction"]),
}


def test_notebooks_execute_against_a_fresh_study(analysis_study, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    monkeypatch.setenv("MAESTRO_STUDY", str(analysis_study))  # the kernel inherits the environment
    t0 = time.perf_counter()
    for name, (n_images, needles) in EXPECT.items():
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        # kernel "python3" is ipykernel's own spec; jupyter_client runs it with this interpreter
        client = NotebookClient(nb, kernel_name="python3", timeout=120,
                                resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        errors = [o for c in nb.cells for o in _outputs(c) if o.get("output_type") == "error"]
        assert errors == [], f"{name}: {errors[:1]}"
        assert _images(nb) == n_images, name
        text = _text(nb)
        for needle in needles:
            assert needle in text, f"{name}: {needle!r} not in the outputs"
        if name.startswith("03"):  # the per-call costs add up to the runner's run cost
            diff = float(re.search(r"max \|difference\|: (\S+) USD", text).group(1))
            assert diff < 1e-9
    assert time.perf_counter() - t0 < 90
