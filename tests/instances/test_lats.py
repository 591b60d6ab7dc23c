"""LATS: the search tree (UCT, selection, backpropagation) on hand-computed values, the
sim policies' scoring, the adapter's span annotation, and end-to-end runs through the
study runner with the explored tree read back from the trace."""

from __future__ import annotations

import json
import math

import pytest

import maestro
from maestro import semconv as sc
from maestro.adapters.langgraph.extract import annotation_attributes
from maestro.instances.lats.prompts import (
    EXPAND_SYSTEM,
    REFLECT_SYSTEM,
    format_expand_input,
    format_reflect_input,
    parse_candidate_answer,
    parse_reflection,
)
from maestro.instances.lats.sim_policies import ExpandPolicy, ReflectPolicy, search_score
from maestro.instances.lats.tree import (
    ROOT_ID,
    add_child,
    backpropagate,
    best_answer,
    is_expandable,
    new_tree,
    select,
    trajectory,
    tree_from_state,
    tree_to_state,
    uct,
)
from maestro.instances.qa_world import build_world
from maestro.instances.qa_world.lookup import lookup_question
from maestro.runner.config import study_config_from_dict
from maestro.runner.study import run_study
from maestro.sim.policy import SimMessage, SimRequest, SimTool
from maestro.sim.profiles import BUILTIN_PROFILES

from trace_helpers import QUERY_SCHEMA, check_span_tree, check_statuses, edge_sequence, policy_ctx

WORLD = build_world()
Q2 = next(q for q in WORLD.questions if q.hops == 2)
PROFILES = tuple(p.name for p in BUILTIN_PROFILES)  # strong, verbose, underspecified, ..., flaky, oracle
AGENTS = {"select", "expand", "reflect"}
TOOL = QUERY_SCHEMA
ctx = policy_ctx


# -- the tree ------------------------------------------------------------------------------

def test_uct_on_hand_computed_values():
    assert uct(1.5, 3, 10, c=1.0) == pytest.approx(0.5 + math.sqrt(math.log(10) / 3))  # 0.5 + sqrt(0.767528) = 1.376087
    assert uct(1.5, 3, 10, c=1.0) == pytest.approx(1.376087, abs=1e-6)
    assert uct(0.8, 1, 4, c=0.2) == pytest.approx(0.8 + 0.2 * math.sqrt(math.log(4)))  # 1.035480...
    assert uct(0.0, 0, 5) == math.inf
    assert uct(2.0, 4, 1, c=5.0) == pytest.approx(0.5)  # ln(1) = 0: pure exploitation


def _tree():
    """root -> a (2 visits, value 1.2), b (1 visit, value 0.7); a -> a1 (1 visit, 0.4)."""
    t = new_tree()
    a = add_child(t, ROOT_ID, action="search", tool="local_retriever", query="qa")
    b = add_child(t, ROOT_ID, action="search", tool="web_search", query="qb")
    backpropagate(t, a.node_id, 0.8)
    backpropagate(t, b.node_id, 0.7)
    a1 = add_child(t, a.node_id, action="search", tool="local_retriever", query="qa1")
    backpropagate(t, a1.node_id, 0.4)
    return t, a, b, a1


def test_backpropagation_adds_reward_and_a_visit_up_to_the_root():
    t, a, b, a1 = _tree()
    assert (a.node_id, b.node_id, a1.node_id) == ("n1", "n2", "n3")
    assert (t[ROOT_ID].visits, t[ROOT_ID].value) == (3, pytest.approx(1.9))
    assert (a.visits, a.value) == (2, pytest.approx(1.2))
    assert (b.visits, b.value, a1.visits, a1.value) == (1, pytest.approx(0.7), 1, pytest.approx(0.4))
    assert [n.node_id for n in trajectory(t, a1.node_id)] == ["n1", "n3"] and a1.depth == 2


def test_selection_follows_uct():
    t, a, b, a1 = _tree()
    # at the root (3 visits): a = 0.6 + c*sqrt(ln3/2), b = 0.7 + c*sqrt(ln3/1)
    # c = 1: a = 1.3411, b = 1.7481 -> b (a leaf) is selected
    assert select(t, c=1.0) == b.node_id
    # c = 0: a = 0.6 < b = 0.7 -> still b; make a's branch better and a's subtree wins
    backpropagate(t, a1.node_id, 1.0)  # root 4 visits/2.9, a 3/2.2 (0.733), a1 2/1.4
    assert uct(t["n1"].value, t["n1"].visits, t[ROOT_ID].visits, 0.0) == pytest.approx(2.2 / 3)
    assert select(t, c=0.0) == a1.node_id  # a (0.733) beats b (0.7), then a1 is a's only child (a leaf)
    # with strong exploration the less visited b wins again: b = 0.7 + 2*sqrt(ln4) = 3.0548 > a = 2.6563
    assert select(t, c=2.0) == b.node_id


def test_terminal_and_deep_nodes_are_not_expandable_and_an_exhausted_tree_selects_nothing():
    t = new_tree()
    ans = add_child(t, ROOT_ID, action="answer", answer="X")
    deep = add_child(t, ROOT_ID, action="search", tool="local_retriever", query="q")
    backpropagate(t, ans.node_id, 0.9)
    backpropagate(t, deep.node_id, 0.1)
    assert not is_expandable(t, ans.node_id, max_depth=4)
    assert select(t, max_depth=4) == deep.node_id  # the answer scores higher but is terminal
    assert select(t, max_depth=1) is None  # depth-1 nodes may not grow at max_depth 1
    ans.score, deep.score = 0.9, 0.1
    assert best_answer(t) is ans
    assert tree_from_state(tree_to_state(t)) == t


# -- prompts and policies ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    pytest.param("Reflection: fine\nScore: 7\nSolved: no", (0.7, False), id="plain"),
    pytest.param("score = 10. solved: YES", (1.0, True), id="case-and-equals"),
    pytest.param("Score: 14", (1.0, False), id="clamped"),
    pytest.param("no score here", (0.0, False), id="missing"),
])
def test_parse_reflection(text, expected):
    assert parse_reflection(text) == expected


def test_parse_candidate_answer():
    assert parse_candidate_answer("Answer: Brashford.\nbecause") == "Brashford"
    assert parse_candidate_answer("Oslo\nmore") == "Oslo" and parse_candidate_answer("") == ""


def _node(t, parent, **kw):
    return add_child(t, parent, **kw)


def test_reflection_scores_progress_and_answers_from_content():
    kq = lookup_question(Q2.text)
    hop1, hop2 = (WORLD.passage(pid).text for pid in Q2.support_ids)
    gold = Q2.answer
    c = ctx()  # reasoning 1, knows nothing: progress is evidence read along its walk
    # hand-computed noise-free scores: a search reading hop 1 of 2 -> 0.35 + 0.55/2
    assert search_score(kq, "", hop1, c) == pytest.approx(0.625)
    assert search_score(kq, "", "nothing", c) == pytest.approx(0.1)
    assert search_score(kq, hop1, hop2, c) == pytest.approx(0.9)
    assert search_score(kq, "", hop2, c) == pytest.approx(0.1)  # hop 2 alone: unreachable without hop 1
    t = new_tree()
    read = _node(t, ROOT_ID, action="search", tool="web_search", query="q", observation=f"{hop1}\n{hop2}")
    good = _node(t, read.node_id, action="answer", answer=gold)
    bad = _node(t, read.node_id, action="answer", answer="Nobody")
    blind = _node(t, ROOT_ID, action="answer", answer=gold)

    def score(trail, node, **kw):
        r = ReflectPolicy().respond(SimRequest("openai", "m", (SimMessage("system", REFLECT_SYSTEM), SimMessage(
            "user", format_reflect_input(Q2.text, trail, node)))), ctx(**kw))
        return parse_reflection(r.text)

    assert score([read], good) == (pytest.approx(1.0, abs=0.15), True)
    assert score([read], bad)[1] is False
    # an answer it cannot check: a calibrated evaluator declines, an uncalibrated one accepts it
    assert score([], blind, calibration=1.0)[1] is False
    assert score([], blind, calibration=0.0) == (pytest.approx(0.8, abs=0.06), True)


def test_expansion_uses_only_offered_tools_and_answers_once_the_evidence_is_in_view():
    def expand(traj_nodes, tools, seed=0, **kw):
        user = format_expand_input(Q2.text, traj_nodes, 1, 2)
        r = SimRequest("openai", "m", (SimMessage("system", EXPAND_SYSTEM), SimMessage("user", user)),
                       tools=tuple(SimTool(n, n, TOOL) for n in tools))
        return ExpandPolicy().respond(r, ctx(seed, **kw))

    for seed in range(30):
        reply = expand([], ["local_retriever"], seed, calibration=1.0)
        assert [c.name for c in reply.tool_calls] == ["local_retriever"]
    # unaware and not following the instruction to search first: it answers at once
    hasty = expand([], ["local_retriever"], calibration=0.0, instruction=0.0)
    assert hasty.text.startswith("Answer:") and not hasty.tool_calls
    t = new_tree()
    n1 = _node(t, ROOT_ID, action="search", tool="web_search", query="q",
               observation="\n".join(WORLD.passage(pid).text for pid in Q2.support_ids))
    assert expand([n1], ["local_retriever"]).text.startswith(f"Answer: {Q2.answer}")


def test_adapter_keeps_only_maestro_annotations():
    data = {sc.MAESTRO_SEARCH_NODE_ID: "n3", sc.MAESTRO_SEARCH_SCORE: 0.5, sc.MAESTRO_RUN_ID: "forged",
            sc.MAESTRO_SPAN_TYPE: "run", "other": 1, "maestro.mixed": [1, "a"], "maestro.list": ["n1", "n2"]}
    assert annotation_attributes(data) == {sc.MAESTRO_SEARCH_NODE_ID: "n3", sc.MAESTRO_SEARCH_SCORE: 0.5,
                                           "maestro.list": ["n1", "n2"]}


# -- end to end through the runner ---------------------------------------------------------

def _config(tmp_path, **kw):
    body = {"id": "lats", "instances": ["lats"], "backends": [f"sim/{p}" for p in PROFILES], "tools": "both",
            "repeats": 1, "tasks": 1, "time_factor": 0, "workers": 2, "out": str(tmp_path), "timeout_s": 60,
            "instance_options": {"lats": {"width": 2, "max_iterations": 4}}}
    body.update(kw)
    return study_config_from_dict(body)


def search_steps(spans, run_id):
    """(agent, maestro.search.* attributes) of each agent span, in start order."""
    s = spans[(spans.run_id == run_id) & (spans.span_type == "agent")].sort_values("start_time_ns")
    return [(r.agent_name, {k: v for k, v in json.loads(r.attributes_json or "{}").items()
                            if k.startswith("maestro.search.")}) for r in s.itertuples()]


@pytest.fixture(scope="module")
def lats_study(tmp_path_factory):
    return maestro.load_study(run_study(_config(tmp_path_factory.mktemp("lats")), progress=False).path)


@pytest.mark.slow
def test_every_profile_with_tools_on_and_off_runs_with_a_sound_span_tree(lats_study):
    runs = lats_study.runs
    assert len(runs) == len(PROFILES) * 2
    check_statuses(runs)
    assert runs.clean.all()
    check_span_tree(lats_study, AGENTS)


@pytest.mark.slow
def test_the_explored_tree_is_visible_in_the_trace(lats_study):
    for run_id in lats_study.runs.run_id:
        steps = search_steps(lats_study.spans, run_id)
        assert steps[0][0] == "select" and steps[0][1][sc.MAESTRO_SEARCH_NODE_ID] == ROOT_ID
        parents: dict[str, str | None] = {ROOT_ID: None}
        for agent, attrs in steps:
            node = attrs[sc.MAESTRO_SEARCH_NODE_ID]
            if agent == "expand":  # creates a node under a known one, ids in creation order
                assert node == f"n{len(parents)}" and attrs[sc.MAESTRO_SEARCH_PARENT_NODE_ID] in parents
                parents[node] = attrs[sc.MAESTRO_SEARCH_PARENT_NODE_ID]
                assert attrs[sc.MAESTRO_SEARCH_ACTION] in ("search", "answer")
            elif agent == "reflect":  # scores a node that exists, after backpropagation
                assert node in parents and 0.0 <= attrs[sc.MAESTRO_SEARCH_SCORE] <= 1.0
                assert attrs[sc.MAESTRO_SEARCH_VISITS] >= 1
            else:  # select names an existing, already reflected node (or stops)
                assert node in parents
        # depth of each node = its parent's depth + 1 (rebuilt from the trace alone)
        depth = {ROOT_ID: 0}
        for agent, attrs in steps:
            if agent == "expand":
                depth[attrs[sc.MAESTRO_SEARCH_NODE_ID]] = depth[attrs[sc.MAESTRO_SEARCH_PARENT_NODE_ID]] + 1
                assert attrs[sc.MAESTRO_SEARCH_DEPTH] == depth[attrs[sc.MAESTRO_SEARCH_NODE_ID]]


@pytest.mark.slow
def test_seeds_vary_the_search_and_a_seed_reproduces_its_tree(tmp_path):
    many = maestro.load_study(run_study(_config(tmp_path, id="lats-seeds", backends=["sim/underspecified"], tools=False,
                                                 repeats=20, tasks=1), progress=False).path)
    assert len(many.runs) == 20
    assert len({edge_sequence(many.spans, r) for r in many.runs.run_id}) >= 2
    assert len({json.dumps(search_steps(many.spans, r)) for r in many.runs.run_id}) >= 2
    # the reflections' scores decide which branch grows: the second selection is not always n1
    second = [[a[sc.MAESTRO_SEARCH_NODE_ID] for g, a in search_steps(many.spans, r) if g == "select"][1:2]
              for r in many.runs.run_id]
    assert len({tuple(x) for x in second}) >= 2
    again = maestro.load_study(run_study(_config(tmp_path, id="lats-again", backends=["sim/underspecified"],
                                                  tools=False, repeats=3, tasks=1), progress=False).path)
    for run_id in again.runs.run_id:
        assert search_steps(again.spans, run_id) == search_steps(many.spans, run_id), run_id
        assert edge_sequence(again.spans, run_id) == edge_sequence(many.spans, run_id)
