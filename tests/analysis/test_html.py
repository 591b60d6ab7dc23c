"""Numbers in the report's HTML tables as people read them: thousands separators, no
exponents, one number of decimals per column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maestro.analysis.html import _table, format_column, format_number


@pytest.mark.parametrize("value, text", [
    (15241.3, "15,241"), (1.524e4, "15,240"), (1234567, "1,234,567"), (123.456, "123.5"), (12.345, "12.35"),
    (0.4444, "0.444"), (0.00025, "0.00025"), (0.0000756, "0.0000756"), (-0.5, "-0.5"), (2.0, "2"), (0.0, "0"),
    (3, "3"), (np.int64(12000), "12,000"), (float("nan"), "-"), (None, "-"), (pd.NA, "-"), (True, "yes"),
    ("sim/strong", "sim/strong"),
])
def test_format_number(value, text):
    assert format_number(value) == text


def test_a_column_shares_its_decimals():
    assert format_column([855.9, 1404.2, 15241.3, np.nan]) == ["856", "1,404", "15,241", "-"]
    assert format_column([0.778, 1.0]) == ["0.78", "1.00"]
    assert format_column([7.0, 9.0]) == ["7", "9"]  # counts stored as floats
    assert format_column([0.000405, 0.0000756]) == ["0.000405", "0.0000756"]  # small: significant digits
    assert format_column([12.3456, 3.1]) == ["12.35", "3.10"]
    assert format_column(["crag", "lats"]) == ["crag", "lats"]


def test_tables_never_print_exponents():
    df = pd.DataFrame({"cell": ["a", "b"], "mean tokens": [15241.3, 855.9], "mean cost $": [4.48e-3, 7.56e-5]})
    html = _table(df)
    assert "e+" not in html and "e-" not in html
    assert "<td>15,241</td>" in html and "<td>856</td>" in html and "<td>0.0000756</td>" in html
