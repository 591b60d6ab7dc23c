"""``maestro view``: a self-contained page per run (span tree with a row per span, the
failure's evidence span highlighted, attributes and captured content escaped, messages and
call graph), the runs index, the report's links to the pages, and the page working in
headless Chromium (no console error, one tree row per span, rows open and fold)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

import maestro
from maestro.analysis.failures import classify_failures
from maestro.analysis.viewer import default_view_dir, page_name, write_viewer
from maestro.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("MAESTRO_REQUIRE_CHROMIUM"),
    reason="headless Chromium not installed (Debian package `chromium`; .ci/run installs it)")

PROMPT = [{"role": "user", "content": "What is <script>alert(1)</script> the capital?"}]


@pytest.fixture
def study(tmp_path):
    """r1 raised in its tool (an exception with no answer), with captured content; r2 is fine."""
    r1 = run_row("vw", "r1", task_id="t1", status="exception", outcome="failure", judgement="unjudged",
                 answer=None, outcome_reason="RuntimeError: search backend down")
    b = SpanBuilder(r1)
    root = b.add("run", name="invoke_workflow demo", dur_ms=9, status_code="ERROR")
    a = b.add("agent", root, agent_name="planner", dur_ms=5)
    b.message("__start__", "planner", a, nbytes=17)
    b.add("llm", a, agent_name="planner", name="chat sim-a", input_tokens=11, output_tokens=4,
          attributes_json=json.dumps({"gen_ai.request.max_tokens": 64, "gen_ai.input.messages": json.dumps(PROMPT),
                                      "gen_ai.output.messages": json.dumps([{"role": "assistant",
                                                                             "content": "search it"}])}))
    w = b.add("agent", root, agent_name="worker", dur_ms=3)
    b.message("planner", "worker", w, nbytes=120)
    b.add("tool", w, agent_name="worker", tool_name="search", status_code="ERROR",
          status_description="RuntimeError: search backend down",
          events_json=json.dumps([{"name": "exception", "time_ns": 1, "attributes": {"exception.type": "RuntimeError"}}]))
    r2 = run_row("vw", "r2", task_id="t2")
    b2 = SpanBuilder(r2)
    root2 = b2.add("run", name="invoke_workflow demo", dur_ms=3)
    a2 = b2.add("agent", root2, agent_name="planner")
    b2.message("__start__", "planner", a2)
    b2.message("planner", "__end__", root2)
    return write_study(tmp_path / "vw", [r1, r2], {"r1": b.rows, "r2": b2.rows})


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="span[^"]*" id="s-([0-9a-f]+)"', page)


def test_a_failed_run_page_shows_every_span_and_highlights_the_evidence(study):
    result = write_viewer(study)
    assert result.out == default_view_dir(study, "vw") == study / "report" / "runs" / "vw"
    page = result.pages["r1"].read_text(encoding="utf-8")
    spans = maestro.load_study(study).spans
    mine = spans[spans["run_id"] == "r1"]
    assert sorted(_rows(page)) == sorted(mine["span_id"])  # one tree row per span
    fail = classify_failures(maestro.load_study(study).runs, spans).set_index("run_id").loc["r1"]
    assert fail["category"] == "exception" and fail["evidence_span_id"] == f"{7:016x}"  # the tool span
    evidence = re.findall(r'<tr class="span ([^"]*)" id="s-([0-9a-f]+)"', page)
    assert [sid for cls, sid in evidence if "evidence" in cls] == [fail["evidence_span_id"]]
    assert "Failure: Exception" in page and f'href="#s-{fail["evidence_span_id"]}"' in page
    # attributes, content (escaped, pretty-printed), events, error text
    assert "gen_ai.request.max_tokens" in page and "Content: gen_ai.input.messages" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "exception.type" in page and "RuntimeError: search backend down" in page
    # message sequence with bytes and the call graph
    assert "2 hand-over(s), 137 bytes in all." in page and "#2 120 B" in page
    assert 'aria-label="call graph"' in page and "model:" not in page.split("Calls from agents")[0][-50:]
    assert "<td>worker</td><td>tool:search</td><td>1</td>" in page
    # self-contained: no external URL, no script or style loaded from elsewhere
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//|file:)", page, re.I)
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    ok = result.pages["r2"].read_text(encoding="utf-8")
    assert "Not a failure: status success, judgement correct." in ok and len(_rows(ok)) == 4


def test_the_index_lists_every_run_and_links_the_pages_that_exist(study, tmp_path):
    one = write_viewer(study, tmp_path / "pages", ["r2"])
    assert list(one.pages) == ["r2"] and sorted(p.name for p in one.out.iterdir()) == ["index.html", "r2.html"]
    index = one.index.read_text(encoding="utf-8")
    assert '<a href="r2.html">r2</a>' in index and '<a href="r1.html">' not in index
    assert "<td>Exception</td>" in index and "1 run(s) have no page here yet" in index
    all_ = write_viewer(study, tmp_path / "pages")
    index = all_.index.read_text(encoding="utf-8")
    assert '<a href="r1.html">r1</a>' in index and "have no page" not in index
    with pytest.raises(ValueError, match="run 'r9' is not in study 'vw'"):
        write_viewer(study, tmp_path / "pages", ["r9"])
    assert page_name("a/b c.html") == "a_b_c.html.html"


def test_cli_view(study, capsys):
    assert main(["view", str(study), "r1"]) == 0
    assert (study / "report" / "runs" / "vw" / "r1.html").is_file()
    assert not (study / "report" / "runs" / "vw" / "r2.html").exists()
    assert main(["view", str(study)]) == 0
    assert "2 run page(s)" in capsys.readouterr().out
    assert main(["view", str(study), "nope"]) == 2
    assert main(["view", str(study.parent / "missing")]) == 2
    assert capsys.readouterr().err.count("maestro: error: ") == 2


@pytest.mark.slow
def test_the_report_links_the_run_it_draws_to_its_page(analysis_study, tmp_path):
    from maestro.analysis.report import SINGLE_RUN_FIGURES, write_report

    result = write_report(analysis_study, tmp_path / "report")
    assert result.problems == []
    assert len(result.run_pages) == 1 and result.run_pages[0].is_file()
    page = result.run_pages[0]
    assert page.parent == tmp_path / "report" / "runs" / "analysis-t"
    html = result.html.read_text(encoding="utf-8")
    href = f"runs/analysis-t/{page.name}"
    assert html.count(f'href="{href}"') == len(SINGLE_RUN_FIGURES)
    assert 'href="runs/analysis-t/index.html"' in html and (page.parent / "index.html").is_file()
    # the typical run the single-run figures draw is the one linked
    from maestro.analysis.figure_data import pick_run

    assert page.name == page_name(pick_run(maestro.load_study(analysis_study).runs))


@pytest.mark.slow
@needs_chromium
def test_a_run_page_works_in_headless_chromium(analysis_study, tmp_path):
    from playwright.sync_api import sync_playwright

    study = maestro.load_study(analysis_study)
    fails = classify_failures(study.runs, study.spans)
    run_id = sorted(fails["run_id"])[0]  # a failed run: its evidence is highlighted
    evidence = fails.set_index("run_id").loc[run_id, "evidence_span_id"]
    page_path = write_viewer(study, tmp_path / "pages", [run_id]).pages[run_id]
    n_spans = int((study.spans["run_id"] == run_id).sum())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                    else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            assert page.locator("tr.span").count() == n_spans
            assert page.locator("tr.span:visible").count() == n_spans
            assert page.locator("tr.detail:visible").count() == 0
            ev = page.locator(f"#s-{evidence}")
            assert "evidence" in (ev.get_attribute("class") or "")
            # a click opens a span's attributes
            page.locator("tr.span").nth(1).click()
            assert page.locator("tr.detail:visible").count() == 1
            # folding the root hides every other span
            page.locator("tr.span").first.locator("button.tog").click()
            assert page.locator("tr.span:visible").count() == 1
            page.locator("tr.span").first.locator("button.tog").click()
            assert page.locator("tr.span:visible").count() == n_spans
            shot = tmp_path / "run.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == [] and all(u.startswith("file:") for u in requests), (problems, requests)
    from handmade import assert_png_not_blank

    assert_png_not_blank(shot)
