"""Every example in docs/adapters.md runs verbatim, standalone, and leaves the spans it
promises: the docs cannot drift from the adapters' API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
FRAMEWORKS = ["langgraph", "autogen", "adk"]

pytestmark = pytest.mark.slow


def example_code(framework: str) -> str:
    """The python block between ``<!-- example: {framework} -->`` and ``<!-- /example -->``."""
    text = DOC.read_text()
    section = re.search(rf"<!-- example: {framework} -->(.*?)<!-- /example -->", text, re.S)
    assert section, f"docs/adapters.md has no example marker for {framework}"
    code = re.search(r"```python\n(.*?)```", section.group(1), re.S)
    assert code, f"docs/adapters.md: the {framework} example has no python block"
    return code.group(1)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_example_runs_and_prints_its_span_tree(framework, tmp_path):
    script = tmp_path / f"example_{framework}.py"
    script.write_text(example_code(framework))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, f"{framework} example failed:\n{proc.stderr[-3000:]}"
    out = proc.stdout
    # the printed span summary names the three kinds of spans every adapter records
    for kind in ("run", "agent", "llm", "message"):
        assert kind in out, f"{framework} example printed no {kind} span:\n{out}"
