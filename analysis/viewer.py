"""``maestro view``: one static, self-contained HTML page per run, and an index of the runs.

A run's page shows, from the stored spans alone:

* the run's identity and outcome (status, judgement, answer and gold when stored, tokens,
  cost, dropped spans), with the SIMULATED label on simulated data;
* its **failure** (the taxonomy of :mod:`maestro.analysis.failures`: category, layer,
  reason) with the **evidence span** highlighted in the tree and linked;
* the **span tree with a waterfall timeline**: one row per span (``tr.span``), indented by
  depth; a click on a row opens its attributes (stored columns, ``attributes_json``, events)
  and its captured content when the study captured any; the triangle folds a subtree;
* the **message sequence** between agents (source, target, bytes, time) as a table and a
  sequence diagram, and the run's **call graph** (agent hand-overs laid out as in the
  report's call-graph figure, plus the agent -> tool and agent -> model calls).

Pages have inline CSS and a few lines of inline JavaScript, no external URL and no network
access, so they open offline from disk and can be archived or mailed.

Where the pages go: ``<report folder>/runs/<study_id>/<run_id>.html`` with ``index.html``
beside them. ``maestro report`` writes the pages of the runs it mentions (the typical run
its single-run figures draw) there and links to them; ``maestro view STUDY`` writes every
run's page to the same place under the study's default report folder
(``<study>/report/runs/<study_id>/``), so the report's links and the index find them.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from maestro.analysis.chrome_trace import span_attributes
from maestro.analysis.columns import is_missing
from maestro.store.reader import Study, load_study

__all__ = ["ViewerResult", "write_viewer", "run_page", "index_page", "page_name", "default_view_dir",
           "CONTENT_ATTRIBUTES", "SPAN_COLOURS"]

CONTENT_ATTRIBUTES = ("gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages",
                      "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.prompt", "gen_ai.completion",
                      "message", "input.value", "output.value")
"""Span attributes shown as captured content (prompts, responses, tool arguments and
results, message payloads) rather than in the attribute table."""

SPAN_COLOURS = {"run": "#6b6b6b", "agent": "#4e79a7", "llm": "#f28e2b", "tool": "#59a14f", "message": "#b07aa1",
                "other": "#9c9c9c"}
"""Bar colour per ``span_type`` on the waterfall."""

_IDENTITY = ("study_id", "run_id", "instance", "framework", "backend", "tools_enabled", "repeat", "seed", "task_id",
             "trace_id")
_HIDDEN = set(_IDENTITY) | {"attributes_json", "events_json", "span_id", "parent_span_id", "name", "span_type",
                            "agent_name", "start_time_ns", "end_time_ns", "start_time", "end_time", "duration_ns"}
_MAX_VALUE_CHARS = 200_000  # one attribute value larger than this is cut (the page stays loadable)
_MAX_SEQUENCE = 400  # messages drawn in the sequence diagram (the table lists them all)

_CSS = """
body { font-family: system-ui, sans-serif; margin: 16px 24px; color: #222; font-size: 14px; }
h1 { font-size: 19px; margin: 4px 0 8px; } h2 { font-size: 16px; border-bottom: 1px solid #ddd; margin-top: 26px; }
a { color: #1f5fa8; }
.sim { background: #fff3cd; border: 1px solid #e0c060; padding: 6px 10px; font-weight: bold; }
.fail { background: #fbe3e4; border: 1px solid #d08080; padding: 6px 10px; }
.ok { background: #e3f4e1; border: 1px solid #80b080; padding: 6px 10px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.kv td:first-child { color: #555; white-space: nowrap; } table.runs td { white-space: nowrap; }
table.tree { width: 100%; table-layout: fixed; }
table.tree col.c-name { width: 34%; } table.tree col.c-type { width: 6%; } table.tree col.c-agent { width: 12%; }
table.tree col.c-num { width: 7%; }
tr.span { cursor: pointer; } tr.span:hover { background: #f5f8fc; }
tr.span td.name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
tr.span.err td.name { color: #b00020; font-weight: bold; }
tr.span.evidence { background: #fff1a8; outline: 2px solid #e0a800; }
tr.span.hidden, tr.detail.hidden { display: none; }
button.tog { border: none; background: none; cursor: pointer; width: 16px; padding: 0; font-size: 11px; }
td.wf { position: relative; padding: 0; }
.bar { position: absolute; top: 4px; height: 12px; min-width: 2px; border-radius: 2px; }
.bar.err { outline: 2px solid #b00020; }
tr.detail td { background: #fafafa; }
pre { white-space: pre-wrap; word-break: break-word; max-height: 420px; overflow: auto; background: #f6f6f6;
      border: 1px solid #e2e2e2; padding: 6px; margin: 4px 0; font-size: 12px; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
.muted { color: #777; } svg text { font-family: system-ui, sans-serif; }
footer { margin-top: 30px; font-size: 12px; color: #777; }
"""

# Folds (triangle) and opens a span's details (row click); opens the span named in the URL
# hash. No framework, no network.
_JS = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.span'));
  var byId = {}, kids = {};
  rows.forEach(function (r) { byId[r.dataset.id] = r; });
  rows.forEach(function (r) { var p = r.dataset.parent; if (p && byId[p]) { (kids[p] = kids[p] || []).push(r); } });
  function detail(r) { return document.getElementById('d-' + r.dataset.id); }
  function setHidden(r, hidden) {
    r.classList.toggle('hidden', hidden);
    var d = detail(r); if (d && hidden) { d.classList.add('hidden'); }
    var folded = r.classList.contains('folded');
    (kids[r.dataset.id] || []).forEach(function (k) { setHidden(k, hidden || folded); });
  }
  rows.forEach(function (r) {
    var t = r.querySelector('button.tog');
    if (t) {
      t.addEventListener('click', function (ev) {
        ev.stopPropagation();
        r.classList.toggle('folded');
        t.textContent = r.classList.contains('folded') ? '\\u25b8' : '\\u25be';
        (kids[r.dataset.id] || []).forEach(function (k) { setHidden(k, r.classList.contains('folded')); });
      });
    }
    r.addEventListener('click', function () { var d = detail(r); if (d) { d.classList.toggle('hidden'); } });
  });
  function openHash() {
    var id = (location.hash || '').replace(/^#s-/, '');
    var r = byId[id]; if (!r) { return; }
    var p = r; while (p) { p.classList.remove('hidden'); p = byId[p.dataset.parent]; }
    var d = detail(r); if (d) { d.classList.remove('hidden'); }
    r.scrollIntoView({block: 'center'});
  }
  window.addEventListener('hashchange', openHash);
  openHash();
  var all = document.getElementById('open-all'), none = document.getElementById('close-all');
  if (all) { all.addEventListener('click', function () {
    rows.forEach(function (r) { var d = detail(r); if (d && !r.classList.contains('hidden')) { d.classList.remove('hidden'); } }); }); }
  if (none) { none.addEventListener('click', function () {
    rows.forEach(function (r) { var d = detail(r); if (d) { d.classList.add('hidden'); } }); }); }
})();
"""


@dataclass
class ViewerResult:
    """What :func:`write_viewer` wrote."""

    out: Path
    """The folder of the pages."""
    index: Path
    """``index.html``: every run of the study, linked to its page where one exists."""
    pages: dict[str, Path] = field(default_factory=dict)
    """run id -> page written now."""
    study_id: str = ""
    """The study shown."""


def _e(v: Any) -> str:
    return html.escape("" if is_missing(v) else str(v))


def _num(v: Any) -> str:
    """A number as people read it (thousands separators, no exponent); '-' when missing."""
    from maestro.analysis.html import format_number

    return "-" if is_missing(v) else format_number(v)


def page_name(run_id: str) -> str:
    """File name of a run's page: the run id (already a file name in ``spans/``) with any
    character outside ``[A-Za-z0-9._-]`` replaced by ``_``, plus ``.html``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(run_id)) + ".html"


def default_view_dir(study_path: str | os.PathLike[str], study_id: str) -> Path:
    """Where ``maestro view`` writes by default: ``<study>/report/runs/<study_id>``, the
    folder the default report (``<study>/report``) links to."""
    return Path(study_path) / "report" / "runs" / page_name(study_id)[:-5]


def _events(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, str) or not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return [{"name": "events_json", "attributes": {"raw": raw}}]
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _pretty(v: Any) -> str:
    """A content value as text: JSON (also JSON inside a string) indented, else as is; cut
    beyond :data:`_MAX_VALUE_CHARS` with a note."""
    text = v
    if isinstance(v, str):
        try:
            text = json.loads(v)
        except ValueError:
            text = v
    if not isinstance(text, str):
        text = json.dumps(text, indent=2, ensure_ascii=False, default=str)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + f"\n... (cut: {len(text):,} characters in all)"
    return text


def _tree_order(s: pd.DataFrame) -> tuple[list[int], dict[int, int]]:
    """Row positions of ``s`` in depth-first order (children by start time) and each row's
    depth. A span whose parent is not in the run starts a tree of its own."""
    sid = s["span_id"].tolist()
    index = {v: i for i, v in enumerate(sid)}
    parents = s["parent_span_id"].tolist() if "parent_span_id" in s.columns else [None] * len(s)
    starts = s["start_time_ns"].tolist()
    kids: dict[int | None, list[int]] = {}
    for i, p in enumerate(parents):
        key = index.get(p) if not is_missing(p) and index.get(p) != i else None
        kids.setdefault(key, []).append(i)
    for k in kids:
        kids[k].sort(key=lambda i: (starts[i], str(sid[i])))
    order: list[int] = []
    depth: dict[int, int] = {}
    seen: set[int] = set()
    stack = [(i, 0) for i in reversed(kids.get(None, []))]
    while stack:
        i, d = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        order.append(i)
        depth[i] = d
        stack.extend((k, d + 1) for k in reversed(kids.get(i, [])))
    for i in range(len(sid)):  # spans only reachable through a cycle (broken data): listed at the top level
        if i not in seen:
            order.append(i)
            depth[i] = 0
    return order, depth


def _kv(rows: Iterable[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table class=\"kv\">{cells}</table>"


def _span_detail(r: Mapping[str, Any]) -> str:
    fields = [(k, _e(v)) for k, v in r.items() if k not in _HIDDEN and not is_missing(v)]
    fields = [("span id", _e(r.get("span_id"))), ("parent span id", _e(r.get("parent_span_id")) or "(root)"),
              ("duration ms", _num((r["end_time_ns"] - r["start_time_ns"]) / 1e6)), *fields]
    attrs = span_attributes(r.get("attributes_json"))
    content = [(k, attrs.pop(k)) for k in CONTENT_ATTRIBUTES if k in attrs]
    parts = ["<b>Span</b>", _kv(fields)]
    if attrs:
        parts += ["<b>Attributes</b>", _kv((k, _e(v if isinstance(v, str) else json.dumps(v, default=str)))
                                           for k, v in sorted(attrs.items()))]
    for k, v in content:
        parts.append(f"<b>Content: {_e(k)}</b><pre>{_e(_pretty(v))}</pre>")
    events = _events(r.get("events_json"))
    if events:
        rows = "".join(f"<tr><td>{_e(ev.get('name'))}</td><td>{_e(ev.get('time_ns'))}</td>"
                       f"<td><pre>{_e(_pretty(ev.get('attributes') or {}))}</pre></td></tr>" for ev in events)
        parts.append(f"<b>Events</b><table><tr><th>name</th><th>time ns</th><th>attributes</th></tr>{rows}</table>")
    return "".join(parts)


def _tree(s: pd.DataFrame, evidence: str | None) -> str:
    if not len(s):
        return "<p class=\"muted\">No spans were recorded for this run.</p>"
    order, depth = _tree_order(s)
    t0 = int(s["start_time_ns"].min())
    total = max(int(s["end_time_ns"].max()) - t0, 1)
    records = s.to_dict("records")
    has_kids = {p for p in s["parent_span_id"].tolist() if not is_missing(p)} if "parent_span_id" in s.columns else set()
    rows = []
    for i in order:
        r = records[i]
        sid = str(r["span_id"])
        start, end = int(r["start_time_ns"]), max(int(r["end_time_ns"]), int(r["start_time_ns"]))
        stype = r.get("span_type") if not is_missing(r.get("span_type")) else "other"
        err = r.get("status_code") == "ERROR"
        left, width = 100 * (start - t0) / total, 100 * (end - start) / total
        classes = ["span", f"t-{html.escape(str(stype))}"] + (["err"] if err else []) + \
            (["evidence"] if evidence == sid else [])
        tog = "<button class=\"tog\" title=\"fold or unfold the spans below\">&#9662;</button>" if sid in has_kids \
            else "<span class=\"tog\" style=\"display:inline-block;width:16px\"></span>"
        mark = " <b title=\"evidence of the run's failure\">[evidence]</b>" if evidence == sid else ""
        parent = "" if is_missing(r.get("parent_span_id")) else _e(r["parent_span_id"])
        colour = SPAN_COLOURS.get(str(stype), SPAN_COLOURS["other"])
        rows.append(
            f"<tr class=\"{' '.join(classes)}\" id=\"s-{_e(sid)}\" data-id=\"{_e(sid)}\" data-parent=\"{parent}\">"
            f"<td class=\"name\" style=\"padding-left:{4 + 14 * depth[i]}px\" title=\"{_e(r.get('name'))}\">"
            f"{tog}{_e(r.get('name'))}{mark}</td><td>{_e(stype)}</td><td>{_e(r.get('agent_name'))}</td>"
            f"<td>{_num((start - t0) / 1e6)}</td><td>{_num((end - start) / 1e6)}</td>"
            f"<td class=\"wf\"><div class=\"bar{' err' if err else ''}\" style=\"left:{left:.3f}%;width:{width:.3f}%;"
            f"background:{colour}\"></div></td></tr>"
            f"<tr class=\"detail hidden\" id=\"d-{_e(sid)}\"><td colspan=\"6\">{_span_detail(r)}</td></tr>")
    legend = "".join(f"<span><i style=\"background:{c}\"></i>{t}</span>" for t, c in SPAN_COLOURS.items())
    return (f"<p class=\"legend\">{legend}<span class=\"muted\">timeline: 0 to {_num(total / 1e6)} ms; "
            "click a row for its attributes; the triangle folds its subtree</span> "
            "<button id=\"open-all\">open all</button> <button id=\"close-all\">close all</button></p>"
            "<table class=\"tree\"><colgroup><col class=\"c-name\"><col class=\"c-type\"><col class=\"c-agent\">"
            "<col class=\"c-num\"><col class=\"c-num\"><col></colgroup><thead><tr><th>span</th><th>type</th>"
            "<th>agent</th><th>start ms</th><th>duration ms</th><th>timeline</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _messages(s: pd.DataFrame) -> pd.DataFrame:
    if not len(s) or "span_type" not in s.columns:
        return pd.DataFrame(columns=["span_id", "source", "target", "bytes", "t_ms", "in_process"])
    m = s[s["span_type"] == "message"].sort_values(["start_time_ns", "span_id"], kind="stable")
    nbytes = [a if not is_missing(a) else b for a, b in zip(m.get("input_bytes", pd.Series(None, index=m.index)),
                                                          m.get("total_bytes", pd.Series(None, index=m.index)))]
    t0 = int(s["start_time_ns"].min())
    return pd.DataFrame({"span_id": m["span_id"].tolist(),
                         "source": ["?" if is_missing(v) else str(v) for v in m["message_source"]],
                         "target": ["?" if is_missing(v) else str(v) for v in m["message_target"]],
                         "bytes": nbytes, "t_ms": [(int(v) - t0) / 1e6 for v in m["start_time_ns"]],
                         "in_process": m["is_in_process_call"].tolist() if "is_in_process_call" in m.columns
                         else [None] * len(m)})


def _sequence_svg(msgs: pd.DataFrame) -> str:
    """A sequence diagram: one lifeline per agent (``__start__`` first, ``__end__`` last),
    one arrow per hand-over, labelled with its number and bytes."""
    if not len(msgs):
        return ""
    shown = msgs.head(_MAX_SEQUENCE)
    agents: list[str] = []
    for a in (x for pair in zip(shown["source"], shown["target"]) for x in pair):  # order of first appearance
        if a not in agents:
            agents.append(a)
    agents = [a for a in agents if a == "__start__"] + [a for a in agents if a not in ("__start__", "__end__")] + \
        [a for a in agents if a == "__end__"]
    longest = max(len(a) for a in agents)
    col, row, top = max(150, int(7 * min(longest, 30)) + 24), 26, 40  # columns as wide as the longest name
    xs = {a: 80 + col * k for k, a in enumerate(agents)}
    width, height = 80 + col * (len(agents) - 1) + 80, top + row * (len(shown) + 1)
    parts = [f"<svg width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"message sequence\">",
             "<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
             "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444\"/></marker>"
             "</defs>"]
    for a, x in xs.items():
        parts.append(f"<line x1=\"{x}\" y1=\"{top - 8}\" x2=\"{x}\" y2=\"{height - 4}\" stroke=\"#bbb\" "
                     "stroke-dasharray=\"4 3\"/>")
        parts.append(f"<text x=\"{x}\" y=\"{top - 14}\" text-anchor=\"middle\" font-size=\"12\" "
                     f"font-weight=\"bold\">{_e(a if len(a) <= 30 else a[:29] + chr(8230))}</text>")
    for k, m in enumerate(shown.itertuples(index=False), start=1):
        y = top + row * k
        x1, x2 = xs[m.source], xs[m.target]
        label = f"#{k} {_num(m.bytes)} B" if not is_missing(m.bytes) else f"#{k}"
        if x1 == x2:
            parts.append(f"<path d=\"M{x1},{y - 8} h30 v12 h-30\" fill=\"none\" stroke=\"#444\" "
                         "marker-end=\"url(#ah)\"/>")
            parts.append(f"<text x=\"{x1 + 36}\" y=\"{y}\" font-size=\"11\">{_e(label)}</text>")
        else:
            parts.append(f"<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#444\" "
                         "marker-end=\"url(#ah)\"/>")
            parts.append(f"<a href=\"#s-{_e(m.span_id)}\"><text x=\"{(x1 + x2) / 2}\" y=\"{y - 4}\" "
                         f"text-anchor=\"middle\" font-size=\"11\">{_e(label)}</text></a>")
    parts.append("</svg>")
    more = f"<p class=\"muted\">first {_MAX_SEQUENCE} of {len(msgs)} hand-overs drawn</p>" \
        if len(msgs) > _MAX_SEQUENCE else ""
    return "".join(parts) + more


def _messages_html(msgs: pd.DataFrame) -> str:
    if not len(msgs):
        return "<p class=\"muted\">No agent-to-agent message records in this run.</p>"
    total = pd.to_numeric(pd.Series(msgs["bytes"]), errors="coerce")
    rows = "".join(
        f"<tr><td>{k}</td><td>{_num(m.t_ms)}</td><td>{_e(m.source)}</td><td>{_e(m.target)}</td>"
        f"<td>{_num(m.bytes)}</td><td>{_num(m.in_process)}</td><td><a href=\"#s-{_e(m.span_id)}\">{_e(m.span_id)}</a>"
        "</td></tr>" for k, m in enumerate(msgs.itertuples(index=False), start=1))
    return (f"<p>{len(msgs)} hand-over(s), {_num(int(total.sum()) if total.notna().any() else None)} bytes in all.</p>"
            + _sequence_svg(msgs)
            + "<table><tr><th>#</th><th>start ms</th><th>source</th><th>target</th><th>bytes</th>"
              f"<th>in process</th><th>span</th></tr>{rows}</table>")


def _call_graph_html(s: pd.DataFrame, msgs: pd.DataFrame) -> str:
    from maestro.analysis.callgraph import call_graph
    from maestro.analysis.figure_data import call_graph_data

    parts = []
    if len(msgs):
        edges = pd.DataFrame({"run_id": "run", "message_source": msgs["source"], "message_target": msgs["target"],
                              "bytes": pd.to_numeric(pd.Series(msgs["bytes"]), errors="coerce")})
        layout = call_graph_data(edges, None, by="run_id").get("run")
        if layout is not None:
            parts.append(_graph_svg(layout))
    g = call_graph(s) if len(s) else None
    calls = [] if g is None else [(a, b, d) for a, b, d in g.edges(data=True)
                                  if g.nodes[b].get("kind") in ("tool", "model")]
    if g is not None and calls:
        rows = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_num(d['count'])}</td><td>{_num(d['bytes'])}</td>"
                       f"<td>{_num(d['tokens']) if g.nodes[b].get('kind') == 'model' else '-'}</td></tr>"
                       for a, b, d in sorted(calls, key=lambda t: (str(t[0]), str(t[1]))))
        parts.append("<p>Calls from agents to tools and models:</p><table><tr><th>agent</th><th>callee</th>"
                     f"<th>calls</th><th>bytes</th><th>tokens</th></tr>{rows}</table>")
    return "".join(parts) or "<p class=\"muted\">No hand-overs, tool or model calls recorded.</p>"


def _graph_svg(layout: Any) -> str:
    """The agent hand-over graph of one run as SVG (node positions from the report's
    call-graph layout; edge label = hand-overs and mean bytes)."""
    nodes = layout.nodes
    layers = max(int(nodes["layer"].max()), 1)
    width, height = max(360, 230 * (layers + 1)), max(160, 80 * int(nodes.groupby("layer").size().max()) + 60)
    xs, ys = nodes["x"].astype(float), nodes["y"].astype(float)

    def scale(v: pd.Series, size: int) -> dict[str, float]:
        lo, hi = float(v.min()), float(v.max())
        return {n: 70 + (size - 140) * ((float(x) - lo) / (hi - lo) if hi > lo else 0.5)
                for n, x in zip(nodes["node"], v)}

    px, py = scale(xs, width), scale(ys, height)
    parts = [f"<svg width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"call graph\">",
             "<defs><marker id=\"cg\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
             "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#4e79a7\"/></marker></defs>"]
    boxes = [(px[n] - 58, py[n] - 16, px[n] + 58, py[n] + 16) for n in nodes["node"]]  # nodes, plus placed labels
    mids: list[tuple[float, float]] = []
    loops = [(e.source, e.source) for e in layout.edges.itertuples(index=False) if e.source == e.target]
    obstacles = {n: b for n, b in zip(nodes["node"], boxes)}
    for n, _ in loops:  # a self-loop's arc is an obstacle for the other curves
        obstacles[f"loop:{n}"] = (px[n] - 32, py[n] - 50, px[n] + 32, py[n] - 16)
    # self-loops first, so that the other labels keep off theirs
    for e in sorted(layout.edges.itertuples(index=False), key=lambda e: e.source != e.target):
        x1, y1, x2, y2 = px[e.source], py[e.source], px[e.target], py[e.target]
        label = f"x{_num(e.per_run)}" + (f", {_num(e.bytes_mean)} B" if not is_missing(e.bytes_mean) else "")
        if e.source == e.target:
            parts.append(f"<path d=\"M{x1 - 10},{y1 - 16} C{x1 - 30},{y1 - 60} {x1 + 30},{y1 - 60} {x1 + 10},{y1 - 16}\" "
                         "fill=\"none\" stroke=\"#4e79a7\" marker-end=\"url(#cg)\"/>")
            boxes.append(obstacles[f"loop:{e.source}"])
            parts.append(_label(x1, y1 - 52, label, boxes, [(x1 + 60, y1 - 40), (x1 - 60, y1 - 40)]))
            continue
        dx, dy = x2 - x1, y2 - y1
        dist = max((dx * dx + dy * dy) ** 0.5, 1.0)
        # stop short of the node boxes; bend sideways (a -> b and b -> a bend to opposite
        # sides), picking the first bend whose curve crosses no other node and runs apart
        # from the curves drawn so far
        sx, sy, ex, ey = x1 + dx * 56 / dist, y1 + dy * 18 / dist, x2 - dx * 56 / dist, y2 - dy * 18 / dist
        ends = {e.source, e.target}
        others = [b for n, b in obstacles.items() if n not in ends]
        best = None
        for bend in (0.15, 0.3, 0.5, -0.15, -0.3, -0.5, 0.0):
            off = max(-90.0, min(90.0, bend * dist))
            cx, cy = (sx + ex) / 2 - dy / dist * off, (sy + ey) / 2 + dx / dist * off
            pts = [((1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex,
                    (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey) for t in (i / 24 for i in range(25))]
            clear = not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for x, y in pts for b in others)
            apart = all(abs(pts[12][0] - mx) + abs(pts[12][1] - my) > 14 for mx, my in mids)
            if best is None or (clear and apart):
                best = (cx, cy, pts, off)
            if clear and apart:
                break
        assert best is not None  # the loop always keeps its first candidate
        cx, cy, pts, off = best
        mids.append(pts[12])
        width_px = min(1 + float(e.per_run), 6)
        parts.append(f"<path d=\"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}\" fill=\"none\" "
                     f"stroke=\"#4e79a7\" stroke-width=\"{width_px:.1f}\" marker-end=\"url(#cg)\"/>")
        # the label beside the curve, on the side it bends to (above a straight one)
        side = 1.0 if off > 0 else -1.0
        nx, ny = -dy / dist * side, dx / dist * side
        if off == 0 and ny > 0:
            nx, ny = -nx, -ny
        spots = [(pts[i][0] + 11 * nx, pts[i][1] + 11 * ny + 4) for i in (12, 9, 15, 6, 18)]
        parts.append(_label(*spots[0], label, boxes, spots[1:]))
    for n in nodes.itertuples(index=False):
        fill = "#eeeeee" if n.kind == "io" else "#dce6f2"
        name = str(n.node)
        short = name if len(name) <= 18 else name[:17] + "\u2026"
        parts.append(f"<g><title>{_e(name)}</title><rect x=\"{px[n.node] - 56}\" y=\"{py[n.node] - 14}\" "
                     f"width=\"112\" height=\"28\" rx=\"6\" fill=\"{fill}\" stroke=\"#4e79a7\"/>"
                     f"<text x=\"{px[n.node]}\" y=\"{py[n.node] + 4}\" text-anchor=\"middle\" "
                     f"font-size=\"11\">{_e(short)}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def _label(x: float, y: float, text: str, boxes: list[tuple[float, float, float, float]],
           spots: Iterable[tuple[float, float]] = ()) -> str:
    """An SVG label at the first of ``(x, y)`` and ``spots`` where it overlaps none of
    ``boxes`` (else at ``(x, y)``); its box is added to ``boxes``."""
    w, h = 6.2 * len(text) + 4, 13.0
    chosen = (x, y)
    for cx, cy in [(x, y), *spots]:
        box = (cx - w / 2, cy - h + 3, cx + w / 2, cy + 3)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            chosen = (cx, cy)
            break
    boxes.append((chosen[0] - w / 2, chosen[1] - h + 3, chosen[0] + w / 2, chosen[1] + 3))
    return (f"<text x=\"{chosen[0]:.1f}\" y=\"{chosen[1]:.1f}\" text-anchor=\"middle\" font-size=\"11\" "
            f"paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">{_e(text)}</text>")


def _failure_html(run: Mapping[str, Any], failure: Mapping[str, Any] | None) -> str:
    if failure is None:
        return (f"<p class=\"ok\">Not a failure: status {_e(run.get('status'))}, judgement "
                f"{_e(run.get('judgement'))}.</p>")
    ev = failure.get("evidence_span_id")
    link = f"<a href=\"#s-{_e(ev)}\">span {_e(ev)}</a> (highlighted below)" if not is_missing(ev) else "none recorded"
    loop = f"; loop {_e(failure.get('loop_cycle'))} x{_e(failure.get('loop_repeats'))}" \
        if failure.get("loop_detected") else ""
    return (f"<div class=\"fail\"><b>Failure: {_e(failure.get('category_label'))}</b> "
            f"({_e(failure.get('visibility'))}; failed by {_e(failure.get('failed_by'))}; layer "
            f"{_e(failure.get('layer'))})<br>Reason: {_e(failure.get('reason'))}{loop}<br>Evidence: {link}</div>")


def _run_header(run: Mapping[str, Any], n_spans: int) -> str:
    who = [(k, _e(run.get(k))) for k in ("study_id", "instance", "framework", "backend", "model", "tools_enabled",
                                         "task_id", "repeat", "seed") if k in run]
    outcome = [(k, _e(run.get(k))) for k in ("status", "judgement", "judgement_reason") if k in run]
    outcome += [(k, _num(run.get(k))) for k in ("duration_s", "total_tokens", "cost_usd", "llm_calls", "tool_calls",
                                                "messages") if k in run]
    spans = [(k, _num(run.get(k))) for k in ("spans_created", "spans_written", "spans_dropped") if k in run]
    spans.append(("spans in this page", _num(n_spans)))
    errors = [(k, f"<pre>{_e(run[k])}</pre>") for k in ("outcome_reason", "error") if not is_missing(run.get(k))]
    qa = [(k, f"<pre>{_e(run[k])}</pre>") for k in ("question", "answer", "gold") if not is_missing(run.get(k))]
    boxes = "".join(f"<div>{_kv(rows)}</div>" for rows in (who, outcome, spans) if rows)
    return (f"<div style=\"display:flex;gap:18px;flex-wrap:wrap;margin-top:8px\">{boxes}</div>"
            + (_kv(errors) if errors else "") + (("<h2>Question and answer</h2>" + _kv(qa)) if qa else ""))


def _page(title: str, body: str, simulated: bool, script: bool = True) -> str:
    from datetime import UTC, datetime

    from maestro import __version__

    sim = ("<p class=\"sim\">SIMULATED: these traces come from maestro's simulated LLM service; latencies, tokens "
           "and costs describe the simulation, not a real model.</p>") if simulated else ""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>{sim}{body}"
            f"<footer>Written by maestro {_e(__version__)} on {stamp}.</footer>"
            + (f"<script>{_JS}</script>" if script else "") + "</body></html>")


def run_page(run: Mapping[str, Any], spans: pd.DataFrame, failure: Mapping[str, Any] | None = None, *,
             simulated: bool = False, index_href: str | None = "index.html") -> str:
    """The HTML page of one run: ``run`` is its runs row (a mapping), ``spans`` its spans
    (stored span columns), ``failure`` its :func:`~maestro.analysis.failures.classify_failures`
    row (None when the run did not fail)."""
    s = spans.reset_index(drop=True) if len(spans) else spans
    evidence = None if failure is None or is_missing(failure.get("evidence_span_id")) else \
        str(failure["evidence_span_id"])
    msgs = _messages(s)
    back = f"<p><a href=\"{_e(index_href)}\">all runs</a></p>" if index_href else ""
    body = (back + _failure_html(run, failure) + _run_header(run, len(s))
            + "<h2>Span tree and timeline</h2>" + _tree(s, evidence)
            + "<h2>Messages between agents</h2>" + _messages_html(msgs)
            + "<h2>Call graph</h2>" + _call_graph_html(s, msgs))
    return _page(f"run {run.get('run_id')}", body, simulated)


def index_page(study_id: str, runs: pd.DataFrame, failures: pd.DataFrame, linked: Mapping[str, str], *,
               simulated: bool = False, study_path: str | None = None) -> str:
    """The index of a study's runs: one row per run with its outcome and failure category,
    the run id linked to its page where ``linked`` (run id -> href) has one."""
    cat = dict(zip(failures["run_id"], failures["category_label"])) if len(failures) else {}
    cols = [c for c in ("instance", "backend", "tools_enabled", "task_id", "repeat", "status", "judgement")
            if c in runs.columns]
    rows = []
    for r in runs.sort_values("run_id").to_dict("records"):
        rid = str(r["run_id"])
        name = f"<a href=\"{_e(linked[rid])}\">{_e(rid)}</a>" if rid in linked else _e(rid)
        rows.append("<tr><td>" + name + "</td>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in cols)
                    + f"<td>{_e(cat.get(rid, ''))}</td>"
                    + "".join(f"<td>{_num(r.get(c))}</td>" for c in ("duration_s", "total_tokens", "cost_usd",
                                                                     "spans_written"))
                    + "</tr>")
    head = "".join(f"<th>{_e(c)}</th>" for c in ["run", *cols, "failure", "duration s", "tokens", "cost $", "spans"])
    missing = len(runs) - sum(1 for r in runs["run_id"] if str(r) in linked)
    note = (f"<p class=\"muted\">{missing} run(s) have no page here yet: <code>maestro view "
            f"{_e(study_path or study_id)}</code> writes every run's page into this folder.</p>") if missing else ""
    body = (f"<p>{len(runs)} run(s); {len(linked)} with a page.</p>{note}<table class=\"runs\"><tr>{head}</tr>"
            f"{''.join(rows)}</table>")
    return _page(f"runs of study {study_id}", body, simulated, script=False)


def _failures(st: Study, failures: pd.DataFrame | None) -> pd.DataFrame:
    from maestro.analysis.failures import answers_stored_by_study, classify_failures

    if failures is not None:
        return failures
    stored = answers_stored_by_study({st.study_id: st.info}).get(st.study_id, True)
    return classify_failures(st.runs, st.spans, answers_stored=stored)


def write_viewer(study: str | os.PathLike[str] | Study, out: str | os.PathLike[str] | None = None,
                 run_ids: Iterable[str] | None = None, *, failures: pd.DataFrame | None = None) -> ViewerResult:
    """Write the pages of ``run_ids`` (default: every run) of ``study`` and the study's
    ``index.html`` into ``out`` (default :func:`default_view_dir`).

    The index lists every run and links those with a page in ``out`` (written now or
    before). ``failures`` (a ``classify_failures`` frame of this study) saves classifying
    again when the caller has it.

    Raises:
        TraceFormatError: the study folder is missing or malformed.
        ValueError: a run id is not in the study (the message names it).
    """
    st = study if isinstance(study, Study) else load_study(study, resources=False)
    out_dir = Path(out) if out is not None else default_view_dir(st.path, st.study_id)
    runs = st.runs
    all_ids = [str(r) for r in runs["run_id"]]
    wanted = all_ids if run_ids is None else list(dict.fromkeys(str(r) for r in run_ids))
    unknown = [r for r in wanted if r not in set(all_ids)]
    if unknown:
        raise ValueError(f"run {unknown[0]!r} is not in study {st.study_id!r} ({len(all_ids)} runs; "
                         "see maestro runs ls)")
    fails = _failures(st, failures)
    if "study_id" in fails.columns and fails["study_id"].notna().any():
        fails = fails[fails["study_id"] == st.study_id]
    by_fail = {str(r["run_id"]): r for r in fails.to_dict("records")}
    spans = st.spans
    if len(wanted) < len(all_ids) and len(spans):
        spans = spans[spans["run_id"].astype(str).isin(set(wanted))]  # the report writes one page: group only those
    by_run = {str(k): g for k, g in spans.groupby("run_id", sort=False)} if len(spans) else {}
    simulated = bool(st.info.get("simulated")) or bool(runs.get("simulated", pd.Series(dtype=bool)).fillna(False).any())
    out_dir.mkdir(parents=True, exist_ok=True)
    info = {str(r["run_id"]): r for r in runs.to_dict("records")}
    pages: dict[str, Path] = {}
    empty = spans.iloc[0:0]
    for rid in wanted:
        path = out_dir / page_name(rid)
        path.write_text(run_page(info[rid], by_run.get(rid, empty), by_fail.get(rid), simulated=simulated),
                        encoding="utf-8")
        pages[rid] = path
    linked = {rid: quote(page_name(rid)) for rid in all_ids if (out_dir / page_name(rid)).is_file()}
    index = out_dir / "index.html"
    index.write_text(index_page(st.study_id, runs, fails, linked, simulated=simulated, study_path=str(st.path)),
                     encoding="utf-8")
    return ViewerResult(out=out_dir, index=index, pages=pages, study_id=st.study_id)
