"""load_study: round trip, engines, and errors that name the culprit file."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maestro import semconv as sc
from maestro.store import RunIndex, StudyLayout, TraceFormatError, atomic_write_json, load_study
from maestro.store.schema import RUN_COLUMNS, SPAN_COLUMNS


@pytest.fixture
def study(make_telemetry, layout):
    atomic_write_json({"format": "maestro.study", "schema_version": sc.SCHEMA_VERSION, "study_id": layout.study_id},
                      layout.study_json)
    index = RunIndex(layout)
    for run_id in ("run-1", "run-2"):
        t = make_telemetry(run_id, sample_resources=True, sample_interval_s=0.01).start()
        h = t.start_span("chat m", {sc.MAESTRO_SPAN_TYPE: "llm", sc.GEN_AI_USAGE_INPUT_TOKENS: 3})
        t.end_span(h)
        stats = t.finish()
        index.upsert({"schema_version": sc.SCHEMA_VERSION, "study_id": layout.study_id, "run_id": run_id,
                      "status": "success", "input_tokens": stats.input_tokens, "spans_written": stats.spans_written})
    return layout


def test_round_trip(study):
    s = load_study(study.root)
    assert list(s.runs["run_id"]) == ["run-1", "run-2"]
    assert len(s.spans) == 4 and set(s.spans["run_id"]) == {"run-1", "run-2"}
    assert _stored(s.spans) == [c.name for c in SPAN_COLUMNS]
    assert _stored(s.runs) == [c.name for c in RUN_COLUMNS]
    assert {"start_time", "end_time"} <= set(s.spans.columns) and "started_at" in s.runs.columns
    assert len(s.resources) >= 2
    assert s.spans.loc[s.spans["name"] == "chat m", "input_tokens"].tolist() == [3, 3]


def test_folders_read_by_other_engines(study):
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds

    assert ds.dataset(study.spans_dir, format="parquet").count_rows() == 4
    assert pl.read_parquet(study.spans_dir / "*.parquet").height == 4
    n = duckdb.sql(f"select count(*) from read_parquet('{study.spans_dir}/*.parquet') where span_type='llm'").fetchall()[0][0]
    assert n == 2
    runs = duckdb.sql(f"select run_id, input_tokens from '{study.runs_parquet}' order by run_id").fetchall()
    assert runs == [("run-1", 3), ("run-2", 3)]


@pytest.mark.parametrize(
    "damage, culprit, words",
    [
        pytest.param(lambda L: L.spans_file("run-1").write_bytes(L.spans_file("run-1").read_bytes()[:200]),
                     lambda L: L.spans_file("run-1"), "truncated or corrupt", id="truncated-spans"),
        pytest.param(lambda L: pq.write_table(pa.table({"a": [1]}), L.spans_dir / "other.parquet"),
                     lambda L: L.spans_dir / "other.parquet", "not a maestro spans file", id="foreign-parquet"),
        pytest.param(lambda L: L.study_json.write_text("{not json"),
                     lambda L: L.study_json, "not valid JSON", id="bad-study-json"),
        pytest.param(lambda L: L.study_json.write_text(json.dumps({"format": "maestro.study", "schema_version": 999})),
                     lambda L: L.study_json, "schema version 999", id="future-schema"),
        pytest.param(lambda L: L.runs_parquet.write_bytes(b"PAR1garbage"),
                     lambda L: L.runs_parquet, "not a readable parquet file", id="garbage-runs"),
    ],
)
def test_bad_files_are_named(study, damage, culprit, words):
    damage(study)
    with pytest.raises(TraceFormatError) as e:
        load_study(study.root)
    assert str(culprit(study)) in str(e.value)
    assert words in str(e.value)


def test_wrong_column_type_is_named(study):
    t = pq.read_table(study.spans_file("run-1"))
    idx = t.schema.get_field_index("input_tokens")
    t = t.set_column(idx, pa.field("input_tokens", pa.string()), t.column(idx).cast(pa.string()))
    pq.write_table(t.replace_schema_metadata(pq.read_schema(study.spans_file("run-1")).metadata), study.spans_file("run-1"))
    with pytest.raises(TraceFormatError, match="input_tokens.*type string"):
        load_study(study.root)


def test_temporaries_are_ignored_orphans_reported_and_quarantined_never_deleted(study):
    (study.spans_dir / ".run-9.parquet.123.tmp").write_bytes(b"partial")
    # spans of a run that never got its runs.parquet row (a killed study)
    pq.write_table(pq.read_table(study.spans_file("run-1")), study.spans_dir / "run-3.parquet")
    s = load_study(study.root)
    assert len(s.runs) == 2 and any("1 run(s) have spans but no row" in w for w in s.warnings)
    moved = StudyLayout(study.root).quarantine_temporaries()
    assert [p.name for p in moved] == ["spans.partial.run-9.parquet.123.tmp"] and moved[0].read_bytes() == b"partial"
    assert any("1 file(s) in quarantine/" in w for w in load_study(study.root).warnings)


def test_hidden_and_foreign_files_in_spans_are_skipped_with_a_warning(study):
    before = len(load_study(study.root).spans)
    (study.spans_dir / ".DS_Store").write_bytes(b"\0\0")
    (study.spans_dir / "notes.txt").write_text("hi")
    s = load_study(study.root)
    assert before > 0 and len(s.spans) == before
    assert any(w.startswith("spans/: ignored 2 entries") and ".DS_Store" in w and "notes.txt" in w for w in s.warnings)


def test_a_copied_span_file_is_named_with_both_files(study):
    import shutil

    shutil.copy(study.spans_file("run-1"), study.spans_dir / "run-1 copy.parquet")
    s = load_study(study.root)
    dup = [w for w in s.warnings if "appear in more than one file" in w]
    assert dup and "spans/run-1 copy.parquet and spans/run-1.parquet" in dup[0]


def test_not_a_study(tmp_path):
    with pytest.raises(TraceFormatError, match="no study.json"):
        load_study(tmp_path)
    with pytest.raises(TraceFormatError, match="no such study folder"):
        load_study(tmp_path / "nope")


def _drop_column(path, name):
    """Rewrite a maestro parquet file without one column, keeping maestro's metadata (a file
    written before that column existed)."""
    t = pq.read_table(path)
    meta = t.schema.metadata
    t = t.drop_columns([name])
    pq.write_table(t.replace_schema_metadata(meta), path)


def test_old_runs_file_without_optional_question_loads(study):
    assert next(c for c in RUN_COLUMNS if c.name == "question").optional
    _drop_column(study.runs_parquet, "question")
    assert "question" not in pq.read_schema(study.runs_parquet).names
    s = load_study(study.root)
    # same columns in schema order, the missing one all null
    assert _stored(s.runs) == [c.name for c in RUN_COLUMNS]
    assert s.runs["question"].isna().all() and len(s.runs) == 2
    assert s.runs["status"].tolist() == ["success", "success"]
    # the run index reads it too, and its next write adds the column as a string column
    index = RunIndex(study)
    assert index.get("run-1")["question"] is None
    index.upsert({**index.get("run-1"), "question": "Where was Ada born?"})
    schema = pq.read_schema(study.runs_parquet)
    assert schema.field("question").type == pa.string()
    q = load_study(study.root).runs.set_index("run_id")["question"]
    assert q["run-1"] == "Where was Ada born?" and q.isna()["run-2"]


def test_required_column_still_required(study):
    _drop_column(study.runs_parquet, "answer")
    with pytest.raises(TraceFormatError, match="missing column 'answer'") as e:
        load_study(study.root)
    assert str(study.runs_parquet) in str(e.value)


def test_read_parquet_fills_optional_columns_with_typed_nulls(study):
    from maestro.store.reader import read_parquet, validate_parquet
    from maestro.store.schema import Column

    path = study.spans_file("run-1")
    cols = SPAN_COLUMNS + [Column("later_count", pa.int64(), "added later", optional=True)]
    validate_parquet(path, "spans", cols)  # absent but optional: accepted
    t = read_parquet(path, cols)
    assert t.column_names == [c.name for c in cols]
    assert t.schema.field("later_count").type == pa.int64() and t.column("later_count").null_count == 2
    t = read_parquet(path, cols, names=["later_count", "name"])
    assert t.column_names == ["later_count", "name"] and t.num_rows == 2


def test_files_that_are_not_maestros_in_the_study_folder_are_ignored(study):
    from maestro.store.reader import foreign_entries

    before = load_study(study.root)
    (study.root / "notes.md").write_text("my notes")
    (study.root / "stray.csv").write_text("a,b")
    (study.root / "exports").mkdir()
    after = load_study(study.root)
    assert len(after.runs) == len(before.runs) and len(after.spans) == len(before.spans)
    assert [p.name for p in foreign_entries(study.root)] == ["exports", "notes.md", "stray.csv"]


def _stored(df) -> list[str]:
    """The frame's columns without the timestamps load_study adds beside the ns columns."""
    from maestro.store.reader import TIME_COLUMNS

    return [c for c in df.columns if c not in TIME_COLUMNS.values()]
