"""Studies that grow without starting over; backends checked before any run; a study
whose every run raised says so."""

from __future__ import annotations

import pytest

import maestro
from maestro.cli import main
from maestro.runner.preflight import PreflightError, preflight
from maestro.store.reader import load_study


def answer_42(app, sample, ctx):
    if sample.id == "boom":
        raise RuntimeError("the MAS fell over")
    return "42"


def _mas(samples=("a", "b")):
    return maestro.MAS(name="tiny", framework="custom", build=lambda ctx: None, invoke=answer_42,
                       dataset=[maestro.Sample(s, f"question {s}", target="42") for s in samples],
                       scorer=maestro.scorers.exact())


def _config(tmp_path, **kw):
    body = dict(study_id="grow", instances=[_mas()], backends=["sim/strong"], tools=False, repeats=3,
                timeout_s=30, workers=2, out=str(tmp_path))
    body.update(kw)
    return maestro.StudyConfig(**body)


def test_more_repeats_run_only_the_new_repeats(tmp_path):
    first = maestro.run_study(_config(tmp_path), progress=False)
    assert first.executed == 6
    recorded = load_study(first.path, spans=False).runs.set_index("run_id").started_at_ns
    grown = maestro.run_study(_config(tmp_path, repeats=5), progress=False)
    assert (grown.executed, grown.skipped, grown.total) == (4, 6, 10)
    runs = load_study(grown.path, spans=False).runs
    assert sorted(runs.groupby("task_id").repeat.apply(sorted).tolist()) == [[0, 1, 2, 3, 4]] * 2
    # the first six were not run again
    assert runs.set_index("run_id").started_at_ns[recorded.index].tolist() == recorded.tolist()
    info = load_study(grown.path, spans=False).info
    assert len(info["run_seeds"]) == 10 and info["config"]["repeats"] == 5


def test_more_backends_and_tasks_extend_too(tmp_path):
    maestro.run_study(_config(tmp_path, repeats=1), progress=False)
    grown = maestro.run_study(_config(tmp_path, repeats=1, backends=["sim/strong", "sim/verbose"],
                                      instances=[_mas(("a", "b", "c"))]), progress=False)
    assert (grown.executed, grown.skipped) == (4, 2)
    assert load_study(grown.path).info["backends"] == ["sim/strong", "sim/verbose"]


@pytest.mark.parametrize("change, named", [
    pytest.param({"timeout_s": 10}, "timeout_s: 30 -> 10", id="timeout"),
    pytest.param({"seed": 7}, "seed: 0 -> 7", id="seed"),
    pytest.param({"prices": {"sim/strong": {"input": 1, "output": 1}}}, "prices: {}", id="prices"),
])
def test_a_changed_setting_that_mixes_incomparable_runs_is_refused(tmp_path, change, named):
    maestro.run_study(_config(tmp_path, repeats=1), progress=False)
    with pytest.raises(maestro.runner.ConfigError, match="recorded under other settings") as e:
        maestro.run_study(_config(tmp_path, repeats=1, **change), progress=False)
    assert named in str(e.value)


def test_files_that_are_not_maestros_are_ignored_and_listed(tmp_path, capsys):
    result = maestro.run_study(_config(tmp_path, repeats=1), progress=False)
    (result.path / "notes.md").write_text("my notes")
    (result.path / "exports").mkdir()
    assert len(load_study(result.path).runs) == 2
    assert main(["runs", "ls", str(result.path), "--verbose"]) == 0
    assert "not maestro's (ignored): exports, notes.md" in capsys.readouterr().out


@pytest.mark.parametrize("backend, env, words", [
    pytest.param("sim/strnog", {}, "unknown simulated profile 'strnog'; "
                 "did you mean sim/strong?", id="misspelt-profile"),
    pytest.param("openai/gpt-4o-mini", {"OPENAI_API_KEY": None}, "needs OPENAI_API_KEY", id="missing-key"),
    pytest.param("gemini/gemini-2.5-flash", {"GOOGLE_API_KEY": None, "GEMINI_API_KEY": None},
                 "needs GOOGLE_API_KEY", id="missing-gemini-key"),
    pytest.param("openai/gpt-4o-mini", {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
                 "endpoint http://127.0.0.1:9 is unreachable", id="dead-endpoint"),
])
def test_study_run_refuses_an_unusable_backend_before_any_run(tmp_path, monkeypatch, capsys, backend, env, words):
    for k, v in env.items():
        if v is None:
            monkeypatch.delenv(k, raising=False)
        else:
            monkeypatch.setenv(k, v)
    study = tmp_path / "s.toml"
    study.write_text(f'[study]\nid = "pf"\ninstances = ["crag"]\nbackends = ["sim/strong", "{backend}"]\n'
                     f'repeats = 1\ntasks = 1\nout = "{tmp_path}"\n')
    assert main(["study", "run", str(study), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert words in err and f"backend {backend}" in err and err.count("\n") == 1
    assert not (tmp_path / "pf").exists()  # nothing started, nothing written


def test_preflight_lists_every_unusable_backend(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(PreflightError) as e:
        preflight(["sim/strong", "sim/nope", "openai/gpt-4o"])
    lines = str(e.value).splitlines()
    assert len(lines) == 2 and lines[0].startswith("backend sim/nope") and "OPENAI_API_KEY" in lines[1]


def test_a_study_whose_every_run_raised_exits_non_zero_with_the_reason(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "broken_mas.py").write_text(
        "import maestro\n"
        "def fall_over(app, sample, ctx):\n    raise RuntimeError('the MAS fell over')\n"
        "MAS = maestro.MAS(name='broken', framework='custom', build=lambda ctx: None, invoke=fall_over,\n"
        "                  dataset=[maestro.Sample('boom', 'q')])\n")
    study = tmp_path / "s.toml"
    study.write_text(f'[study]\nid = "broken"\ninstances = ["broken_mas:MAS"]\nbackends = ["sim/strong"]\n'
                     f'tools = false\nrepeats = 2\nout = "{tmp_path}"\n')
    assert main(["study", "run", str(study), "--no-progress", "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert "all 2 run(s) ended in an exception" in err and "RuntimeError: the MAS fell over" in err


def test_a_scorer_that_raises_leaves_the_run_unjudged_not_failed(tmp_path):
    def fragile(sample, answer):
        raise KeyError("no rubric")

    mas = maestro.MAS(name="fragile", framework="custom", build=lambda ctx: None, invoke=answer_42,
                      dataset=[maestro.Sample("a", "q", target="42")], scorer=fragile)
    result = maestro.run_study(_config(tmp_path, study_id="fragile", instances=[mas], repeats=1, store_answers=True),
                               progress=False)
    row = load_study(result.path, spans=False).runs.iloc[0]
    assert row.status == "success" and row.answer == "42" and row.judgement == "unjudged"
    assert row.judgement_reason == "the scorer raised KeyError: 'no rubric'"


@pytest.mark.parametrize("exc, reason", [
    pytest.param(ValueError("bad\nTraceback:\n  File x\n    boom"), "ValueError: bad", id="remote-traceback"),
    pytest.param(RuntimeError(""), "RuntimeError", id="no-message"),
    pytest.param(KeyError("k" * 900), "KeyError: '" + "k" * 486 + "...", id="bounded"),
])
def test_exception_reasons_are_one_bounded_line(exc, reason):
    from maestro.runner.record import exception_reason

    assert exception_reason(exc) == reason and "\n" not in exception_reason(exc, "backend x")
    assert exception_reason(exc, "backend x").endswith(" (backend x)")
