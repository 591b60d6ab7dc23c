"""Compaction and O(1) run upkeep: both stored forms read the same, pushdown, growth,
retries, and SIGKILL at every step of a compaction losing and double-counting nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import maestro
from maestro.analysis import frames
from maestro.store import RunIndex
from maestro.store.compact import CHECKPOINT, FILE_ROWS, ROW_GROUP_ROWS, compact, compacted_files
from maestro.store.dataset import read_manifest
from maestro.store.location import Location
from maestro.store.reader import RunHistory

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import build_study, canonical  # noqa: E402 - after the sys.path insert

assert CHECKPOINT is None and ROW_GROUP_ROWS < FILE_ROWS


def _snapshot(root: Path) -> dict:
    s = maestro.load_study(root)
    assert not s.warnings, s.warnings
    return {"runs": canonical(s.runs, ["run_id"]), "spans": canonical(s.spans, ["run_id", "span_id"]),
            "resources": canonical(s.resources, ["run_id", "time_ns"])}


def _same(a: dict, b: dict) -> None:
    for k in a:
        assert a[k].equals(b[k]), k


@pytest.fixture
def study(tmp_path):
    return build_study(tmp_path, 30)


def test_records_are_o1_and_fold_into_runs_parquet(study):
    runlog = study.runlog_dir
    assert len(list(runlog.glob("*.json"))) == 30 and not study.runs_parquet.exists()  # nothing rewritten per run
    assert len(maestro.load_study(study.root, spans=False, resources=False).runs) == 30
    index = RunIndex(study)
    index.record({**index.get("run-0000001"), "status": "failure"})
    assert len(list(runlog.glob("*.json"))) == 30  # a record replaces its run's record
    index.write()
    assert not list(runlog.glob("*.json")) and pq.read_metadata(study.runs_parquet).num_rows == 30
    runs = maestro.load_study(study.root, spans=False, resources=False).runs.set_index("run_id")
    assert runs.loc["run-0000001", "status"] == "failure"


def test_compacted_study_reads_the_same_everywhere(study):
    before = _snapshot(study.root)
    edges_before = frames.edges_df(study.root)
    runs_before = frames.runs_df(study.root, columns=["run_id", "n_edges", "n_agents"])
    result = compact(study.root, force=True)
    assert result.compacted and result.merged_files == 60 and result.rows == {"spans": len(before["spans"]),
                                                                               "resources": 150}
    assert not list(study.spans_dir.iterdir()) and not list(study.resources_dir.iterdir())
    assert not list(study.runlog_dir.glob("*.json")) and study.runs_parquet.exists()
    _same(before, _snapshot(study.root))
    assert canonical(frames.edges_df(study.root), ["run_id", "order"]).equals(
        canonical(edges_before, ["run_id", "order"]))
    assert frames.runs_df(study.root, columns=["run_id", "n_edges", "n_agents"]).equals(runs_before)
    llm = frames.llm_calls_df(study.root)
    assert len(llm) == (before["spans"].span_type == "llm").sum()
    con = frames.duckdb_connection(study.root)
    assert con.sql("select count(*) from spans").fetchall()[0][0] == len(before["spans"])
    assert con.sql("select sum(input_tokens) from spans where span_type = 'llm'").fetchall()[0][0] == \
        before["spans"].input_tokens.sum()
    assert con.sql("select count(*) from runs").fetchall()[0][0] == 30


def test_compacted_files_are_ordered_by_run_with_statistics(tmp_path, monkeypatch):
    import maestro.store.compact as comp

    layout = build_study(tmp_path, 40)
    monkeypatch.setattr(comp, "ROW_GROUP_ROWS", 100)  # several row groups from a small study
    compact(layout.root, force=True)
    (path,) = compacted_files(layout.root, "spans")
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == -(-meta.num_rows // 100) > 3
    col = meta.schema.to_arrow_schema().get_field_index("run_id")
    bounds = [(meta.row_group(i).column(col).statistics.min, meta.row_group(i).column(col).statistics.max)
              for i in range(meta.num_row_groups)]
    assert all(lo <= hi for lo, hi in bounds) and all(bounds[i][1] <= bounds[i + 1][0] for i in range(len(bounds) - 1))
    # a filter on one run reads one (or two) row groups: the statistics prune the rest
    dataset = ds.dataset(path, format="parquet")
    frags = list(dataset.get_fragments(filter=ds.field("run_id") == "run-0000020"))
    groups = [rg for f in frags for rg in f.split_by_row_group(filter=ds.field("run_id") == "run-0000020")]
    assert 1 <= len(groups) <= 2
    assert dataset.to_table(filter=ds.field("run_id") == "run-0000020").num_rows == \
        len(maestro.load_study(layout.root).spans.query("run_id == 'run-0000020'"))


def test_a_grown_study_appends_and_compacts_again(study, tmp_path):
    compact(study.root, force=True)
    build_study(tmp_path, 10, first=30)  # a resumed / extended study: new per-run files and records
    grown = _snapshot(study.root)
    assert len(grown["runs"]) == 40 and grown["spans"].run_id.nunique() == 40
    result = compact(study.root, force=True)
    assert result.generation == 2 and result.merged_files == 20
    assert sorted(p.name for p in study.compacted_dir.iterdir()) == ["CURRENT.json", "gen-000002"]
    _same(grown, _snapshot(study.root))


def test_below_the_threshold_only_the_index_is_folded(study):
    result = compact(study.root, min_runs=31)
    assert not result.compacted and "30 run(s)" in result.reason and study.runs_parquet.exists()
    assert len(list(study.spans_dir.iterdir())) == 30 and not list(study.runlog_dir.glob("*.json"))


def test_a_retried_compacted_run_reads_only_its_new_attempt(study, tmp_path):
    compact(study.root, force=True)
    before = maestro.load_study(study.root)
    index, history = RunIndex(study), RunHistory(study)
    old = index.remove("run-0000003")
    history.archive(old)
    index.write()
    archived = pq.read_table(study.history_dir / "spans" / "run-0000003.attempt1.parquet")
    assert archived.num_rows == (before.spans.run_id == "run-0000003").sum() > 0
    s = maestro.load_study(study.root)
    assert "run-0000003" not in set(s.spans.run_id) and len(s.runs) == 29 and not s.warnings
    # the new attempt crashed before writing any file: its old compacted rows stay hidden
    index.record({**old, "attempt": 2, "status": "crashed"})
    s = maestro.load_study(study.root)
    assert "run-0000003" not in set(s.spans.run_id) and len(s.runs) == 30
    assert frames.duckdb_connection(study.root).sql(
        "select count(*) from spans where run_id = 'run-0000003'").fetchall()[0][0] == 0
    compact(study.root, force=True)
    assert "run-0000003" not in set(maestro.load_study(study.root).spans.run_id)
    assert read_manifest(Location.of(study.root)).runs["run-0000003"] == 2


_KILLER = """
import os, signal, sys
import maestro.store.compact as comp
step = sys.argv[2]
def kill(at):
    if at == step:
        os.kill(os.getpid(), signal.SIGKILL)
comp.CHECKPOINT = kill
comp.compact(sys.argv[1], force=True)
"""

_STEPS = ["generation-written", "committed", "index-folded", "removing-per-run-files", "per-run-files-removed", "done"]


@pytest.mark.slow
@pytest.mark.parametrize("grown", [False, True], ids=["first", "second-generation"])
def test_sigkill_at_any_step_of_compaction_loses_and_double_counts_nothing(tmp_path, grown):
    layout = build_study(tmp_path, 20)
    if grown:
        compact(layout.root, force=True)
        build_study(tmp_path, 8, first=20)
    truth = _snapshot(layout.root)
    for step in _STEPS:
        work = tmp_path / f"kill-{step}"
        subprocess.run(["cp", "-a", str(layout.root), str(work)], check=True)
        p = subprocess.run([sys.executable, "-c", _KILLER, str(work), step], capture_output=True, text=True)
        assert p.returncode == -signal.SIGKILL, (step, p.stderr[-2000:])
        _same(truth, _snapshot(work))  # killed mid-way: every run read once
        compact(work, force=True)  # and the next compaction finishes the job
        _same(truth, _snapshot(work))
        assert not list((work / "spans").iterdir()) and len(list((work / "compacted").iterdir())) == 2


@pytest.mark.slow
def test_sigkill_while_recording_runs_keeps_every_record_whole(tmp_path):
    """A process recording runs in a loop is killed at a random moment: every record on disk
    is whole (atomic writes), and a resume sees exactly the runs recorded."""
    layout = build_study(tmp_path, 1)
    code = (
        "import sys\nfrom maestro.store import RunIndex, StudyLayout\n"
        "index = RunIndex(StudyLayout(sys.argv[1]))\nrow = dict(index.get('run-0000000'))\n"
        "print('ready', flush=True)\n"
        "for i in range(1, 100000):\n    index.record({**row, 'run_id': f'run-{i:07d}'})\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code, str(layout.root)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    import time

    deadline = time.time() + 60
    while len(list(layout.runlog_dir.glob("run-*.json"))) < 50 and time.time() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    names = [n for n in os.listdir(layout.runlog_dir) if n.endswith(".json") and not n.startswith(".")]
    for n in names:
        assert json.loads((layout.runlog_dir / n).read_text())["row"]["run_id"] == n[:-5]
    runs = maestro.load_study(layout.root, spans=False, resources=False).runs
    assert len(runs) == len(names) >= 50 and runs.run_id.is_unique
    ids = sorted(int(r.split("-")[1]) for r in runs.run_id)
    assert ids == list(range(len(ids)))  # in order, no gap: nothing recorded was lost


def test_the_cli_compacts(study, capsys):
    from maestro.cli import main

    assert main(["compact", str(study.root)]) == 0
    out = capsys.readouterr().out
    assert "generation 1" in out and "30 runs" in out
    assert read_manifest(Location.of(study.root)).generation == 1
