"""An analysis-only install (`pip install maestro-mas[analysis]`, no framework) loads a
study, builds every frame and writes the report: analysis depends on the store, not on
LangGraph, AutoGen or ADK."""

from __future__ import annotations

import json
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent("""
    import importlib.util, json, sys
    for framework in ("langgraph", "autogen_agentchat", "google.adk"):
        try:
            found = importlib.util.find_spec(framework)
        except ModuleNotFoundError:  # google is a namespace other packages share
            found = None
        assert found is None, f"{framework} is installed"
    import maestro
    from maestro.analysis import (edges_df, failures_df, llm_calls_df, resources_df, runs_df, spans_df,
                                  tool_calls_df)
    from maestro.analysis.report import write_report
    study = maestro.load_study(sys.argv[1])
    frames = [f(sys.argv[1]) for f in (runs_df, spans_df, llm_calls_df, tool_calls_df, edges_df, resources_df,
                                         failures_df)]
    result = write_report(sys.argv[1], sys.argv[2])
    assert not result.problems, result.problems
    print(json.dumps({"runs": len(study.runs), "frames": [len(f) for f in frames], "figures": len(result.figures)}))
""")


def test_analysis_only_install_loads_frames_and_reports(analysis_study, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "-c", str(ROOT / "constraints.txt"), f"{ROOT}[analysis]"],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    run = subprocess.run([str(python), "-c", SCRIPT, str(analysis_study), str(tmp_path / "report")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    made = json.loads(run.stdout.strip().splitlines()[-1])
    assert made["runs"] > 0 and all(n > 0 for n in made["frames"][:6]) and made["figures"] >= 15
    assert (tmp_path / "report" / "index.html").is_file()
