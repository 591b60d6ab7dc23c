"""The mcp-agent example of docs/adapters.md runs verbatim (with the checks of the other
frameworks' examples, ``tests/adapters/test_docs_examples.py``) and records the tool call."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_SPEC = importlib.util.spec_from_file_location("docs_examples", Path(__file__).parents[1] / "test_docs_examples.py")
assert _SPEC is not None and _SPEC.loader is not None
docs_examples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs_examples)


def test_example_runs_and_prints_its_span_tree(tmp_path):
    script = tmp_path / "example_mcp_agent.py"
    script.write_text(docs_examples.example_code("mcp_agent"))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, f"mcp_agent example failed:\n{proc.stderr[-3000:]}"
    out = proc.stdout
    assert out.startswith("Go at 14:05, at low tide.")
    for kind in ("run", "agent", "llm", "tool", "message", "execute_tool low_tide"):
        assert kind in out, f"the example printed no {kind}:\n{out}"
    assert "[('__start__', 'guide'), ('guide', '__end__')]" in out
