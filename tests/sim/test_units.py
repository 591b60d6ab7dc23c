"""Pure helpers: URLs, schema synthesis, truncation, seeding, fallback termination."""

from __future__ import annotations

import random

import jsonschema
import pytest

from maestro.sim import (
    BUILTIN_PROFILES,
    FailureMix,
    PolicyContext,
    Profile,
    SimMessage,
    SimRequest,
    SimTool,
    get_profile,
    list_profiles,
    register_profile,
)
from maestro.sim.fallback import FALLBACK_POLICY
from maestro.sim.seeding import canonical_request, stable_seed
from maestro.sim.synth import split_for_stream, synthesize_json, truncate_to_tokens
from maestro.sim.urls import SimRunKey, gemini_base_url, openai_base_url, parse_sim_url
from maestro.sim.wire_gemini import normalize_schema
from maestro.tokens import count_tokens


def test_url_helpers_round_trip():
    assert openai_base_url("http://h:1/", "strong", 7) == "http://h:1/sim/strong/7/v1"
    assert gemini_base_url("http://h:1", "flaky", 7, "a-1") == "http://h:1/sim/flaky/7.a-1"
    u = parse_sim_url("http://h:1/sim/flaky/7.a-1/v1")
    assert (u.server_url, u.profile, u.seed, u.nonce, u.rest) == ("http://h:1", "flaky", 7, "a-1", "/v1")
    assert SimRunKey.parse("12") == SimRunKey(12, None)
    with pytest.raises(ValueError):
        SimRunKey.parse("12.a.b")
    with pytest.raises(ValueError):
        openai_base_url("http://h", "strong", 1, nonce="bad.nonce")
    with pytest.raises(ValueError):
        parse_sim_url("http://h:1/v1")


def test_profiles_table():
    names = [p.name for p in list_profiles()]
    for n in ("strong", "verbose", "underspecified", "abstaining", "confabulating", "flaky"):
        assert n in names
    def fm(name):
        return get_profile(name).failure_mix

    # the failure signatures follow from calibration and abstention (derived, not set)
    assert fm("underspecified").underspecified > fm("underspecified").wrong + fm("underspecified").empty
    assert fm("abstaining").empty > fm("abstaining").wrong + fm("abstaining").underspecified
    assert fm("confabulating").wrong > fm("confabulating").empty + fm("confabulating").underspecified
    p = get_profile("abstaining")
    assert (fm("abstaining").wrong, fm("abstaining").empty) == (pytest.approx(1 - p.calibration),
                                                                pytest.approx(p.calibration * p.abstention))
    assert p.accuracy == p.reasoning and p.strictness == p.calibration
    assert get_profile("flaky").p_rate_limit > 0.05 and get_profile("strong").p_rate_limit == 0
    # built-ins differ in speed and verbosity (tests may register more profiles of their own)
    assert len({(p.ttft_s, p.tokens_per_s, p.verbosity) for p in BUILTIN_PROFILES}) == len(BUILTIN_PROFILES)
    custom = register_profile(Profile("unit-custom", "test", ttft_s=0.1, tokens_per_s=10, verbosity=1, reasoning=0.5, extra={"k": 1}))
    assert get_profile("unit-custom") is custom
    with pytest.raises(KeyError, match="strong"):
        get_profile("nope")
    with pytest.raises(ValueError):
        Profile("bad/name", "x", ttft_s=0, tokens_per_s=1, verbosity=1, reasoning=0.5)
    with pytest.raises(ValueError, match="knowledge"):
        Profile("p", "x", ttft_s=0, tokens_per_s=1, verbosity=1, reasoning=0.5, knowledge=1.5)


SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "string", "minLength": 30}, "b": {"type": "integer", "exclusiveMinimum": 3, "maximum": 4}}, "required": ["a", "b"]},
    {"type": "array", "items": {"enum": ["x", "y", "z"]}, "minItems": 2, "maxItems": 3, "uniqueItems": True},
    {"anyOf": [{"type": "null"}, {"type": "number", "minimum": -1, "maximum": -0.5}]},
    {"allOf": [{"type": "object", "properties": {"p": {"type": "boolean"}}, "required": ["p"]}, {"properties": {"q": {"const": 3}}, "required": ["q"]}]},
    {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["v", "kids"]}}},
    {"type": ["string", "null"], "format": "date-time"},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_synthesize_json_validates(schema):
    for seed in range(25):
        jsonschema.validate(synthesize_json(schema, random.Random(seed), "find the Eiffel Tower height"), schema)


def test_gemini_schema_normalised():
    g = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER", "nullable": True}, "t": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["n", "t"], "propertyOrdering": ["n", "t"]}
    js = normalize_schema(g)
    assert js == {"type": "object", "properties": {"n": {"type": ["integer", "null"]}, "t": {"type": "array", "items": {"type": "string"}}}, "required": ["n", "t"]}
    jsonschema.validate(synthesize_json(g, random.Random(1)), js)  # upper-case types are understood directly too


def test_truncate_and_split():
    text = "Hello, world! It's 3.14 -- isn't it? Yes."
    for n in range(count_tokens(text) + 2):
        cut, was = truncate_to_tokens(text, n)
        assert count_tokens(cut) == min(n, count_tokens(text)) and text.startswith(cut)
        assert was == (n < count_tokens(text))
    long = " ".join(f"w{i}" for i in range(100))
    pieces = split_for_stream(long)
    assert "".join(pieces) == long and 1 < len(pieces) <= 8
    assert split_for_stream("") == []


def test_seed_is_stable_and_request_canonical():
    req = SimRequest("openai", "m", (SimMessage("user", "hi"),))
    assert stable_seed(1, "strong", canonical_request(req), 0) == stable_seed(1, "strong", canonical_request(req), 0)
    assert stable_seed(1, "ab", "c") != stable_seed(1, "a", "bc")
    streamed = SimRequest("gemini", "m", (SimMessage("user", "hi"),), stream=True)
    assert canonical_request(req) == canonical_request(streamed)  # stream/protocol don't key


def _ctx(seed: int) -> PolicyContext:
    return PolicyContext(random.Random(seed), "strong", 0.9, FailureMix(), 1.0)


def test_fallback_always_terminates_after_tool_result():
    tool = SimTool("search", "", {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})
    msgs = (SimMessage("user", "q"), SimMessage("assistant", "", ()), SimMessage("tool", "result", tool_call_id="c1"))
    for seed in range(50):
        r = FALLBACK_POLICY.respond(SimRequest("openai", "m", msgs, tools=(tool,)), _ctx(seed))
        assert not r.tool_calls
    calls = [bool(FALLBACK_POLICY.respond(SimRequest("openai", "m", msgs[:1], tools=(tool,)), _ctx(s)).tool_calls) for s in range(50)]
    assert 10 < sum(calls) < 40  # ~half the time before any tool result


def test_fallback_failure_signatures():
    req = SimRequest("openai", "m", (SimMessage("user", "Who designed the Eiffel Tower?"),))
    abst = get_profile("abstaining")
    empties = 0
    for s in range(200):
        ctx = PolicyContext(random.Random(s), abst.name, 0.0, abst.failure_mix, abst.verbosity)
        empties += not FALLBACK_POLICY.respond(req, ctx).text
    assert empties > 120
