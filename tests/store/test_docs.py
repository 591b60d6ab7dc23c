"""docs/trace-format.md documents every stored column exactly as the schema defines it."""

from pathlib import Path

import pytest

from maestro.store.schema import TABLES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "trace-format.md").read_text()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_documented(table):
    missing = [c.name for c in TABLES[table] if f"| `{c.name}` | {c.type} | {c.doc} |" not in DOC]
    assert not missing, f"docs/trace-format.md is out of date for {table}: {missing}"
