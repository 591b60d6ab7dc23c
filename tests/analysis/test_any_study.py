"""The report is right on any study, not only the built-in demo instances: a study like one
recorded with ``maestro.trace_run`` around your own MAS (one backend, no model, provider or
tool setting, no gold, nothing judged), and one with two backends x tools on/off judged by
a scorer. Every figure is drawn, no label says "nan", "None" or "<NA>", backends stay apart
and an unjudged run is never a failure."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from matplotlib.text import Text

from maestro.analysis.html import cell_summary
from maestro.analysis.report import FIGURES, load_report_data, render_figure, write_report

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, assert_png_not_blank, run_row, write_study  # noqa: E402 - after the sys.path insert

NO_VALUE = re.compile(r"\bnan\b|\bNone\b|<NA>|\bNaT\b")


def _spans(run: dict, *, model: str | None) -> list[dict]:
    """A two-agent run: a -> b, one model call each, a tool call in a."""
    b = SpanBuilder(run)
    root = b.add("run", dur_ms=30)
    b.message("__start__", "a", root)
    a = b.add("agent", root, agent_name="a", dur_ms=8)
    b.add("llm", a, agent_name="a", request_model=model, input_tokens=20 + run["seed"], output_tokens=5,
          total_tokens=25 + run["seed"], input_bytes=300, output_bytes=90, total_bytes=390)
    b.add("tool", a, agent_name="a", tool_name="search", input_bytes=10, output_bytes=50)
    b.message("a", "b", root)
    ag = b.add("agent", root, agent_name="b", dur_ms=6)
    b.add("llm", ag, agent_name="b", request_model=model, input_tokens=30, output_tokens=8, total_tokens=38,
          input_bytes=400, output_bytes=120, total_bytes=520)
    b.message("b", "__end__", root)
    return b.rows


def _resources(run: dict) -> list[dict]:
    """Four CPU/memory samples 5 ms apart from the run's start (SpanBuilder's clock)."""
    return [{"study_id": run["study_id"], "run_id": run["run_id"], "time_ns": 1_000_000_000 + k * 5_000_000,
             "cpu_percent": 20.0 + k, "rss_bytes": 50_000_000 + k, "num_processes": 1} for k in range(4)]


def _study(root: Path, runs: list[dict], model: str | None) -> Path:
    return write_study(root, runs, {r["run_id"]: _spans(r, model=model) for r in runs},
                       {r["run_id"]: _resources(r) for r in runs}, simulated=False, prices={})


USER = dict(instance="custom", framework="custom", backend="", model=None, provider=None, simulated=False,
            tools_enabled=None, judgement="unjudged", gold=None, exact_match=None, f1=None, answer="some answer",
            cost_usd=None, task_id="", repeat=0, cpu_mean=21.0, rss_peak_bytes=50_000_003)


@pytest.fixture(scope="module")
def user_study(tmp_path_factory):
    """Three runs of one MAS, traced as a user would: nothing but the MAS's own spans."""
    runs = [run_row("mine", f"run-{i}", seed=i, duration_s=0.03 + i / 100, **USER) for i in range(3)]
    return _study(tmp_path_factory.mktemp("user") / "mine", runs, model=None)


@pytest.fixture(scope="module")
def scored_study(tmp_path_factory):
    """2 backends (no model name reported) x tools on/off x 2 tasks x 2 repeats, judged by a
    scorer: sim/a right on every task with tools, sim/b right on t1 only."""
    runs = []
    for backend, price in (("sim/a", 0.001), ("sim/b", 0.01)):
        for tools in (True, False):
            for task in ("t1", "t2"):
                for rep in range(2):
                    right = task == "t1" or (backend == "sim/a" and tools)
                    runs.append(run_row(
                        "scored", f"{backend[-1]}-{int(tools)}-{task}-{rep}", backend=backend, model=None,
                        provider=None, simulated=False, tools_enabled=tools, task_id=task, repeat=rep, seed=rep,
                        gold=None, exact_match=None, f1=None, judgement="correct" if right else "wrong",
                        score=1.0 if right else 0.0, cost_usd=price * (2 if tools else 1),
                        duration_s=0.02 * (2 if tools else 1) + rep / 1000, cpu_mean=20.0 + rep,
                        rss_peak_bytes=40_000_000 + rep))
    return _study(tmp_path_factory.mktemp("scored") / "scored", runs, model=None)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


@pytest.mark.parametrize("which", ["user_study", "scored_study"])
def test_every_figure_is_drawn_and_labelled_without_missing_value_text(which, request, tmp_path):
    study = request.getfixturevalue(which)
    result = write_report(study, tmp_path / "report")
    assert result.problems == []
    for path in result.figures:
        assert_png_not_blank(path)
    data = load_report_data(study)
    for spec in FIGURES:
        bad = [t for t in _texts(render_figure(spec, data)) if NO_VALUE.search(t)]
        assert not bad, f"{spec.name}: {bad}"
    page = re.sub(r'src="[^"]*"', "", result.html.read_text())
    assert not NO_VALUE.search(" ".join(re.findall(r">([^<]*)<", page)))
    for word in ("Success", "Correct", "Failure"):
        assert f"<b>{word}</b>:" in page


def test_a_study_of_your_own_mas_is_not_a_pile_of_failures(user_study, tmp_path):
    result = write_report(user_study, tmp_path / "report")
    data = load_report_data(user_study)
    assert len(data.tables["failures"]) == 0  # successful and unjudged: nothing failed
    # no tool setting, no judged run: no pairs, no accuracy, so those figures say so
    assert {"tool_deltas", "pareto", "failure_breakdown", "similarity_between"} <= set(result.placeholders)
    assert len(data.tables["deltas"]) == 0
    cells = cell_summary(data.runs)
    assert cells[["instance", "runs", "judged", "failed"]].values.tolist() == [["custom", 3, 0, 0]]
    # no backend named and the tool setting unknown: those splits are left out
    assert "backend" not in cells.columns and "tools" not in cells.columns


def test_two_backends_stay_two_rows_and_judged_figures_have_data(scored_study, tmp_path):
    result = write_report(scored_study, tmp_path / "report")
    assert result.placeholders == ["judge_agreement"]
    data = load_report_data(scored_study)
    cells = cell_summary(data.runs)
    assert cells[["backend", "tools", "runs", "accuracy", "failed"]].values.tolist() == [
        ["sim/a", "tools off", 4, 0.5, 2], ["sim/a", "tools on", 4, 1.0, 0],
        ["sim/b", "tools off", 4, 0.5, 2], ["sim/b", "tools on", 4, 0.5, 2]]
    fails = data.tables["failures"]
    assert len(fails) == 6 and set(fails["failed_by"]) == {"judgement"}
    assert sorted(data.tables["breakdown"]["backend"].unique()) == ["sim/a", "sim/b"]
    pareto = data.tables["pareto"]
    assert len(pareto) == 4 and pareto["cost_usd"].notna().all() and pareto["accuracy"].notna().all()
    assert len(data.tables["deltas"]) == 8  # 2 backends x 2 tasks x 2 repeats, on minus off
    by_model = render_figure(next(s for s in FIGURES if s.name == "by_model"), data)
    assert [t.get_text() for t in by_model.axes[0].get_xticklabels()] == ["sim/a", "sim/b"]
    between = render_figure(next(s for s in FIGURES if s.name == "similarity_between"), data)
    assert [t.get_text() for t in between.axes[0].get_yticklabels()] == ["sim/a", "sim/b"]
