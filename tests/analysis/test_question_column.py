"""The task question from runs.parquet to the LLM failure judges: stored by the runner,
carried by runs_df and failures_df, shown in the judge prompt; studies written before the
column existed still load (question missing, judges see "(none)")."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from maestro.analysis import failures_df, runs_df
from maestro.analysis.frames import duckdb_connection
from maestro.analysis.judges import _user_prompt, judge_failures
from maestro.runner.judges import SimJudgePolicy, open_judges
from maestro.sim.policy import register_policy, registered_policies, unregister_policy

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert


class _Recording(SimJudgePolicy):
    """The simulated judge, keeping every user prompt it was sent (same name, so
    ``open_judges`` uses it instead of registering its own)."""

    def __init__(self):
        self.prompts: list[str] = []

    def respond(self, request, ctx):
        self.prompts.append(request.last_user)
        return super().respond(request, ctx)


@pytest.fixture
def recording_judge():
    before = registered_policies()
    policy = register_policy(_Recording())
    yield policy
    assert unregister_policy(policy)
    assert registered_policies() == before


def _study(root: Path, *, drop_question: bool = False) -> Path:
    rows, spans = [], {}
    for run_id, question, answer in [("w1", "Where was Ada Lovelace born?", "Paris"),
                                     ("w2", "Which river flows through Vienna?", "the Rhine")]:
        r = run_row("q", run_id, judgement="wrong", f1=0.0, exact_match=0.0, answer=answer, question=question,
                    gold="London" if run_id == "w1" else "Danube")
        b = SpanBuilder(r)
        root_span = b.add("run")
        b.message("solver", "__end__", root_span)
        rows.append(r)
        spans[run_id] = b.rows
    path = write_study(root, rows, spans)
    if drop_question:  # a study written before the column existed, maestro's metadata kept
        runs = pq.read_table(path / "runs.parquet")
        pq.write_table(runs.drop_columns(["question"]).replace_schema_metadata(runs.schema.metadata),
                       path / "runs.parquet")
    return path


def test_prompt_shows_the_question():
    prompt = _user_prompt({"question": "Where was Ada born?", "gold": "London", "answer": "Paris"}, online=False)
    assert prompt.splitlines() == ["Question: Where was Ada born?", "Gold answer: London", "Final answer: Paris"]
    assert _user_prompt({"gold": "London", "answer": None}, online=False).splitlines()[0] == "Question: (none)"


def test_sim_judge_receives_the_stored_question(tmp_path, recording_judge):
    study = _study(tmp_path / "q")
    runs = runs_df(study).set_index("run_id")
    assert runs.loc["w1", "question"] == "Where was Ada Lovelace born?"
    fails = failures_df(study).set_index("run_id")
    assert fails.loc["w2", "question"] == "Which river flows through Vienna?"
    with open_judges(["sim/strong"]) as judges:
        labels = judge_failures(study, judges)
    assert labels["sim/strong"].notna().all()
    assert sorted(p.splitlines()[0] for p in recording_judge.prompts) == [
        "Question: Where was Ada Lovelace born?", "Question: Which river flows through Vienna?"]
    # the judge path through failures_df (judges relabel the rule-layer rows) sees it too
    recording_judge.prompts.clear()
    with open_judges(["sim/strong"]) as judges:
        failures_df(study, judges=judges)
    assert {p.splitlines()[0] for p in recording_judge.prompts} == {
        "Question: Where was Ada Lovelace born?", "Question: Which river flows through Vienna?"}


def test_study_without_question_column_loads_and_judges_see_none(tmp_path, recording_judge):
    study = _study(tmp_path / "old", drop_question=True)
    assert "question" not in pq.read_schema(study / "runs.parquet").names
    runs = runs_df(study)
    assert len(runs) == 2 and runs["question"].isna().all() and runs["answer"].tolist() == ["Paris", "the Rhine"]
    con = duckdb_connection(study)
    assert con.sql("select count(*), count(question) from runs").fetchall() == [(2, 0)]
    with open_judges(["sim/strong"]) as judges:
        judge_failures(study, judges)
    assert [p.splitlines()[0] for p in recording_judge.prompts] == ["Question: (none)"] * 2


def test_runner_study_questions_reach_the_judge(analysis_study, recording_judge):
    """The real fixture study (CRAG over the simulated service): every run stored its task's
    question, and the judge prompt for each failure carries that run's question."""
    runs = runs_df(analysis_study)
    assert runs["question"].notna().all() and runs.groupby("task_id")["question"].nunique().eq(1).all()
    fails = failures_df(analysis_study)
    assert len(fails) > 0
    with open_judges(["sim/strong"]) as judges:
        judge_failures(analysis_study, judges)
    asked = {p.splitlines()[0].removeprefix("Question: ") for p in recording_judge.prompts}
    assert asked == set(fails["question"]) and "(none)" not in asked
