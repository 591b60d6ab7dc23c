"""``maestro report`` on a small real study: every figure as a PNG, one self-contained HTML
page, and that page rendered by headless Chromium without console errors."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread

import maestro
from maestro.analysis.report import FIGURES, write_report

sys.path.insert(0, str(Path(__file__).parent))
from figure_checks import ASPECT, DPI, MAX_PX, figure_problems  # noqa: E402 - after the sys.path insert

from handmade import assert_png_not_blank  # noqa: E402 - after the sys.path insert

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# CI (.ci/run) installs Chromium and sets MAESTRO_REQUIRE_CHROMIUM=1, so there a missing
# browser fails these tests instead of skipping them.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("MAESTRO_REQUIRE_CHROMIUM"),
    reason="headless Chromium not installed (Debian package `chromium`; .ci/run installs it)")


@pytest.fixture(scope="module")
def report(analysis_study, extra_study, tmp_path_factory):
    return write_report([analysis_study, extra_study], tmp_path_factory.mktemp("report") / "out")


def test_every_figure_has_data_on_studies_with_three_architectures_two_models_both_tool_settings(report):
    assert [p.name for p in report.figures] == [f"{spec.name}.png" for spec in FIGURES]
    assert report.problems == []
    # no LLM judges were asked for: only figure 11b lacks data
    assert report.placeholders == ["judge_agreement"]
    assert report.simulated and report.study_ids == ["analysis-t", "analysis-x"]
    assert report.out.name == "out" and report.html == report.out / "index.html"


def test_report_reads_each_file_once(analysis_study, monkeypatch):
    # the frames share one read of the study (re-reading every span file per frame made the
    # report take ~40 s on 1,440 runs)
    import pyarrow.parquet as pq

    from maestro.analysis import frames
    from maestro.analysis.report import load_report_data

    reads: list[str] = []
    real = pq.read_table

    def counting(path, *a, **kw):
        reads.append(Path(path).parent.name + "/" + Path(path).name)
        return real(path, *a, **kw)

    scans: list[str] = []
    real_scan = frames.scan

    def counting_scan(loc, artefact, *a, **kw):  # one scan reads every file of a table once
        scans.append(artefact)
        return real_scan(loc, artefact, *a, **kw)

    monkeypatch.setattr(frames.pq, "read_table", counting)
    monkeypatch.setattr(frames, "scan", counting_scan)
    data = load_report_data(analysis_study)
    assert data.problems == [] and len(data.tables["failures"]) > 0
    assert reads == [f"{Path(analysis_study).name}/runs.parquet"] and sorted(scans) == ["resources", "spans"]


def test_pngs_are_real_images(report):
    for path in report.figures:
        assert_png_not_blank(path)


def test_pngs_are_sharp_and_fit_a_page(report):
    from PIL import Image

    for path in report.figures:
        with Image.open(path) as im:
            width, height = im.size
            dpi = im.info["dpi"][0]
        assert round(dpi) >= DPI, (path.name, dpi)
        assert width <= MAX_PX, (path.name, width)
        assert ASPECT[0] <= width / height <= ASPECT[1], (path.name, width, height)


def test_every_report_figure_is_readable(analysis_study, extra_study):
    # drawn again from the same data: no overlapping labels, a unit on every numeric axis,
    # and the simulated time factor (0 in these studies) on the time axes
    from maestro.analysis.report import load_report_data, render_figure

    data = load_report_data([analysis_study, extra_study])
    assert data.time_note == "simulated, time factor 0"
    problems = []
    timed = 0
    for spec in FIGURES:
        fig = render_figure(spec, data)
        problems += figure_problems(fig, spec.name)
        labels = [lab.replace("\n", " ") for ax in fig.axes for lab in (ax.get_xlabel(), ax.get_ylabel())]
        timed += any("(s, simulated, time factor 0)" in lab for lab in labels)
    assert problems == []
    assert timed == 9  # tokens x2, delay, flame graph, resources over time, 9a, 9b, 10, 12a


def test_html_numbers_are_formatted(report):
    text = report.html.read_text()
    cells = re.findall(r"<td>([^<]*)</td>", text)
    assert cells and not [c for c in cells if re.search(r"\de[+-]\d", c)]
    numbers = [c for c in cells if re.fullmatch(r"[\d,.\-]+", c) and c.count(".") <= 1  # not the version
               and any(ch.isdigit() for ch in c)]
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", c) for c in numbers), numbers


def test_html_is_self_contained_and_labelled(report):
    text = report.html.read_text()
    assert "<script" not in text.lower()
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//|file:)", text, re.I)
    assert "http://" not in text and "https://" not in text
    srcs = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [name for name, _ in srcs] == [spec.name for spec in FIGURES]
    for (name, b64), path in zip(srcs, report.figures):
        assert base64.b64decode(b64) == path.read_bytes(), name  # the very PNG written beside it
    assert "SIMULATED" in text and f"maestro {maestro.__version__}" in text
    assert "analysis-t" in text and "analysis-x" in text
    # the configuration table lists every cell of both studies
    for cell in ("<td>crag</td><td>sim/abstaining</td><td>tools off</td><td>4</td>",
                 "<td>lats</td><td>sim/strong</td><td>tools on</td><td>2</td>",
                 "<td>travel_planning</td><td>sim/strong</td><td>tools off</td><td>2</td>"):
        assert cell in text, cell
    assert "Failure composition" in text and "Empty prediction" in text


def test_cli_report_default_out_printed_paths_and_judges(analysis_study, tmp_path):
    study = tmp_path / "analysis-t"
    shutil.copytree(analysis_study, study, ignore=shutil.ignore_patterns("report"))
    # two simulated LLM judges: figure 11b gets its kappa heatmap
    proc = subprocess.run([sys.executable, "-m", "maestro.cli", "report", str(study), "--no-progress",
                           "--judge", "sim/strong", "--judge", "sim/confabulating"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = study / "report"
    for spec in FIGURES:
        png = out / f"{spec.name}.png"
        assert png.is_file() and png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5_000
    assert (out / "index.html").is_file()
    flat = " ".join(proc.stdout.split())  # rich may wrap long paths
    assert "SIMULATED" in flat and "index.html" in flat and str(out.name) in flat
    assert f"{len(FIGURES)} PNG files)" in flat and "without data" not in flat and "warning" not in flat
    maestro.load_study(study)  # the report folder beside the data keeps the study loadable


def test_cli_report_on_a_non_study_folder_names_the_path(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "maestro.cli", "report", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert str(tmp_path) in proc.stderr and "not a maestro study folder" in proc.stderr
    assert not (tmp_path / "report").exists()


def _chromium(url: str, tmp: Path) -> tuple[Path, list[str]]:
    """Screenshot ``url`` in headless Chromium; returns the PNG and the console lines it logged."""
    shot = tmp / "shot.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
         "--enable-logging=stderr", "--v=0", url],
        capture_output=True, text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-2000:]
    # page console output (console.*, uncaught exceptions) is logged as "...:CONSOLE:<line>] ..."
    console = [ln for ln in log.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    return shot, console


@needs_chromium
def test_console_check_catches_a_page_error(tmp_path):
    """The check below could fail: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><p>x</p><script>undefinedFunction();</script></body></html>")
    _, console = _chromium(bad.as_uri(), tmp_path)
    assert any("undefinedFunction" in ln for ln in console)


@needs_chromium
def test_report_page_renders_in_headless_chromium(report, tmp_path):
    shot, console = _chromium(report.html.as_uri(), tmp_path)
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == PNG_MAGIC
    img = imread(shot)[..., :3]
    assert img.shape[:2] == (2000, 1280)
    assert float(img.std()) > 0.05, "screenshot is blank"
    nonwhite = float((img.min(axis=2) < 0.9).mean())
    assert nonwhite > 0.02, f"only {nonwhite:.1%} of the screenshot is drawn"
