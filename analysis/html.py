"""The report's HTML page: one self-contained file (PNGs as base64 data URIs, inline CSS,
no scripts, no external URLs), so it opens offline and can be mailed or archived as is."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from maestro import __version__
from maestro.analysis.failures import FAILED_STATUSES, failed_by_of
from maestro.analysis.figures import CONFIG_KEYS, SIMULATED_LABEL, key_label, present_keys

if TYPE_CHECKING:  # pragma: no cover
    from maestro.analysis.report import FigureSpec, ReportData

__all__ = ["OUTCOMES", "render_html", "cell_summary", "study_summary", "failure_summary", "format_number",
           "format_column"]

OUTCOMES = [
    ("Success", "the run ended with status success: the MAS returned an answer without an exception, a timeout "
                "or a crash (whether the answer is right is a separate question)."),
    ("Correct", "a scorer judged the answer correct; accuracy is the share of correct runs among the judged "
                "ones (correct or wrong), so unjudged runs (no scorer, or no gold answer) count for neither."),
    ("Failure", f"the run's status was {', '.join(sorted(FAILED_STATUSES))}, or a scorer judged its answer "
                "wrong; an unjudged successful run is never a failure."),
]
"""The three outcome words of the report, each with the one sentence the page defines it by."""

_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
.sim { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; font-weight: bold; }
.problems { background: #f8d7da; border: 1px solid #d08080; padding: 8px 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
figure { margin: 16px 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #555; }
footer { margin-top: 40px; font-size: 12px; color: #777; }
"""


def format_number(v) -> str:
    """A table cell as people read it: thousands separators and no exponent (15,241 not
    1.524e+04); integers whole; other numbers with 0 decimals from 1,000 up, 1 from 100,
    2 from 1, and up to 3 significant digits below 1 (0.444, 0.00025); missing values "-",
    booleans "yes"/"no"."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not np.isfinite(x):
            return str(x)
        a = abs(x)
        if a == 0:
            return "0"
        if a >= 1000 or x.is_integer():
            return f"{x:,.0f}"
        if a >= 100:
            return f"{x:,.1f}"
        if a >= 1:
            return f"{x:,.2f}"
        decimals = min(12, 2 - int(np.floor(np.log10(a))))
        return f"{x:.{decimals}f}".rstrip("0").rstrip(".")
    return str(v)


_fmt = format_number


def format_column(values) -> list[str]:
    """The cells of one table column, with one number of decimals for the whole column
    when its largest value is 1 or more (0 from 1,000 up or when all are whole numbers,
    1 from 100, 2 below), so the digits line up; columns of small numbers (shares, costs
    in USD) keep up to 3 significant digits per value (:func:`format_number`)."""
    values = list(values)
    nums = [float(v) for v in values if isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_)) and np.isfinite(float(v))]
    if not nums or not any(isinstance(v, (float, np.floating)) for v in values):
        return [format_number(v) for v in values]
    top = max(abs(x) for x in nums)
    if top < 1:
        return [format_number(v) for v in values]
    decimals = 0 if top >= 1000 or all(x.is_integer() for x in nums) else 1 if top >= 100 else 2
    out = []
    for v in values:
        num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
        out.append(f"{float(v):,.{decimals}f}" if num and np.isfinite(float(v)) else format_number(v))
    return out


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    columns = [format_column(df[c].tolist()) for c in df.columns]
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
                   for cells in zip(*columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def study_summary(data: ReportData) -> pd.DataFrame:
    """One row per study: id, creation time, maestro version, runs, simulated backends."""
    rows = []
    for sid in data.study_ids:
        info = data.infos.get(sid, {})
        n = int((data.runs["study_id"] == sid).sum()) if "study_id" in data.runs.columns else len(data.runs)
        rows.append({"study": sid, "created": info.get("created_at"), "maestro": info.get("maestro_version"),
                     "runs": n, "simulated backends": ", ".join(info.get("simulated_backends") or []) or "none"})
    return pd.DataFrame(rows)


def cell_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration cell (instance, backend, tools; a key no run has a value for is left
    out): runs, success rate, judged runs, accuracy over the judged ones, failed runs
    (:data:`OUTCOMES`), median latency, mean cost and tokens. Missing key values are labelled
    (``no backend``, ``tools unknown``), so two backends are never one row."""
    keys = present_keys(runs, CONFIG_KEYS)
    if not len(runs) or not keys:
        return pd.DataFrame()
    judgement = runs["judgement"] if "judgement" in runs.columns else pd.Series(None, index=runs.index, dtype=object)
    status = runs["status"] if "status" in runs.columns else pd.Series(None, index=runs.index, dtype=object)
    df = runs.assign(_ok=status.eq("success"), _acc=judgement.map({"correct": 1.0, "wrong": 0.0}).astype(float),
                     _failed=[failed_by_of(s, j) is not None for s, j in zip(status, judgement)])
    g = df.groupby([runs[k].astype(object).map(lambda v, k=k: key_label(k, v)) for k in keys], sort=True)
    out = pd.DataFrame({
        "runs": g.size(),
        "success": g["_ok"].mean(),
        "judged": g["_acc"].count(),
        "accuracy": g["_acc"].mean(),
        "failed": g["_failed"].sum(),
        "median latency s": g["duration_s"].median() if "duration_s" in df.columns else np.nan,
        "mean cost $": g["cost_usd"].mean() if "cost_usd" in df.columns else np.nan,
        "mean tokens": g["total_tokens"].mean() if "total_tokens" in df.columns else np.nan,
    }).reset_index()
    return out.rename(columns={"tools_enabled": "tools"})


def failure_summary(failures: pd.DataFrame | None) -> pd.DataFrame:
    """Failure categories with counts and shares (table 3), silent vs explicit when given."""
    if failures is None or not isinstance(failures, pd.DataFrame) or not len(failures) \
            or "category" not in failures.columns:
        return pd.DataFrame()
    counts = failures["category"].value_counts()
    out = pd.DataFrame({"category": counts.index, "failures": counts.to_numpy(),
                        "%": (counts.to_numpy() / counts.sum() * 100).round(2)})
    kind = next((c for c in ("kind", "visibility", "silent") if c in failures.columns), None)
    if kind is not None:
        k = failures[kind].map(lambda v: ("silent" if v else "explicit") if isinstance(v, (bool, np.bool_)) else v)
        kc = k.value_counts()
        extra = pd.DataFrame({"category": [f"{i} failures" for i in kc.index], "failures": kc.to_numpy(),
                              "%": (kc.to_numpy() / kc.sum() * 100).round(2)})
        out = pd.concat([out, extra], ignore_index=True)
    return out


def _img(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(data: ReportData, figures: list[tuple[FigureSpec, Path]], placeholders: list[str], *,
                run_links: dict[str, str] | None = None) -> str:
    """The report page as one HTML string. ``run_links``: figure name -> href of the viewer
    page of the run it draws (plus ``index`` -> the runs index, ``run_id`` -> the run's id)."""
    run_links = run_links or {}
    ids = ", ".join(data.study_ids)
    title = f"maestro report: {ids}" + (f" [{SIMULATED_LABEL}]" if data.simulated else "")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    if data.simulated:
        parts.append("<p class=\"sim\">SIMULATED: these traces come (at least partly) from maestro's simulated "
                     "LLM service. Latencies, tokens, costs and accuracies describe the simulation, not a real "
                     "model.</p>")
    parts.append(f"<p>maestro {html.escape(__version__)}; studies: {html.escape(ids)}; "
                 f"{len(data.runs)} runs, {len(data.spans)} spans.</p>")
    if data.problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in data.problems)
        parts.append(f"<div class=\"problems\"><b>Analysis steps that failed</b><ul>{items}</ul></div>")
    parts.append("<h2>Studies</h2>" + _table(study_summary(data)))
    if "index" in run_links:
        parts.append(f"<p>Runs: <a href=\"{html.escape(run_links['index'])}\">index of runs</a> (each run's page: "
                     "<code>maestro view STUDY</code>).</p>")
    parts.append("<h2>Outcomes</h2><ul>" + "".join(f"<li><b>{html.escape(word)}</b>: {html.escape(sentence)}</li>"
                                                   for word, sentence in OUTCOMES) + "</ul>")
    cells = cell_summary(data.runs)
    if len(cells):
        parts.append("<h2>Configurations</h2>" + _table(cells))
    comp = data.tables.get("composition")
    fails = comp if isinstance(comp, pd.DataFrame) and len(comp) else failure_summary(data.tables.get("failures"))
    if len(fails):
        parts.append("<h2>Failure composition</h2>" + _table(fails))
    section = None
    for spec, path in figures:
        if spec.section != section:
            section = spec.section
            parts.append(f"<h2>{html.escape(section)}</h2>")
        note = " (no data in this study)" if spec.name in placeholders else ""
        link = f" <a href=\"{html.escape(run_links[spec.name])}\">Run {html.escape(run_links.get('run_id', ''))}: " \
            "span tree, messages, attributes</a>" if spec.name in run_links and not note else ""
        parts.append(f"<figure id=\"{html.escape(spec.name)}\"><img alt=\"{html.escape(spec.name)}\" "
                     f"src=\"{_img(path)}\"><figcaption>{html.escape(spec.caption + note)}{link}</figcaption>"
                     "</figure>")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<footer>Written by maestro {html.escape(__version__)} on {stamp}.</footer></body></html>")
    return "\n".join(parts)
