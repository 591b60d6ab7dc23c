"""docs/trace-format.md documents every stored column exactly as the schema defines it."""

from pathlib import Path

import pytest

from maestro.store.schema import TABLES, markdown_table

DOC = (Path(__file__).resolve().parents[2] / "docs" / "trace-format.md").read_text()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_documented(table):
    # the doc embeds markdown_table() verbatim: one row per column, optional ones marked
    rows = markdown_table(TABLES[table]).splitlines()[2:]
    missing = [row for row in rows if row not in DOC.splitlines()]
    assert len(rows) == len(TABLES[table])
    assert not missing, f"docs/trace-format.md is out of date for {table}: {missing}"


def test_optional_columns_are_marked():
    assert "| `question` | string | Task question (redacted); null when answers are not stored. *(optional)* |" in DOC
