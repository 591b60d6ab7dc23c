"""Reading conventions from requests (maestro.sim.conventions) and the fallback acting on them."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from maestro.sim import (
    PolicyContext,
    SimMessage,
    SimRequest,
    SimTool,
    SimToolCall,
    get_profile,
)
from maestro.sim.conventions import (
    STOP_CERTAIN_AT,
    choice_request,
    count_turns,
    handoff_tools,
    json_request,
    read_conventions,
    stop_keywords,
    stop_probability,
    strip_wrappers,
    topic_text,
)
from maestro.sim.fallback import FALLBACK_POLICY
from maestro.sim.synth import (
    SchemaBias,
    count_sim_answers,
    dedupe_words,
    strip_sim_text,
    substantive_answer,
    synthesize_json,
)


def _ctx(seed: int, profile: str = "strong") -> PolicyContext:
    p = get_profile(profile)
    return PolicyContext(random.Random(seed), p.name, p.accuracy, p.failure_mix, p.verbosity, p.strictness, dict(p.extra))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Solve tasks using your tools. Reply with TERMINATE when the task has been completed.", [("TERMINATE", "end")]),
        ("Respond with 'APPROVE' to when your feedbacks are addressed.", [("APPROVE", "end")]),
        ('When you are happy with it, say "DONE".', [("DONE", "end")]),
        ("Finish your answer with the following template: FINAL ANSWER: [YOUR FINAL ANSWER].", [("FINAL ANSWER:", "end")]),
        ("Start your reply with 'PLAN:' and list the steps.", [("PLAN:", "start")]),
        ("Answer YES or NO.", []),
        ("Reply with 'approve' or 'reject'.", []),
        ("Respond in JSON. DO NOT OUTPUT ANYTHING OTHER THAN JSON.", []),
        ("If no more steps are needed, then respond with that.", []),
    ],
)
def test_stop_keywords(text, expected):
    assert [(k.text, k.position) for k in stop_keywords([text])] == expected


def test_keyword_placement():
    (end,) = stop_keywords(["reply with TERMINATE"])
    (final,) = stop_keywords(["end with FINAL ANSWER: <answer>"])
    (start,) = stop_keywords(["begin your reply with 'VERDICT:'"])
    assert end.apply("Done here.") == "Done here.\n\nTERMINATE"
    assert final.apply("Oslo it is. More words.").endswith("FINAL ANSWER: Oslo it is")
    assert start.apply("All good.") == "VERDICT: All good."
    assert end.apply("") == "TERMINATE"


def test_choices_and_json_requests():
    assert choice_request("Then select the next role from ['planner', 'checker'] to play. Only return the role.") == ["planner", "checker"]
    assert choice_request("No valid name was mentioned. Please select from: ['checker', 'writer'].") == ["checker", "writer"]
    assert choice_request("Choose a restaurant from the list below.") is None
    asked, schema = json_request(['Reply in JSON like {"verdict": "string (one of: pass, fail)", "score": 3, "ok": true}'])
    assert asked and schema["properties"] == {"verdict": {"type": "string", "enum": ["pass", "fail"]}, "score": {"type": "integer"}, "ok": {"type": "boolean"}}
    asked, schema = json_request(["Respond in JSON with keys reason, answer and is_done."])
    assert schema["properties"]["is_done"] == {"type": "boolean"} and schema["required"] == ["reason", "answer", "is_done"]
    assert json_request(["Here is a sentence that merely mentions JSON files."]) == (False, None)


def test_magentic_one_ledger_template_is_answered_in_kind():
    from autogen_agentchat.teams._group_chat._magentic_one._prompts import (
        ORCHESTRATOR_PROGRESS_LEDGER_PROMPT,
        LedgerEntry,
    )

    prompt = ORCHESTRATOR_PROGRESS_LEDGER_PROMPT.format(task="Plan Oslo.", team="alpha: researches\nbeta: writes", names="alpha, beta")
    for response_schema in (None, {"type": "object"}, LedgerEntry.model_json_schema()):
        satisfied = []
        for seed in range(40):
            msgs = (SimMessage("user", "Plan Oslo."), SimMessage("assistant", "We are working to address ..."), SimMessage("user", prompt))
            text = FALLBACK_POLICY.respond(SimRequest("openai", "m", msgs, response_schema=response_schema), _ctx(seed)).text
            ledger = json.loads(text)  # plain JSON, parsable as-is
            LedgerEntry.model_validate(ledger)
            assert ledger["next_speaker"]["answer"] in ("alpha", "beta")
            satisfied.append(ledger["is_request_satisfied"]["answer"])
        assert 0 < sum(satisfied) < 40


def test_handoff_tools():
    swarm = (SimTool("transfer_to_researcher", "", {"type": "object", "properties": {}}), SimTool("transfer_to_user", "", {"type": "object"}))
    adk = SimTool("transfer_to_agent", "", {"type": "object", "properties": {"agent_name": {"type": "string", "enum": ["a", "b"]}}})
    hs = handoff_tools((*swarm, adk, SimTool("search", "", {})))
    assert [(h.tool.name, h.targets, h.terminal) for h in hs] == [
        ("transfer_to_researcher", ("researcher",), False),
        ("transfer_to_user", ("user",), True),
        ("transfer_to_agent", ("a", "b"), False),
    ]


def test_turns_count_every_participant_and_pasted_answers():
    rng = random.Random(1)
    a1, a2 = substantive_answer(rng, "Oslo in June"), substantive_answer(rng, "Oslo in June")
    autogen = (SimMessage("system", "s"), SimMessage("user", "task", name="user"), SimMessage("user", a1, name="writer"),
               SimMessage("assistant", a2), SimMessage("user", "next", name="writer"))
    assert count_turns(SimRequest("openai", "m", autogen)) == 2
    adk = (SimMessage("user", "task"), SimMessage("user", "For context:\n[a] said: hi"), SimMessage("user", "[b] called tool `t` with parameters: {}"))
    assert count_turns(SimRequest("gemini", "m", adk)) == 2
    replanner = (SimMessage("user", f"Done so far: [('step 1', {a1!r}), ('step 2', {a2!r})]. Update the plan."),)
    assert count_turns(SimRequest("openai", "m", replanner)) == 2
    assert count_sim_answers(a1 + " " + a2) == 2 and "Regarding" not in strip_sim_text(a1)


def test_stop_probability_rises_and_is_certain_eventually():
    ps = [stop_probability(t) for t in range(STOP_CERTAIN_AT + 2)]
    assert ps == sorted(ps) and 0 < ps[0] < 0.5 and ps[STOP_CERTAIN_AT] == 1.0
    assert stop_probability(0, {"fallback_stop_base": 0.0, "fallback_stop_slope": 0.5}) == 0.0


def test_topic_drops_wrappers_and_own_words():
    rng = random.Random(3)
    own = substantive_answer(rng, "Vienna river")
    msgs = (
        SimMessage("user", "What river flows through Vienna?"),
        SimMessage("user", f"For context:\n[helper] said: {own}"),
        SimMessage("user", "Transferred to writer, adopting the role of writer immediately.", name="helper"),
    )
    topic = topic_text(SimRequest("openai", "m", msgs))
    assert "Vienna" in topic and "Regarding" not in topic and "helper" not in topic and "adopting" not in topic
    assert strip_wrappers("<<<BEGIN_QUOTED_AGENT_CONTENT>>>\nsecret words\n<<<END_QUOTED_AGENT_CONTENT>>>") == ""
    assert dedupe_words("Regarding Regarding Regarding Oslo and June") == "Regarding Oslo and June"


def test_fallback_ends_a_swarm_agent_and_hands_back():
    tools = (SimTool("transfer_to_planner", "", {"type": "object", "properties": {}}),)
    history = [SimMessage("system", "You research facts."), SimMessage("user", "Plan Oslo.", name="user")]
    kinds = []
    for seed in range(60):
        # The floor came back to the researcher after its own text turn, many turns in.
        msgs = (*history, *[SimMessage("assistant", f"note {i}") for i in range(STOP_CERTAIN_AT)])
        r = FALLBACK_POLICY.respond(SimRequest("openai", "m", msgs, tools=tools, tool_choice="auto"), _ctx(seed))
        kinds.append(r.tool_calls[0].name if r.tool_calls else "text")
    assert set(kinds) == {"transfer_to_planner"}  # wrapping up, it gives the floor back


def test_fallback_uses_terminal_handoff_and_keyword():
    tools = (SimTool("transfer_to_user", "", {"type": "object", "properties": {}}),)
    done = [SimMessage("assistant", f"turn {i}") for i in range(STOP_CERTAIN_AT)]
    r = FALLBACK_POLICY.respond(SimRequest("openai", "m", (SimMessage("user", "task"), *done), tools=tools), _ctx(1))
    assert [c.name for c in r.tool_calls] == ["transfer_to_user"]
    sysmsg = SimMessage("system", "Reply with TERMINATE when the task is complete.")
    r = FALLBACK_POLICY.respond(SimRequest("openai", "m", (sysmsg, SimMessage("user", "task"), *done)), _ctx(1))
    assert r.text.endswith("TERMINATE")
    early = [FALLBACK_POLICY.respond(SimRequest("openai", "m", (sysmsg, SimMessage("user", "task"))), _ctx(s)).text for s in range(50)]
    assert 0 < sum(t.endswith("TERMINATE") for t in early) < 20  # rarely on the first turn


def test_fallback_answers_a_selection_with_one_name():
    msg = SimMessage("user", "Read the following conversation. Then select the next role from ['planner', 'writer'] to play. Only return the role.")
    names = {FALLBACK_POLICY.respond(SimRequest("openai", "m", (msg,)), _ctx(s)).text for s in range(30)}
    assert names == {"planner", "writer"}


def test_handoff_results_do_not_stop_regular_tools():
    tools = (SimTool("search", "", {"type": "object", "properties": {"query": {"type": "string"}}}), SimTool("transfer_to_planner", "", {}))
    msgs = (
        SimMessage("user", "Find Oslo museums.", name="user"),
        SimMessage("assistant", "", (SimToolCall("transfer_to_researcher", {}, "c1"),)),
        SimMessage("tool", "Transferred to researcher, adopting the role of researcher immediately.", tool_call_id="c1", name="transfer_to_researcher"),
    )
    used = [r.tool_calls[0].name for s in range(60) if (r := FALLBACK_POLICY.respond(SimRequest("openai", "m", msgs, tools=tools), _ctx(s))).tool_calls]
    assert "search" in used


def test_schema_bias_and_union_variation():
    schema = {"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                        {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}]}
    keys = {next(iter(synthesize_json(schema, random.Random(s)))) for s in range(30)}
    assert keys == {"a", "b"}  # members vary even without a bias
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    vals = [synthesize_json(nullable, random.Random(s)) for s in range(60)]
    assert None in vals and sum(v is None for v in vals) < 30
    union = {"$defs": {"Response": {"title": "Response", "type": "object", "properties": {"response": {"type": "string"}}, "required": ["response"]},
                       "Plan": {"title": "Plan", "type": "object", "properties": {"steps": {"type": "array", "items": {"type": "string"}}}, "required": ["steps"]}},
             "type": "object", "properties": {"action": {"oneOf": [{"$ref": "#/$defs/Plan"}, {"$ref": "#/$defs/Response"}]}}, "required": ["action"]}
    for p_done, lo, hi in ((0.1, 0, 12), (0.9, 48, 60)):
        finals = 0
        for s in range(60):
            v = synthesize_json(union, random.Random(s), "Plan Oslo", bias=SchemaBias(p_done=p_done, topic="Plan Oslo"))
            jsonschema.validate(v, union)
            finals += "response" in v["action"]
        assert lo <= finals <= hi, (p_done, finals)


def test_conventions_summary():
    req = SimRequest(
        "openai",
        "m",
        (SimMessage("system", "You plan. Reply with TERMINATE when done."), SimMessage("user", "Plan Oslo.", name="user")),
        tools=(SimTool("transfer_to_user", "", {}),),
    )
    conv = read_conventions(req)
    assert [k.text for k in conv.keywords] == ["TERMINATE"] and conv.terminal_handoffs and conv.turns == 0 and "Oslo" in conv.topic
