"""Studies in S3-compatible object storage: a real S3 API on loopback (moto's server mode),
written and read through ``pyarrow.fs``: records, run files, compaction, every reader."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.fs as pafs
import pytest

import maestro
from maestro.analysis import frames
from maestro.store import RunIndex
from maestro.store.compact import compact
from maestro.store.location import Location, StoreURIError

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import build_study, canonical  # noqa: E402 - after the sys.path insert

pytest.importorskip("moto.server")


def _push(local: Path, loc: Location) -> None:
    """Write a study to object storage as the runner's store writes do: study.json, each
    run's files (uploaded), each run's record."""
    loc.write_bytes(loc.path("study.json"), (local / "study.json").read_bytes())
    index = RunIndex(local)
    remote = RunIndex(loc)
    for run_id in sorted(index.rows):
        for folder in ("spans", "resources"):
            loc.upload(local / folder / f"{run_id}.parquet", loc.path(folder, f"{run_id}.parquet"))
        remote.record(index.rows[run_id])


def test_a_study_in_s3_reads_writes_and_compacts_like_a_local_one(s3, tmp_path):
    fs, bucket = s3
    layout = build_study(tmp_path, 12)
    local = maestro.load_study(layout.root)
    uri = f"s3://{bucket}/traces/{layout.study_id}"
    loc = Location.of(uri)
    assert isinstance(loc.fs, pafs.S3FileSystem) and not loc.local
    _push(layout.root, loc)

    def same(study):
        assert not study.warnings, study.warnings
        for t in ("runs", "spans", "resources"):
            keys = {"runs": ["run_id"], "spans": ["run_id", "span_id"], "resources": ["run_id", "time_ns"]}[t]
            assert canonical(getattr(study, t), keys).equals(canonical(getattr(local, t), keys)), t

    remote = maestro.load_study(uri)
    same(remote)
    assert remote.study_id == layout.study_id and str(remote.path) == uri
    assert len(frames.edges_df(uri)) == len(local.spans.query("span_type == 'message'"))
    result = compact(uri, force=True)
    assert result.compacted and result.merged_files == 24
    assert not fs.get_file_info(pafs.FileSelector(f"{bucket}/traces/{layout.study_id}/spans", allow_not_found=True))
    same(maestro.load_study(uri))
    con = frames.duckdb_connection(uri)
    assert con.sql("select count(*) from spans where span_type = 'llm'").fetchall()[0][0] == \
        (local.spans.span_type == "llm").sum()
    assert con.sql("select count(*) from runs").fetchall()[0][0] == 12
    # a grown study: new runs' files and records next to the compacted generation
    more = build_study(tmp_path / "more", 3, study_id=layout.study_id, first=12)
    index = RunIndex(more.root)
    remote_index = RunIndex(loc)
    for run_id in sorted(index.rows):
        for folder in ("spans", "resources"):
            loc.upload(more.root / folder / f"{run_id}.parquet", loc.path(folder, f"{run_id}.parquet"))
        remote_index.record(index.rows[run_id])
    grown = maestro.load_study(uri)
    assert len(grown.runs) == 15 and grown.spans.run_id.nunique() == 15 and not grown.warnings
    assert compact(uri, force=True).generation == 2
    assert maestro.load_study(uri).spans.run_id.nunique() == 15


def test_the_endpoint_argument_beats_the_variable(s3, s3_endpoint, monkeypatch, tmp_path):
    fs, bucket = s3
    monkeypatch.setenv("MAESTRO_S3_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    layout = build_study(tmp_path, 2)
    loc = Location.of(f"s3://{bucket}/t/{layout.study_id}", endpoint=s3_endpoint)
    _push(layout.root, loc)
    assert len(maestro.load_study(f"s3://{bucket}/t/{layout.study_id}", endpoint=s3_endpoint).runs) == 2


def test_bad_locations_are_named(s3):
    with pytest.raises(StoreURIError, match="names a bucket"):
        Location.of("s3:///nobucket")
    with pytest.raises(maestro.TraceFormatError, match="no such study folder"):
        maestro.load_study(f"s3://{s3[1]}/absent")
