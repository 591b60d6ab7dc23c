"""One schema: a stored column has the same name and dtype in ``maestro.load_study``, the
analysis frames and the duckdb views, and its doc comes from the store's schema."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import maestro
from maestro.analysis import duckdb_connection, edges_df, llm_calls_df, resources_df, runs_df, spans_df, tool_calls_df
from maestro.analysis.columns import FRAME_SPECS
from maestro.store.schema import RESOURCE_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert

DUCKDB_TO_PANDAS = {"VARCHAR": "str", "BIGINT": "Int64", "DOUBLE": "float64", "BOOLEAN": "boolean",
                    "TIMESTAMP WITH TIME ZONE": "datetime64[ns, UTC]"}
"""duckdb column type -> the pandas dtype the same column has in load_study and the frames."""

T0 = 1_700_000_000_123_456_789


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    runs = [run_row("schema", "r1", started_at_ns=T0, llm_calls=1, tool_calls=1, agent_turns=1, messages=2,
                    rss_peak_bytes=2_000_000, spans_created=6, spans_written=6),
            # a pre-0.2 row: judgement "unknown" reads as "unjudged" everywhere; nulls stay missing
            run_row("schema", "r2", judgement="unknown", tools_enabled=None, model=None, gold=None, cost_usd=None,
                    started_at_ns=None)]
    b = SpanBuilder(runs[0])
    root = b.add("run", dur_ms=10)
    b.message("__start__", "a", root)
    agent = b.add("agent", root, agent_name="a", dur_ms=5)
    b.add("llm", agent, agent_name="a", request_model="m", input_tokens=10, output_tokens=3, total_tokens=13,
          usage_estimated=True, input_bytes=100, output_bytes=40, total_bytes=140, http_attempts=1)
    b.add("tool", agent, agent_name="a", tool_name="search", tool_call_id="c1", tool_type="function")
    b.message("a", "__end__", root)
    resources = {"r1": [{"study_id": "schema", "run_id": "r1", "time_ns": T0 + k, "cpu_percent": 10.0 * k,
                         "rss_bytes": 1_000_000 + k, "num_processes": 1} for k in range(3)]}
    return write_study(tmp_path_factory.mktemp("schema") / "schema", runs, {"r1": b.rows}, resources)


def _dtypes(df: pd.DataFrame) -> list[tuple[str, str]]:
    return [(c, str(t)) for c, t in df.dtypes.items()]


def _duckdb(con, view: str) -> list[tuple[str, str]]:
    return [(r[0], DUCKDB_TO_PANDAS[r[1]]) for r in con.sql(f"describe {view}").fetchall()]


@pytest.mark.parametrize("table, frame, stored", [("runs", runs_df, RUN_COLUMNS), ("spans", spans_df, SPAN_COLUMNS),
                                                  ("resources", resources_df, RESOURCE_COLUMNS)])
def test_load_study_frames_and_duckdb_agree_on_names_and_dtypes(study, table, frame, stored):
    loaded = _dtypes(getattr(maestro.load_study(study), table))
    # load_study: every stored column, and a UTC timestamp after each ns time column
    names = [c for c, _ in loaded]
    assert [c for c in names if c not in ("started_at", "start_time", "end_time", "time")] == [c.name for c in stored]
    with duckdb_connection(study) as con:
        assert _duckdb(con, table) == loaded
    framed = dict(_dtypes(frame(study)))
    assert {c: framed.get(c) for c, _ in loaded} == dict(loaded)  # the frame may add derived columns only


def test_stored_columns_keep_integer_and_boolean_dtypes_and_docs(study):
    spans = maestro.load_study(study).spans
    assert spans["input_tokens"].dtype == "Int64" and spans["usage_estimated"].dtype == "boolean"
    runs = runs_df(study).set_index("run_id")
    assert runs.loc["r1", "llm_calls"] == 1 and runs["llm_calls"].dtype == "Int64"
    assert pd.isna(runs.loc["r2", "tools_enabled"]) and pd.isna(runs.loc["r2", "started_at"])
    assert runs.loc["r1", "started_at"] == pd.Timestamp(T0, unit="ns", tz="UTC")
    assert set(runs["judgement"]) == {"correct", "unjudged"} and pd.isna(runs.loc["r2", "correct"])
    docs = {s.name: s.doc for s in FRAME_SPECS["spans"]}
    assert docs["agent_name"] == next(c.doc for c in SPAN_COLUMNS if c.name == "agent_name")


def test_duckdb_views_hold_the_same_values(study):
    loaded = maestro.load_study(study)
    with duckdb_connection(study) as con:
        runs = con.sql("select run_id, judgement, started_at from runs order by run_id").to_arrow_table().to_pandas()
        spans = con.sql("select span_id, start_time_ns, start_time from spans order by span_id").to_arrow_table().to_pandas()
    assert list(runs["judgement"]) == ["correct", "unjudged"]
    assert runs["started_at"].iloc[0] == loaded.runs["started_at"].iloc[0].floor("us")  # duckdb keeps microseconds
    mine = loaded.spans.sort_values("span_id")
    assert (spans["start_time"].dt.tz is not None) and list(spans["start_time_ns"]) == list(mine["start_time_ns"])


@pytest.mark.parametrize("frame", [llm_calls_df, tool_calls_df, edges_df])
def test_span_subsets_use_the_span_names_and_dtypes(study, frame):
    spans = dict(_dtypes(spans_df(study)))
    part = dict(_dtypes(frame(study)))
    shared = {c: t for c, t in part.items() if c in spans}
    assert shared == {c: spans[c] for c in shared}
    assert "agent_name" in part or frame is edges_df
    assert not {"agent", "source", "target", "request_bytes", "response_bytes", "n_llm_calls"} & set(part)


def test_llm_calls_keep_usage_estimated_and_stored_byte_names(study):
    calls = llm_calls_df(study)
    assert calls[["input_bytes", "output_bytes", "total_bytes"]].iloc[0].tolist() == [100, 40, 140]
    assert bool(calls["usage_estimated"].iloc[0]) and calls["usage_estimated"].dtype == "boolean"
    assert spans_df(study).query("span_type == 'tool'")["tool_call_id"].tolist() == ["c1"]
