"""Failure attribution on a hand-built set of runs: one run per Table 3 category (plus a
loop, an abstention and a correct run), each with its intended category, layer and
evidence span; percentages and the silent/explicit split by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maestro.analysis import FailureCategory, failure_breakdown, failure_composition, failures_df
from maestro.analysis.failures import (
    classify_failures,
    detect_loop,
    failed_by_of,
    hand_over_payloads,
    hand_over_waves,
    is_abstention,
    loops_df,
    names_no_entity,
)

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert

F = FailureCategory


def _run(study_rows, spans, run_id, *, error_span=False, loop=False, end=True, retry=None, **kw):
    r = run_row("fail", run_id, **kw)
    b = SpanBuilder(r)
    root = b.add("run", status_code="ERROR" if kw.get("status") in ("timeout", "exception") else "UNSET")
    b.message("__start__", "solver", root)
    a = b.add("agent", root, agent_name="solver", retry_attempt=retry)
    evidence = {}
    if error_span:
        evidence["first_error"] = b.add("llm", a, agent_name="solver", status_code="ERROR")
        evidence["inner_error"] = b.add("tool", a, agent_name="solver", tool_name="search", status_code="ERROR")
    if loop:
        for _ in range(4):
            b.message("solver", "reviewer", root)
            evidence["loop"] = b.message("reviewer", "solver", root)
    if end:
        evidence["final"] = b.message("solver", "__end__", root)
    study_rows.append(r)
    spans[run_id] = b.rows
    return evidence


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    rows, spans, ev = [], {}, {}
    ev["ok"] = _run(rows, spans, "ok", model="m1")
    ev["timeout"] = _run(rows, spans, "timeout", model="m1", status="timeout", outcome="failure", judgement="wrong",
                         answer=None, f1=0.0, error_span=True, end=False)
    ev["exception"] = _run(rows, spans, "exception", model="m1", status="exception", outcome="failure",
                           judgement="wrong", answer=None, f1=0.0, error_span=True, end=False,
                           outcome_reason="RuntimeError: boom")
    ev["empty"] = _run(rows, spans, "empty", model="m2", status="failure", outcome="failure", judgement="wrong",
                       answer="", f1=0.0)
    ev["abstain"] = _run(rows, spans, "abstain", model="m2", judgement="wrong", f1=0.0,
                         answer="I am sorry, I cannot answer this question.")
    ev["wrong"] = _run(rows, spans, "wrong", model="m2", judgement="wrong", answer="Lyon", f1=0.0, retry=3)
    ev["vague"] = _run(rows, spans, "vague", model="m2", judgement="wrong", f1=0.0,
                       answer="It is a city that the documents mention")
    ev["partial"] = _run(rows, spans, "partial", model="m2", judgement="wrong", f1=0.5, answer="Paris Texas",
                         gold="Paris France")
    ev["other"] = _run(rows, spans, "other", model="m2", status="failure", outcome="failure", judgement="unjudged",
                       gold=None, f1=None, exact_match=None, answer="Paris")
    # successful runs nobody judged (no gold): never failures, whichever word the file uses
    ev["unjudged"] = _run(rows, spans, "unjudged", model="m2", judgement="unjudged", gold=None, f1=None,
                          exact_match=None, answer="Paris")
    ev["old_unknown"] = _run(rows, spans, "old_unknown", model="m2", judgement="unknown", gold=None, f1=None,
                             exact_match=None, answer="Paris")
    ev["loop"] = _run(rows, spans, "loop", model="m2", status="failure", outcome="failure", judgement="wrong",
                      answer=None, f1=0.0, loop=True, end=False)
    root = write_study(tmp_path_factory.mktemp("f") / "fail", rows, spans)
    return failures_df(root).set_index("run_id"), ev


EXPECTED = {
    "timeout": (F.TIMEOUT, "runtime", "inner_error"),
    "exception": (F.EXCEPTION, "runtime", "first_error"),
    "empty": (F.EMPTY_PREDICTION, "rules", "final"),
    "abstain": (F.EMPTY_PREDICTION, "rules", "final"),
    "wrong": (F.WRONG_FACT, "rules", "final"),
    "vague": (F.MISSING_UNDERSPECIFIED, "rules", "final"),
    "partial": (F.MISSING_UNDERSPECIFIED, "rules", "final"),
    "other": (F.OTHER, "rules", "final"),
    "loop": (F.TIMEOUT, "runtime", "loop"),
}


@pytest.mark.parametrize("run_id", list(EXPECTED))
def test_each_run_gets_its_category_layer_and_evidence(hand, run_id):
    f, ev = hand
    cat, layer, evidence = EXPECTED[run_id]
    row = f.loc[run_id]
    assert (row.category, row.layer) == (cat.value, layer)
    assert row.evidence_span_id == ev[run_id][evidence]
    assert row.silent == (cat in (F.WRONG_FACT, F.MISSING_UNDERSPECIFIED))


def test_correct_run_is_not_a_failure_and_signals_are_reported(hand):
    f, _ = hand
    assert "ok" not in f.index and len(f) == len(EXPECTED)
    assert f.loc["wrong", "retries"] == 2 and f.loc["empty", "retries"] == 0
    assert f.loc["loop", "loop_detected"] and f.loc["loop", "loop_repeats"] == 4
    assert f.loc["loop", "loop_cycle"] == "solver->reviewer reviewer->solver"
    assert f.loc["exception", "n_error_spans"] == 2 and "boom" in f.loc["exception", "reason"]


def test_composition_and_breakdown_by_hand(hand):
    f, _ = hand
    comp = failure_composition(f).set_index("failure")
    # 9 failures: 2 timeout, 1 exception, 2 empty, 1 wrong, 2 underspecified, 1 other
    assert comp.loc["Timeout", "n"] == 2 and comp.loc["Timeout", "percent"] == pytest.approx(200 / 9)
    assert comp.loc["Missing / underspecified output", "percent"] == pytest.approx(200 / 9)
    assert comp.loc["Silent semantic failures", "n"] == 3 and comp.loc["Explicit failures", "n"] == 6
    assert comp.loc["Silent semantic failures", "percent"] + comp.loc["Explicit failures", "percent"] == \
        pytest.approx(100)
    by = failure_breakdown(f, "model").set_index(["model", "category"])
    assert by.loc[("m1", "timeout"), "percent"] == pytest.approx(50.0)
    assert by.loc[("m1", "exception"), "percent"] == pytest.approx(50.0)
    assert by.loc[("m2", "empty_prediction"), "n"] == 2 and by.loc[("m2", "empty_prediction"), "percent"] == \
        pytest.approx(100 * 2 / 7)
    assert len(by) == 2 * len(F)  # every category listed for every model
    vis = failure_breakdown(f, "model", column="visibility").set_index(["model", "visibility"])
    assert vis.loc[("m1", "explicit"), "percent"] == 100.0 and vis.loc[("m2", "silent"), "n"] == 3


def test_only_runs_failed_by_status_or_judged_wrong_are_listed(hand):
    f, _ = hand
    assert "unjudged" not in f.index and "old_unknown" not in f.index
    by_status = {"timeout", "exception", "empty", "other", "loop"}
    assert f["failed_by"].to_dict() == {r: "status" if r in by_status else "judgement" for r in EXPECTED}
    assert f.loc["other", "reason"] == "run failure; no gold answer or judgement to tell the kind of failure"


@pytest.mark.parametrize("status, judgement, expected", [
    ("success", "correct", None), ("success", "unjudged", None), ("success", None, None),
    ("success", "wrong", "judgement"), ("failure", "correct", "status"), ("timeout", "unjudged", "status"),
    ("crashed", "wrong", "status"), ("exception", None, "status")])
def test_failed_by_of(status, judgement, expected):
    assert failed_by_of(status, judgement) == expected


class _Fixed:
    def __init__(self, name, label):
        self.name, self._label = name, label

    def label(self, run):
        if self._label == "raise":
            raise RuntimeError("backend down")
        return self._label


def test_judges_relabel_semantic_rows_only(tmp_path):
    from maestro.analysis import runs_df, spans_df
    from maestro.analysis.failures import classify_failures

    rows, spans = [], {}
    _run(rows, spans, "w", judgement="wrong", answer="Lyon", f1=0.0)
    _run(rows, spans, "t", status="timeout", judgement="wrong", answer=None, f1=0.0, error_span=True, end=False)
    study = write_study(tmp_path / "j", rows, spans)
    out = classify_failures(runs_df(study), spans_df(study),
                            judges=[_Fixed("a", "empty_prediction"), _Fixed("b", "raise")]).set_index("run_id")
    assert out.loc["w", "category"] == "empty_prediction" and out.loc["w", "layer"] == "judge:a"
    assert out.loc["t", "category"] == "timeout" and out.loc["t", "layer"] == "runtime"
    assert out.loc["w", "judge_a"] == "empty_prediction" and out.loc["w", "judge_b"] is None


def test_judge_reported_missing_parts_are_underspecified_not_wrong_fact():
    # non-QA instances judge by deliverables (marketing: "missing or incomplete: website";
    # travel planning: "missing day 4"): a fluent answer that lacks a required part is
    # Table 3's missing/underspecified output, even though it names capitalised entities
    import pandas as pd

    from maestro.analysis.failures import classify_failures

    kit = "# Launch kit for Crumb & Co\n\n## Domain options\n- crumbandco.shop\n## Logo\nConcept: a Bun"
    runs = pd.DataFrame([
        run_row("s", "kit", instance="marketing", judgement="wrong", f1=None, answer=kit,
                gold="launch kit with domain options, website outline, marketing strategy and logo",
                judgement_reason="deliverables 3/4; missing or incomplete: website; logo file cited"),
        run_row("s", "trip", instance="travel_planning", judgement="wrong", f1=None, gold="4 days in Lima",
                answer="Final itinerary: 3 days in Lima.\nDay 1: Museo Larco.", judgement_reason="missing day 4"),
        run_row("s", "extra", instance="travel_planning", judgement="wrong", f1=None, gold="1 days in Lima",
                answer="Final itinerary: 2 days in Lima.\nDay 1: Museo Larco.\nDay 2: Barranco.",
                judgement_reason="extra day 2"),
    ])
    out = classify_failures(runs, None).set_index("run_id")["category"]
    assert out.to_dict() == {"kit": "missing_underspecified_output", "trip": "missing_underspecified_output",
                             "extra": "wrong_fact_entity"}


def test_unstored_answers_are_respected_with_strict_false(tmp_path):
    # a study run with store_answers=false has answer=None on every row: that is not an
    # empty prediction, in strict and non-strict mode alike
    rows, spans = [], {}
    _run(rows, spans, "w", judgement="wrong", answer=None, f1=0.0)
    study = write_study(tmp_path / "fail", rows, spans, config={"store_answers": False})
    strict = failures_df(study).set_index("run_id")
    lenient, errors = failures_df(study, strict=False)
    assert errors == []
    assert strict.loc["w", "category"] == "other"
    assert lenient.set_index("run_id").loc["w", "category"] == "other"


@pytest.mark.parametrize("seq, expected", [
    pytest.param(list("ababab"), (("a", "b"), 3, 0), id="period-2"),
    pytest.param(list("xaaaay"), (("a",), 4, 1), id="self-loop"),
    pytest.param(list("abcabd"), None, id="no-repeat"),
    pytest.param([], None, id="empty"),
    pytest.param([("a", "b"), ("b", "a")] * 3, ((("a", "b"), ("b", "a")), 3, 0), id="edge-cycle"),
    pytest.param([("s", "a"), ("a", "a"), ("a", "a"), ("a", "a")], ((("a", "a"),), 3, 1), id="edge-self-loop"),
    # a Send fan-out: one sender, three parallel receivers, and their fan-in: no closed walk
    pytest.param([("__start__", "p"), ("p", "w"), ("p", "w"), ("p", "w"), ("w", "r"), ("w", "r"), ("w", "r"),
                  ("r", "__end__")], None, id="send-fan-out"),
    pytest.param([("a", "b"), ("b", "c")] * 3, None, id="edges-that-never-return"),
])
def test_detect_loop(seq, expected):
    assert detect_loop(seq) == expected


@pytest.mark.parametrize("edges, starts, ends, waves, last", [
    pytest.param([("p", "w")] * 3 + [("w", "r")] * 3, [1, 2, 3, 9, 9, 9], [None] * 6,
                 [("p", "w"), ("w", "r")], [2, 5], id="fan-out-and-in"),
    pytest.param([("w", "w")] * 3, [1, 2, 3], [5, 5, 5], [("w", "w")], [2], id="parallel-self-sends"),
    pytest.param([("w", "w")] * 3, [1, 3, 5], [2, 4, 6], [("w", "w")] * 3, [0, 1, 2], id="sequential-self-loop"),
    pytest.param([("w", "w")] * 2, [1, 2], [None, None], [("w", "w")] * 2, [0, 1], id="self-edges-unknown-receivers"),
])
def test_hand_over_waves(edges, starts, ends, waves, last):
    assert hand_over_waves(edges, starts, ends) == (waves, last)


def _fan_out_run(run_id, rounds):
    """A failed run without final output: ``planner`` sends to three parallel ``worker``s
    (LangGraph ``Send``) that hand back to it, ``rounds`` times."""
    r = run_row("fan", run_id, status="failure", judgement="wrong", answer=None, f1=0.0)
    b = SpanBuilder(r)
    root = b.add("run")
    b.message("__start__", "planner", root)
    last = None
    for _ in range(rounds):
        for _ in range(3):
            last = b.message("planner", "worker", b.add("agent", root, dur_ms=10, agent_name="worker"))
        for _ in range(3):
            last = b.message("worker", "planner", root)
    return r, b.rows, last


def test_send_fan_out_is_not_a_loop_but_a_loop_of_fan_outs_is():
    once, once_spans, _ = _fan_out_run("once", 1)
    looped, looped_spans, last = _fan_out_run("looped", 4)
    f = classify_failures(pd.DataFrame([once, looped]), pd.DataFrame(once_spans + looped_spans)).set_index("run_id")
    assert not f.loc["once", "loop_detected"] and f.loc["once", "category"] != "timeout"
    assert f.loc["looped", "loop_detected"] and f.loc["looped", "loop_cycle"] == "planner->worker worker->planner"
    assert f.loc["looped", "loop_repeats"] == 4 and f.loc["looped", "evidence_span_id"] == last


def _plan_run(run_id, steps, *, sizes, end=True, status="success", judgement="correct", answer="Paris",
              contents=None):
    """planner -> executor, then ``steps`` x (executor -> replanner -> executor) with the
    given message ``sizes`` (one pair per step) or captured ``contents``, then replanner ->
    __end__ when ``end``."""
    r = run_row("plans", run_id, instance="plan_execute", status=status, judgement=judgement, answer=answer)
    b = SpanBuilder(r)
    root = b.add("run")
    b.message("__start__", "planner", root)
    b.message("planner", "executor", root, nbytes=200)
    for k in range(steps):
        a, c = sizes[k] if sizes else (50, 50)
        kw = {} if contents is None else {"attributes_json": json.dumps({"gen_ai.input.messages": contents[k]})}
        b.message("executor", "replanner", root, nbytes=a, **kw)
        b.message("replanner", "executor", root, nbytes=c, **kw)
    if end:
        b.message("replanner", "__end__", root)
    return r, b.rows


def _loops(*runs_and_spans, answers_stored=True):
    runs = pd.DataFrame([r for r, _ in runs_and_spans])
    spans = pd.DataFrame([row for _, rows in runs_and_spans for row in rows])
    return loops_df(runs, spans, answers_stored=answers_stored).set_index("run_id")


def test_a_multi_step_plan_is_not_a_loop():
    # four plan steps whose messages grow with each result (what Plan-and-Execute does):
    # the same agents cycle, but every hand-over carries something new
    growing = [(123, 144), (261, 114), (324, 77), (401, 90)]
    ended = _plan_run("ended", 4, sizes=growing)
    cut = _plan_run("cut", 4, sizes=growing, end=False, status="failure", judgement="wrong", answer=None)
    capped = _plan_run("capped", 4, sizes=growing, end=False, status="timeout", judgement="wrong", answer=None)
    d = _loops(ended, cut, capped)
    assert not d["loop_detected"].any()
    # what the structure-only detector said: a loop in all three
    for _, rows in (ended, cut, capped):
        m = pd.DataFrame(rows).query("span_type == 'message'")
        assert detect_loop(list(zip(m["message_source"], m["message_target"]))) is not None


def test_identical_hand_overs_without_an_end_are_a_loop():
    same = [(120, 80)] * 4
    stuck = _plan_run("stuck", 4, sizes=same, end=False, status="failure", judgement="wrong", answer=None)
    capped = _plan_run("capped", 4, sizes=same, end=False, status="timeout", judgement="wrong", answer=None)
    # the same repeats in a run that then ended with an answer: it did not loop forever
    recovered = _plan_run("recovered", 4, sizes=same)
    d = _loops(stuck, capped, recovered)
    assert d.loc["stuck", "loop_detected"] and d.loc["capped", "loop_detected"]
    assert d.loc["stuck", "loop_cycle"] == "executor->replanner replanner->executor"
    assert d.loc["stuck", "loop_repeats"] == 4
    assert not d.loc["recovered", "loop_detected"]
    # classify_failures agrees: the stuck run is a runtime timeout with the loop's last hand-over as evidence
    runs = pd.DataFrame([stuck[0], capped[0]])
    f = classify_failures(runs, pd.DataFrame(stuck[1] + capped[1])).set_index("run_id")
    assert f.loc["stuck", "category"] == "timeout" and f.loc["stuck", "layer"] == "runtime"
    assert f.loc["stuck", "evidence_span_id"] == stuck[1][-1]["span_id"]
    assert "non-terminating loop" in f.loc["capped", "reason"]


def test_a_loop_needs_repeats_that_carry_the_same_payload():
    # the repeat breaks on the third pass: only two identical repeats, fewer than three
    sizes = [(120, 80), (120, 80), (121, 80), (120, 80)]
    d = _loops(_plan_run("changed", 4, sizes=sizes, end=False, status="failure", judgement="wrong", answer=None))
    assert not d.loc["changed", "loop_detected"]
    # an ended run whose answer is an abstention did not end with an answer
    d = _loops(_plan_run("abstained", 4, sizes=[(120, 80)] * 4, judgement="wrong", answer="I don't know"))
    assert d.loc["abstained", "loop_detected"]


def test_captured_content_decides_over_byte_sizes():
    same_size = [(100, 100)] * 4
    new_info = _plan_run("new", 4, sizes=same_size, end=False, status="failure", judgement="wrong", answer=None,
                         contents=["step 1", "step 2", "step 3", "step 4"])
    repeated = _plan_run("same", 4, sizes=[(100 + k, 100) for k in range(4)], end=False, status="failure",
                         judgement="wrong", answer=None, contents=["retry"] * 4)
    d = _loops(new_info, repeated)
    assert not d.loc["new", "loop_detected"]  # equal sizes, different content: new information
    assert d.loc["same", "loop_detected"]  # the content repeats even though the sizes drift
    m = pd.DataFrame(repeated[1]).query("span_type == 'message'")
    payloads = hand_over_payloads(m)
    assert payloads[0] == 10 and str(payloads[2]).startswith("content:")


def test_fan_out_is_not_a_loop_even_without_an_end():
    once, once_spans, _ = _fan_out_run("once", 1)
    d = _loops((once, once_spans))
    assert not d.loc["once", "loop_detected"]
    assert detect_loop([("p", "w")] * 4, payloads=[10] * 4) is None  # one sender, parallel receivers
    with pytest.raises(ValueError, match="payloads"):
        detect_loop([("a", "b")], payloads=[])


def test_text_rules():
    assert is_abstention(None) and is_abstention("  ") and is_abstention("Unknown")
    assert not is_abstention("Paris")
    assert is_abstention("None.") and is_abstention("n/a") and is_abstention("I am sorry, I cannot answer this.")
    # a full answer that merely contains "none" or "unknown" somewhere is an answer
    assert not is_abstention("Final itinerary: 2 days in Lima.\nDay 1: Museo Larco.\nDietary notes: none.")
    assert not is_abstention("The author of the letter is unknown to historians, but it was signed by Ada Byron")
    assert names_no_entity("It is a country that the sources describe")
    assert not names_no_entity("Truhaithesh") and not names_no_entity("It was founded in 1887 by them")


# --- judges -----------------------------------------------------------------------------------

from maestro.analysis.judges import (  # noqa: E402 - the judge section keeps its imports
    MAST_TAXONOMY,
    TABLE3_TAXONOMY,
    LLMJudge,
    cohen_kappa,
    judge_agreement,
    judge_runs,
    parse_label,
)
from maestro.runner.judges import open_judges  # noqa: E402 - the judge section keeps its imports
from maestro.runner.judges import register_sim_policies as register_sim_judge_policy  # noqa: E402 - the judge section keeps its imports


@pytest.mark.parametrize("a, b, expected", [
    # p_o = 3/4; p_e = .5 x .25 + .5 x .75 = .5; kappa = (.75 - .5) / .5
    pytest.param("aabb", "abbb", 0.5, id="half"),
    pytest.param("abab", "abab", 1.0, id="perfect"),
    pytest.param("ab", "ba", -1.0, id="perfect-disagreement"),
    # p_o = 5/6 (only the third item differs); p_e = (3x2 + 2x3 + 1x1)/36 = 13/36; kappa = 17/23
    pytest.param("aaabbc", "aabbbc", 17 / 23, id="three-labels"),
])
def test_cohen_kappa_by_hand(a, b, expected):
    assert cohen_kappa(list(a), list(b)) == pytest.approx(expected)


def test_kappa_edge_cases_and_agreement_table():
    assert np.isnan(cohen_kappa([], [])) and np.isnan(cohen_kappa(["x", "x"], ["x", "x"]))
    with pytest.raises(ValueError, match="length"):
        cohen_kappa(["a"], ["a", "b"])
    table = judge_agreement({"j1": list("aabb"), "j2": list("abbb"), "j3": ["a", "a", None, "b"]})
    assert list(zip(table.judge_a, table.judge_b)) == [("j1", "j2"), ("j1", "j3"), ("j2", "j3")]
    row = table.iloc[0]
    assert row.n == 4 and row.agreement == 0.75 and row.kappa == pytest.approx(0.5)
    assert table.iloc[1].n == 3 and table.iloc[1].kappa == pytest.approx(1.0)  # the unlabelled item is left out


def test_taxonomies_and_label_parsing():
    assert len(MAST_TAXONOMY.names) == 14 == len(set(MAST_TAXONOMY.names))
    assert set(TABLE3_TAXONOMY.names) == {c.value for c in F}
    assert parse_label("Category: Wrong fact / entity", TABLE3_TAXONOMY) == "wrong_fact_entity"
    assert parse_label("empty_prediction.", TABLE3_TAXONOMY) == "empty_prediction"
    assert parse_label("no idea", TABLE3_TAXONOMY) == "other" and parse_label("no idea", MAST_TAXONOMY) is None
    assert parse_label("Step repetition, then premature termination", MAST_TAXONOMY) == "step_repetition"


def test_simulated_judges_over_http(hand):
    """Judges through the openai client against the simulated service: valid, seeded labels;
    a strong judge mostly agrees with the rules layer; kappa between judges is computed."""
    from maestro.sim import SimServer, openai_base_url

    f, _ = hand
    semantic = f[f.layer == "rules"].reset_index()
    from maestro.sim.policy import registered_policies, unregister_policy

    policy = register_sim_judge_policy()
    assert policy in registered_policies()
    with SimServer(time_factor=0) as sim:
        def judge(name, profile, seed):
            # a nonce per judge: the service's repeat counters restart, so equal seeds give equal labels
            return LLMJudge(name, base_url=openai_base_url(sim.url, profile, seed, nonce=name), model=f"sim-{profile}")

        judges = [judge("strong", "strong", 1), judge("confab", "confabulating", 2), judge("strong2", "strong", 1)]
        labels = judge_runs(judges, semantic)
        mast = judge_runs([LLMJudge("mast", base_url=openai_base_url(sim.url, "strong", 1), model="sim-strong",
                                    taxonomy=MAST_TAXONOMY)], semantic)
    assert unregister_policy(policy)  # leave the process's registry as it was
    assert set(labels.stack()) <= set(TABLE3_TAXONOMY.names) and set(mast["mast"]) <= set(MAST_TAXONOMY.names)
    assert labels["strong"].tolist() == labels["strong2"].tolist()  # same profile and seed: same labels
    agree_rules = (labels["strong"].to_numpy() == semantic.category.to_numpy()).mean()
    assert agree_rules >= 0.5
    table = judge_agreement(labels).set_index(["judge_a", "judge_b"])
    assert table.loc[("strong", "strong2"), "agreement"] == 1.0 and table.loc[("strong", "confab"), "n"] == len(semantic)


def test_judges_from_backend_specs_on_a_study(tmp_path, monkeypatch):
    """`maestro report --judge sim/strong --judge ...` path: specs -> judges on the study's failures."""
    from maestro.analysis.judges import judge_failures
    from maestro.sim.policy import registered_policies

    before = registered_policies()
    rows, spans = [], {}
    for i, answer in enumerate(["Lyon", "", "It is a city that the documents mention", "Nice"]):
        _run(rows, spans, f"w{i}", judgement="wrong", answer=answer, f1=0.0)
    study = write_study(tmp_path / "js", rows, spans)
    with open_judges(["sim/strong", "sim/confabulating", "sim/strong"]) as judges:
        labels = judge_failures(study, judges)
    assert list(labels.columns) == ["sim/strong", "sim/confabulating", "sim/strong#2"] and len(labels) == 4
    with open_judges(["sim/strong", "sim/strong"]) as judges:
        table = judge_agreement(study, judges=judges)
    assert table.iloc[0].n == 4 and table.iloc[0].agreement == 1.0
    with open_judges(["sim/strong"]) as judges:
        f = failures_df(study, judges=judges).set_index("run_id")
    assert f["judge_sim/strong"].notna().all() and f.layer.str.startswith("judge:").all()
    with pytest.raises(ValueError, match="invalid backend 'bogus/x'"):
        with open_judges(["bogus/x"]):
            pass
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="needs OPENAI_API_KEY"):  # never a placeholder key
        with open_judges(["openai/gpt-4o-mini"]):
            pass
    assert registered_policies() == before  # the simulated judge was registered only while judging
