"""trace_run stores the question it is given (redacted), null when none is given."""

from __future__ import annotations

import maestro
from maestro.runner.adhoc import trace_run


def test_trace_run_question_is_redacted_and_optional(tmp_path, monkeypatch):
    secret = "sk-adhoc-question-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with trace_run("adhoc-q", "asked", out=str(tmp_path), question=f"With key {secret}: where was Ada born?",
                   sample_resources=False, store_answers=True):
        pass
    with trace_run("adhoc-q", "silent", out=str(tmp_path), sample_resources=False):
        pass
    runs = maestro.load_study(tmp_path / "adhoc-q", spans=False).runs.set_index("run_id")
    asked = runs.loc["asked", "question"]
    assert secret not in asked and asked.endswith(": where was Ada born?") and "[REDACTED]" in asked
    assert runs["question"].isna()["silent"]
