"""``maestro report``: every analysis figure as a PNG plus one self-contained HTML page.

:func:`write_report` loads one or more studies through the frames API, computes the
analysis tables (call-graph similarity, failure taxonomy, judge agreement, paired tool
deltas, Pareto frontier) through the analysis core, renders every figure of
:data:`FIGURES` to ``<out>/<name>.png`` and writes ``<out>/index.html`` with the PNGs
embedded as base64, summary tables, the SIMULATED label, the maestro version and the
study ids. The page has no scripts and no external URLs, so it opens offline anywhere.

A study that lacks something a figure needs gets a "no data for ..." placeholder for that
figure; an analysis step that raised is listed in :attr:`ReportResult.problems` and shown on
the page instead of aborting the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from maestro.analysis import figures as F
from maestro.store.location import is_uri
from maestro.store.reader import Study

__all__ = ["FigureSpec", "ReportData", "ReportResult", "FIGURES", "REPORT_DPI", "MAX_PX", "SINGLE_RUN_FIGURES",
           "load_report_data", "render_figure", "write_report"]

StudyLike = str | os.PathLike[str] | Study

REPORT_DPI = 150
"""Default resolution of the report's PNGs."""
MAX_PX = 2400
"""No PNG of the report is wider than this (figures are at most ``figures.MAX_WIDTH_IN``
inches wide, so at the default dpi none needs shrinking)."""


@dataclass
class ReportData:
    """Everything the figures draw from, computed once per report."""

    study_ids: list[str]
    """Ids of the studies in the report, in the order given."""
    study_paths: list[Path | str]
    """Their folders."""
    infos: dict[str, dict[str, Any]]
    """study_id -> study.json contents."""
    runs: pd.DataFrame
    """``runs_df`` of all studies."""
    spans: pd.DataFrame
    """``spans_df`` of all studies."""
    edges: pd.DataFrame
    """``edges_df``: agent-to-agent messages in order."""
    resources: pd.DataFrame
    """``resources_df``: CPU/memory samples."""
    simulated: bool
    """True when any run (or study) used a simulated backend."""
    tables: dict[str, Any] = field(default_factory=dict)
    """Analysis results keyed by name (``within``, ``between``, ``failures``, ``breakdown``,
    ``composition``, ``kappa``, ``deltas``, ``pareto``); a missing key means the step
    had no data or failed (see ``problems``)."""
    problems: list[str] = field(default_factory=list)
    """Analysis steps that raised, as ``"step: error"`` lines."""
    time_note: str | None = None
    """What time axes say about simulated latencies (``figure_data.time_note``: e.g.
    "simulated, time factor 0.02"); None when nothing is simulated."""


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report."""

    name: str
    """File stem: the PNG is ``<out>/<name>.png``."""
    section: str
    """Heading it is listed under on the HTML page."""
    caption: str
    """One sentence under the figure on the HTML page."""
    build: Callable[[ReportData], Figure]
    """Draws the figure from the report data."""


@dataclass
class ReportResult:
    """What :func:`write_report` wrote."""

    out: Path
    """The report folder."""
    html: Path
    """The self-contained HTML page."""
    figures: list[Path]
    """Every PNG written, in :data:`FIGURES` order."""
    placeholders: list[str]
    """Names of figures drawn as "no data for ..." placeholders."""
    problems: list[str]
    """Analysis steps that raised (also shown on the page); empty when all went well."""
    simulated: bool
    """Whether the report carries the SIMULATED label."""
    study_ids: list[str]
    """The studies in the report."""
    run_pages: list[Path] = field(default_factory=list)
    """Viewer pages written beside the report (``runs/<study_id>/<run_id>.html``) for the
    runs it mentions."""

    @property
    def paths(self) -> list[Path]:
        """Every file written: the PNGs then the HTML page."""
        return [*self.figures, self.html]


# --------------------------------------------------------------------------- data

def _as_list(studies) -> list[StudyLike]:
    if isinstance(studies, (str, os.PathLike, Study)):
        return [studies]
    return list(studies)


def _path_of(s: StudyLike) -> Path | str:
    """A study's folder, or its URI as given (``Path`` would fold ``s3://`` into ``s3:/``)."""
    where = s.path if isinstance(s, Study) else s
    return where if isinstance(where, str) and is_uri(where) else Path(where)


def _step(data: ReportData, name: str, fn: Callable[[], Any]) -> Any:
    """Run one analysis step; a failure is recorded, not raised, so the rest of the report
    still renders."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - reported on the page and in ReportResult.problems
        data.problems.append(f"{name}: {type(e).__name__}: {e}")
        return None


def load_report_data(studies: StudyLike | Iterable[StudyLike], *, judges: Sequence[Any] | None = None) -> ReportData:
    """Load the frames of ``studies`` and compute the analysis tables the figures need.

    Raises:
        TraceFormatError: a study folder is missing, not a study, or has a malformed file
        (the message names the path).
    """
    from maestro.analysis import frames

    items = _as_list(studies)
    if not items:
        raise ValueError("write_report needs at least one study")
    # one read of every file; the frames below share it (each re-reading the span files
    # made the report take ~40 s on a 1,440-run study)
    paths = [_path_of(s) for s in items]
    studies_read = frames.read_once(items)
    infos = frames.study_infos(studies_read)
    runs = frames.runs_df(studies_read)
    spans = frames.spans_df(studies_read)
    edges = frames.edges_df(studies_read)
    resources = frames.resources_df(studies_read)
    simulated = F.is_simulated(runs) or any(i.get("simulated") for i in infos.values())
    data = ReportData(study_ids=list(infos), study_paths=paths, infos=infos, runs=runs,
                      spans=spans, edges=edges, resources=resources, simulated=simulated,
                      time_note=F.time_note(infos, runs))
    if len(runs):
        _similarity_tables(data)
        _failure_tables(data, judges)
        _cost_tables(data)
    return data


def _core(data: ReportData, name: str):
    """An analysis-core module, or None (recorded as a problem) when it cannot be imported."""
    import importlib

    try:
        return importlib.import_module(f"maestro.analysis.{name}")
    except ImportError as e:
        data.problems.append(f"maestro.analysis.{name} unavailable: {e}")
        return None


def _similarity_tables(data: ReportData) -> None:
    callgraph = _core(data, "callgraph")
    if callgraph is None:
        return

    within = _step(data, "similarity within groups",
                   lambda: callgraph.similarity_within(data.runs, data.edges,
                                                       by=F.present_keys(data.runs, F.CONFIG_KEYS)))
    if within is not None:
        data.tables["within"] = within
    # per architecture and tool setting: runs with tools on and off are never pooled
    between = _step(data, "similarity between groups",
                    lambda: callgraph.similarity_between(
                        data.runs, data.edges, by="backend",
                        panel=F.present_keys(data.runs, ("instance", "tools_enabled")) or None))
    if between is not None:
        data.tables["between"] = between


def _failure_tables(data: ReportData, judges: Sequence[Any] | None) -> None:
    failures = _core(data, "failures")
    if failures is None:
        return
    # the frames are loaded already: reading every span file again took ~10 s on 1,440 runs
    fails = _step(data, "failure classification",
                  lambda: failures.classify_failures(data.runs, data.spans,
                                                     answers_stored=failures.answers_stored_by_study(data.infos)))
    if fails is None:
        return
    data.tables["failures"] = fails
    composition = _step(data, "failure composition", lambda: failures.failure_composition(fails))
    if composition is not None:
        data.tables["composition"] = composition
    breakdown = _step(data, "failure breakdown", lambda: failures.failure_breakdown(fails, by="backend"))
    if breakdown is not None:
        data.tables["breakdown"] = breakdown
    if judges:
        J = _core(data, "judges")
        if J is None:
            return
        kappa = _step(data, "judge agreement", lambda: J.judge_agreement(data.study_paths, judges=judges))
        if kappa is not None:
            data.tables["kappa"] = kappa


def _cost_tables(data: ReportData) -> None:
    cost = _core(data, "cost")
    if cost is None:
        return
    deltas = _step(data, "paired tool deltas", lambda: cost.paired_tool_deltas(data.runs))
    if deltas is not None:
        data.tables["deltas"] = deltas
    # point estimates, CIs, frontier membership and bootstrap frequency in one table
    pareto = _step(data, "Pareto frontier", lambda: cost.pareto_bootstrap(data.runs, n=200, seed=0))
    if pareto is not None:
        data.tables["pareto"] = pareto


# --------------------------------------------------------------------------- figures

def _t(d: ReportData, key: str):
    return d.tables.get(key)


FIGURES: list[FigureSpec] = [
    FigureSpec("resources_by_instance", "Resources", "Fig. 4: time-weighted mean CPU and peak memory per run, by MAS "
               "instance.", lambda d: F.resources_by_instance(d.runs)),
    FigureSpec("message_volume", "Resources", "Fig. 5: bytes exchanged per run (model HTTP bodies and "
               "agent-to-agent messages).", lambda d: F.message_volume(d.runs)),
    FigureSpec("resources_by_architecture", "Resources", "Fig. 6: CPU and memory by architecture, model and tools.",
               lambda d: F.resources_by_architecture(d.runs)),
    FigureSpec("resources_min_mean_peak", "Resources", "Minimum, time-weighted mean and peak CPU and memory sample "
               "of each run, by architecture (appendix A.1).", lambda d: F.resources_min_mean_peak(d.runs)),
    FigureSpec("message_sizes", "Communication", "Message sizes per system: per agent, per agent pair and agent to "
               "model.", lambda d: F.message_sizes(d.spans, d.runs)),
    FigureSpec("tokens_over_time", "Communication", "Cumulative tokens per agent over one typical run (one marker "
               "per model call).", lambda d: F.tokens_over_time(d.spans, d.runs, time_note=d.time_note)),
    FigureSpec("tokens_over_time_by_group", "Communication", "Cumulative tokens over time since run start, mean "
               "over the runs of each architecture with the interquartile range as a band.",
               lambda d: F.tokens_over_time_by_group(d.spans, d.runs, time_note=d.time_note)),
    FigureSpec("delay_breakdown", "Latency", "Run root span time split into model calls, tool calls, agent "
               "compute (in an agent span, in no model or tool call) and hand-over (in no agent, model or tool "
               "span).", lambda d: F.delay_breakdown_figure(d.spans, d.runs, time_note=d.time_note)),
    FigureSpec("flame_graph", "Latency", "Span tree of one typical run over time.",
               lambda d: F.flame_graph(d.spans, d.runs, time_note=d.time_note)),
    FigureSpec("resource_timeseries", "Latency", "CPU and memory of one run with LLM and tool calls shaded.",
               lambda d: F.resource_timeseries(d.resources, d.spans, d.runs, time_note=d.time_note)),
    FigureSpec("call_graphs", "Call graphs", "Agent call graph of each architecture over all its runs: arrow width "
               "and label give the mean number of hand-overs per run.", lambda d: F.call_graphs(d.edges, d.runs)),
    FigureSpec("similarity_within", "Call graphs", "Fig. 7: mean pairwise Jaccard and LCS similarity within each "
               "group of runs.", lambda d: F.similarity_within_figure(_t(d, "within"), d.runs)),
    FigureSpec("similarity_between", "Call graphs", "Fig. 8: median pairwise LCS similarity between model "
               "backends, per architecture and tool setting.",
               lambda d: F.similarity_between_figure(_t(d, "between"), d.runs)),
    FigureSpec("latency_vs_cost", "Cost, latency, accuracy", "Fig. 9a: latency against cost per task.",
               lambda d: F.latency_vs_cost(d.runs, time_note=d.time_note)),
    FigureSpec("distributions", "Cost, latency, accuracy", "Fig. 9b: cost, latency and accuracy per architecture.",
               lambda d: F.distributions(d.runs, time_note=d.time_note)),
    FigureSpec("by_model", "Cost, latency, accuracy", "Fig. 10: cost, duration and accuracy per model backend.",
               lambda d: F.by_model(d.runs, time_note=d.time_note)),
    FigureSpec("tool_deltas", "Cost, latency, accuracy", "Fig. 12a: latency and cost, tools on minus tools off, "
               "matched by task and repeat.", lambda d: F.tool_deltas(_t(d, "deltas"), d.runs, time_note=d.time_note)),
    FigureSpec("tool_accuracy", "Cost, latency, accuracy", "Fig. 12b: accuracy with tools off and on as rates with "
               "95% task-clustered bootstrap intervals, and the paired change in percentage points.",
               lambda d: F.tool_accuracy(_t(d, "deltas"), d.runs)),
    FigureSpec("pareto", "Cost, latency, accuracy", "Cost-accuracy Pareto frontier with bootstrap uncertainty.",
               lambda d: F.pareto_figure(_t(d, "pareto"), d.runs)),
    FigureSpec("failure_breakdown", "Failures", "Fig. 11a: failure categories per model backend.",
               lambda d: F.failure_breakdown_figure(_t(d, "breakdown"), d.runs)),
    FigureSpec("judge_agreement", "Failures", "Fig. 11b: Cohen's kappa between failure judges.",
               lambda d: F.judge_agreement_figure(_t(d, "kappa"), d.runs)),
]
"""Every figure of the report, in page order."""


def render_figure(spec: FigureSpec, data: ReportData) -> Figure:
    """Build one figure; a figure function that raises becomes a placeholder (recorded)."""
    try:
        return spec.build(data)
    except Exception as e:  # noqa: BLE001 - one broken figure must not lose the others
        data.problems.append(f"figure {spec.name}: {type(e).__name__}: {e}")
        return F.placeholder(spec.caption, f"{spec.name} (drawing failed: {type(e).__name__})", data.simulated)


def write_report(studies: StudyLike | Iterable[StudyLike], out: str | os.PathLike[str] | None = None, *,
                 judges: Sequence[Any] | None = None, dpi: int = REPORT_DPI,
                 on_figure: Callable[[str, int, int], None] | None = None) -> ReportResult:
    """Write every figure as PNG and one self-contained HTML page.

    Args:
        studies: a study folder, a loaded :class:`~maestro.Study`, or a list of them.
        out: the report folder (default: ``<first study>/report``).
        judges: LLM judges (e.g. from ``maestro.runner.judges.open_judges(["sim/strong",
            "sim/verbose"])``) for the judge-agreement figure (11b); none gives a placeholder.
        dpi: PNG resolution (default 150); a PNG is never wider than :data:`MAX_PX`
            pixels (the resolution of a figure that would be is lowered to fit).
        on_figure: called as ``on_figure(name, index, total)`` after each figure is written
            (the CLI drives its progress bar with it).

    Raises:
        TraceFormatError: a path is not a maestro study folder or holds a malformed file.
    """
    from urllib.parse import unquote

    from maestro.analysis.html import render_html

    data = load_report_data(studies, judges=judges)
    first = data.study_paths[0]
    if out is None and not isinstance(first, Path):
        raise ValueError(f"{first} is in object storage: give the report a local folder (out=, --out DIR)")
    out_dir = Path(out) if out is not None else Path(first) / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    placeholders: list[str] = []
    for i, spec in enumerate(FIGURES, start=1):
        fig = render_figure(spec, data)
        if getattr(fig, "placeholder", False):
            placeholders.append(spec.name)
        path = out_dir / f"{spec.name}.png"
        fig.savefig(path, dpi=min(float(dpi), MAX_PX / fig.get_figwidth()))
        written.append(path)
        if on_figure is not None:
            on_figure(spec.name, i, len(FIGURES))
    # the run the single-run figures draw gets its viewer page beside the report (links only;
    # `maestro view` writes every run's page into the same runs/<study_id>/ folder)
    run_links = _step(data, "run pages", lambda: _run_pages(data, out_dir)) or {}
    html = out_dir / "index.html"
    html.write_text(render_html(data, [(spec, p) for spec, p in zip(FIGURES, written)], placeholders,
                                run_links=run_links), encoding="utf-8")
    return ReportResult(out=out_dir, html=html, figures=written, placeholders=placeholders,
                        problems=list(data.problems), simulated=data.simulated, study_ids=data.study_ids,
                        run_pages=sorted({out_dir / unquote(href) for key, href in run_links.items()
                                          if key in SINGLE_RUN_FIGURES}))


SINGLE_RUN_FIGURES = ("tokens_over_time", "flame_graph", "resource_timeseries")
"""Figures that draw one (typical) run: the page links each to that run's viewer page."""


def _run_pages(data: ReportData, out_dir: Path) -> dict[str, str]:
    """Write the viewer page of the typical run (:func:`figure_data.pick_run`) and its
    study's run index under ``<out>/runs/<study_id>/``; figure name (and ``index``) -> href
    relative to the report page."""
    from urllib.parse import quote

    from maestro.analysis.figure_data import _resolve_run
    from maestro.analysis.viewer import page_name, write_viewer

    run_id, study_id = _resolve_run(data.runs, data.spans, None)
    if run_id is None:
        return {}
    sid = study_id if study_id is not None else data.study_ids[0]
    runs = data.runs[data.runs["study_id"] == sid] if "study_id" in data.runs.columns else data.runs
    spans = data.spans[data.spans["study_id"] == sid] if "study_id" in data.spans.columns else data.spans
    fails = data.tables.get("failures")
    if isinstance(fails, pd.DataFrame) and "study_id" in fails.columns:
        fails = fails[fails["study_id"] == sid]
    path = data.study_paths[data.study_ids.index(sid)] if sid in data.study_ids else data.study_paths[0]
    folder = page_name(sid)[:-5]
    study = Study(path, data.infos.get(sid, {}), runs, spans, data.resources.iloc[0:0])  # type: ignore[arg-type]  # a URI, as load_study gives
    write_viewer(study, out_dir / "runs" / folder, [run_id], failures=fails if isinstance(fails, pd.DataFrame) else None)
    href = f"runs/{quote(folder)}/{quote(page_name(run_id))}"
    return {**{name: href for name in SINGLE_RUN_FIGURES}, "index": f"runs/{quote(folder)}/index.html",
            "run_id": str(run_id)}
