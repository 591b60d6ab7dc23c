"""The MAS contract: samples, answers in each framework's result, validation, shipping."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

import maestro
from maestro.mas import MAS, Sample, default_answer, load_samples
from maestro.runner.systems import pickle_system, resolve_system


def test_samples_from_jsonl(tmp_path):
    f = tmp_path / "tasks.jsonl"
    f.write_text(json.dumps({"id": 1, "input": "q1", "target": 42, "metadata": {"level": 2}}) + "\n\n"
                 + json.dumps({"id": "b", "question": "q2", "answer": "x"}) + "\n")
    assert load_samples(f) == [Sample("1", "q1", "42", {"level": 2}), Sample("b", "q2", "x")]


def test_a_bad_sample_line_is_named(tmp_path):
    f = tmp_path / "tasks.jsonl"
    f.write_text('{"id": "a", "input": "q"}\n{"input": "no id"}\n')
    with pytest.raises(ValueError, match=r"tasks.jsonl:2: not a sample \(KeyError: 'id'\)"):
        load_samples(f)


def _msg(content, source=None):
    return SimpleNamespace(content=content, source=source)


@pytest.mark.parametrize("framework, result, answer", [
    pytest.param("langgraph", {"answer": "42", "messages": [_msg("x")]}, "42", id="lg-answer-key"),
    pytest.param("langgraph", {"messages": [_msg("q"), _msg("final")]}, "final", id="lg-last-message"),
    pytest.param("langgraph", {"messages": [{"role": "ai", "content": "d"}, {"content": ""}]}, "d",
                 id="lg-dict-messages-skip-empty"),
    pytest.param("langgraph", {"plan": ["a"]}, None, id="lg-nothing"),
    pytest.param("autogen", SimpleNamespace(messages=[_msg("task", "user"), _msg("It is 42. TERMINATE", "a")]),
                 "It is 42.", id="autogen-terminate-stripped"),
    pytest.param("autogen", SimpleNamespace(messages=[_msg("task", "user")]), None, id="autogen-only-task"),
    pytest.param("adk", SimpleNamespace(text="done"), "done", id="adk-text"),
    pytest.param("custom", "plain", "plain", id="string"),
])
def test_default_answer(framework, result, answer):
    assert default_answer(framework, result) == answer


@pytest.mark.parametrize("kw, words", [
    pytest.param({"name": "bad name"}, "invalid MAS name", id="name"),
    pytest.param({"framework": "crewai"}, "framework must be one of langgraph, autogen, adk, custom", id="framework"),
    pytest.param({"framework": "custom"}, "framework 'custom' needs invoke=", id="custom-without-invoke"),
    pytest.param({"build": "graph"}, "build must be callable", id="build"),
])
def test_a_malformed_mas_is_refused_with_the_reason(kw, words):
    body = dict(name="m", framework="langgraph", build=lambda ctx: None, dataset=[Sample("a", "q")])
    body.update(kw)
    with pytest.raises(ValueError, match=words):
        MAS(**body)


def test_dataset_problems_are_named():
    dup = MAS(name="m", framework="langgraph", build=lambda ctx: None, dataset=[Sample("a", "q"), Sample("a", "r")])
    with pytest.raises(ValueError, match="duplicate sample id 'a'"):
        dup.tasks()
    with pytest.raises(ValueError, match="the dataset is empty"):
        MAS(name="m", framework="langgraph", build=lambda ctx: None, dataset=[]).tasks()


def test_tasks_carry_text_target_and_metadata():
    mas = MAS(name="m", framework="langgraph", build=lambda ctx: None,
              dataset=[Sample("a", {"topic": "x"}, "t", {"k": 1}), Sample("b", "q")])
    tasks = mas.tasks(n=1)
    assert [(t.task_id, t.question, t.gold, t.meta) for t in tasks] == [("a", '{"topic": "x"}', "t", {"k": 1})]
    assert mas.judge(tasks[0], "t").judgement == "unjudged"  # no scorer


def _build(ctx):
    return "built"


def test_a_system_defined_in_a_test_file_travels_by_value(tmp_path):
    """A fresh interpreter that cannot import this test module still loads the system."""
    mas = MAS(name="m", framework="custom", build=_build, invoke=lambda app, s, ctx: app,
              dataset=[Sample("a", "q")], scorer=maestro.scorers.exact())
    (tmp_path / "system.pkl").write_bytes(pickle_system(mas))
    code = ("import pickle; m = pickle.load(open('system.pkl', 'rb')); "
            "print(m.build(None), m.judge(m.tasks()[0], 'q').judgement)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["built", "unjudged"]  # sample "a" has no target


def test_references_resolve_and_name_what_is_missing():
    assert resolve_system("crag").info.name == "crag"
    with pytest.raises(ValueError, match="module 'maestro.scorers' has no attribute 'nope'"):
        resolve_system("maestro.scorers:nope")
    with pytest.raises(ValueError, match="cannot import 'no_such_module_x'"):
        resolve_system("no_such_module_x:mas")
