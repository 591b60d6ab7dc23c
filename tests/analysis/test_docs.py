"""docs/analysis.md stays in step with the code: the column tables are exactly what the
column specs generate, and every public name of maestro.analysis is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import maestro.analysis
from maestro.analysis.columns import FRAME_SPECS, markdown_table, update_docs, write_docs
from maestro.analysis.failures import FailureCategory, classify_failures
from maestro.analysis.judges import MAST_TAXONOMY

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
REGENERATE = 'python -c "from maestro.analysis.columns import write_docs; write_docs()"'
BLOCK = re.compile(r"<!-- columns: ([\w-]+) -->\n(.*?)<!-- /columns -->", re.DOTALL)


def _blocks(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, body in BLOCK.findall(text):
        out.setdefault(name, []).append(body.rstrip("\n"))
    return out


@pytest.mark.parametrize("frame", sorted(FRAME_SPECS))
def test_generated_column_table_matches_specs(frame):
    blocks = _blocks(DOC).get(f"{frame}_df")
    assert blocks, f"docs/analysis.md has no <!-- columns: {frame}_df --> ... <!-- /columns --> block"
    assert len(blocks) == 1, f"docs/analysis.md has {len(blocks)} blocks for {frame}_df"
    assert blocks[0] == markdown_table(frame), (
        f"the {frame}_df column table in docs/analysis.md differs from maestro.analysis.columns; "
        f"regenerate it with: {REGENERATE}")


def test_whole_document_is_regenerated_unchanged():
    # also catches blocks naming frames that no longer exist (update_docs raises)
    assert set(_blocks(DOC)) == {f"{f}_df" for f in FRAME_SPECS}
    assert update_docs(DOC) == DOC, f"docs/analysis.md is stale; regenerate it with: {REGENERATE}"


@pytest.mark.parametrize("name", maestro.analysis.__all__)
def test_every_public_name_is_documented(name):
    assert re.search(rf"`{re.escape(name)}[`(]", DOC), \
        f"maestro.analysis.{name} is exported but docs/analysis.md never mentions `{name}`"


def test_markdown_table_rows_and_escaping():
    table = markdown_table("edges")
    assert table == markdown_table("edges_df")
    lines = table.splitlines()
    assert lines[:2] == ["| column | dtype | description |", "|---|---|---|"]
    assert len(lines) == 2 + len(FRAME_SPECS["edges"])
    assert "| `order` | Int64 | 0-based position of the hand-over within its run (by start time). |" in lines
    # a | inside a description would split the cell: it is escaped
    config_row = next(ln for ln in markdown_table("runs").splitlines() if ln.startswith("| `config` |"))
    assert config_row == "| `config` | str | Configuration label `instance \\| backend \\| tools on/off`. |"
    assert all(ln.count("|") - ln.count("\\|") == 4 for ln in markdown_table("runs").splitlines())
    with pytest.raises(ValueError, match="unknown frame 'nope_df'"):
        markdown_table("nope_df")


def test_update_and_write_docs(tmp_path):
    stale = "intro\n<!-- columns: tool_calls_df -->\n| old | table |\n<!-- /columns -->\noutro\n"
    fresh = update_docs(stale)
    assert fresh == "intro\n<!-- columns: tool_calls_df -->\n" + markdown_table("tool_calls") + \
        "\n<!-- /columns -->\noutro\n"
    assert update_docs(fresh) == fresh
    with pytest.raises(ValueError, match="unknown frame"):
        update_docs("<!-- columns: gone_df -->\n<!-- /columns -->")
    doc = tmp_path / "analysis.md"
    doc.write_text(stale)
    assert write_docs(doc) is True
    assert doc.read_text() == fresh
    assert write_docs(doc) is False


def test_failure_table_columns_and_categories_documented():
    class OneLabel:
        name = "x"

        def label(self, run):
            return "wrong_fact_entity"

    runs = pd.DataFrame([{
        "study_id": "s", "run_id": "r1", "instance": "crag", "framework": "langgraph", "backend": "sim/strong",
        "model": "m", "tools_enabled": True, "task_id": "t", "repeat": 0, "seed": 1, "status": "failure",
        "judgement": "wrong", "answer": "Lyon", "gold": "Paris", "f1": 0.0,
    }])
    df = classify_failures(runs, None, judges=[OneLabel()])
    assert "judge_x" in df.columns and df.loc[0, "layer"] == "judge:x"
    undocumented = [c for c in df.columns if c != "judge_x" and f"`{c}`" not in DOC]
    assert not undocumented, f"failure-table columns missing from docs/analysis.md: {undocumented}"
    for cat in FailureCategory:
        vis = "silent" if cat.silent else "explicit"
        assert f"| `{cat.value}` | {cat.label} | {vis} |" in DOC, cat
    for label in MAST_TAXONOMY.names:
        assert f"`{label}`" in DOC, label
