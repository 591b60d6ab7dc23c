"""The README's "Run your own study" and "Wrap your own MAS" examples run verbatim, as a new
user would run them: in a fresh folder, as scripts and from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
MAESTRO = str(Path(sys.executable).with_name("maestro"))

pytestmark = pytest.mark.slow


def example(name: str) -> str:
    section = re.search(rf"<!-- example: {name} -->(.*?)<!-- /example -->", README.read_text(), re.S)
    assert section, f"README.md has no example marker {name}"
    return re.search(r"```python\n(.*?)```", section.group(1), re.S).group(1)


def _run(args, cwd, timeout=300):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_run_your_own_study_as_a_script_then_from_a_study_file(tmp_path):
    (tmp_path / "my_study.py").write_text(example("readme-study"))
    _run([sys.executable, "my_study.py"], tmp_path)
    runs = pd.read_parquet(tmp_path / "traces" / "my-study" / "runs.parquet")
    # 1 system x 2 backends x tools on/off x 2 samples x 3 repeats
    assert len(runs) == 24 and set(runs.instance) == {"my-team"}
    assert runs.groupby(["backend", "tools_enabled", "task_id"]).size().eq(3).all()
    assert (runs.cost_usd > 0).all() and runs.judgement.isin(["correct", "wrong"]).all()
    assert (runs.setup_s > 0).all() and (runs.working_s > 0).all()
    assert runs.question.isna().all() and runs.answer.isna().all()  # private by default: judged, not stored

    (tmp_path / "more.toml").write_text(
        '[study]\nid = "my-study"\ninstances = ["my_study:my_mas"]\nbackends = ["sim/strong", "sim/verbose"]\n'
        'tools = "both"\nrepeats = 4\ntimeout_s = 120\n')
    out = _run([MAESTRO, "study", "run", "more.toml", "--no-progress", "--no-figures"], tmp_path)
    assert "8 run(s) executed, 24 already recorded" in out
    _run([MAESTRO, "report", "traces/my-study", "--no-progress"], tmp_path)
    assert (tmp_path / "traces" / "my-study" / "report" / "index.html").is_file()


def test_wrap_your_own_mas_with_trace_run(tmp_path):
    (tmp_path / "trace_mine.py").write_text(example("readme-trace-run"))
    out = _run([sys.executable, "trace_mine.py"], tmp_path)
    runs = pd.read_parquet(tmp_path / "traces" / "my-traces" / "runs.parquet")
    assert len(runs) == 3 and (runs.backend == "sim/strong").all() and (runs.model == "sim-strong").all()
    assert (runs.cost_usd > 0).all() and runs.judgement.isin(["correct", "wrong"]).all()
    assert "sim/strong" in out
