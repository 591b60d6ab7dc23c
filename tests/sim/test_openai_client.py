"""The OpenAI-compatible endpoint through the real ``openai`` client."""

from __future__ import annotations

import json

import jsonschema
import openai
import pytest

from maestro.sim import SimReply, SimToolCall
from maestro.tokens import END_OF_SEQUENCE_TOKENS as EOS
from maestro.tokens import count_message_tokens, count_tokens

Q = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Who founded the Acme Corporation in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "web_search",
            "description": "Search the web.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": 5}, "lang": {"type": "string", "enum": ["en", "fr"]}},
                "required": ["query", "k", "lang"],
            },
        },
    },
    {"type": "function", "function": {"name": "calculator", "description": "Math.", "parameters": {"type": "object", "properties": {"expr": {"type": "string"}}, "required": ["expr"]}}},
]


def client(url: str, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="x", **kw)


def test_plain_completion(oai_url, fresh):
    r = client(oai_url("oracle", 5, fresh())).chat.completions.create(model="my-model", messages=Q)
    assert r.model == "my-model"
    assert r.object == "chat.completion"
    assert r.system_fingerprint == "maestro-sim/oracle/fallback"
    text = r.choices[0].message.content
    assert text and r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == count_message_tokens([(m["role"], m["content"]) for m in Q])
    assert r.usage.completion_tokens == count_tokens(text) + EOS
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_trailing_slash_and_list_content(oai_url, fresh):
    nonce = fresh()
    a = client(oai_url("strong", 9, nonce) + "/").chat.completions.create(model="m", messages=[{"role": "user", "content": "hello there"}])
    b = client(oai_url("strong", 9, fresh())).chat.completions.create(
        model="m", messages=[{"role": "user", "content": [{"type": "text", "text": "hello there"}]}]
    )
    assert a.choices[0].message.content == b.choices[0].message.content


def test_stream_usage_equals_non_stream(oai_url, fresh):
    c1 = client(oai_url("verbose", 11, fresh()))
    c2 = client(oai_url("verbose", 11, fresh()))
    plain = c1.chat.completions.create(model="m", messages=Q)
    chunks = list(c2.chat.completions.create(model="m", messages=Q, stream=True, stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == plain.choices[0].message.content
    assert 2 <= sum(1 for ch in chunks if ch.choices and ch.choices[0].delta.content) <= 8
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump() == plain.usage.model_dump()
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finishes == ["stop"]


def test_tool_call_round_trip(oai_url, fresh):
    c = client(oai_url("strong", 3, fresh()))
    r = c.chat.completions.create(model="m", messages=Q, tools=TOOLS, tool_choice="required")
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls" and msg.tool_calls
    call = msg.tool_calls[0]
    args = json.loads(call.function.arguments)
    schema = next(t["function"]["parameters"] for t in TOOLS if t["function"]["name"] == call.function.name)
    jsonschema.validate(args, schema)
    assert r.usage.completion_tokens == count_tokens(call.function.arguments) + EOS
    history = Q + [msg.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "Acme was founded by Jane Roe."}]
    r2 = c.chat.completions.create(model="m", messages=history, tools=TOOLS)
    assert r2.choices[0].message.tool_calls is None  # after a tool result the fallback answers
    assert r2.choices[0].finish_reason == "stop"


def test_forced_tool_choice(oai_url, fresh):
    for seed in range(5):
        r = client(oai_url("strong", seed, fresh())).chat.completions.create(
            model="m", messages=Q, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "web_search"}}
        )
        (call,) = r.choices[0].message.tool_calls
        assert call.function.name == "web_search"
        args = json.loads(call.function.arguments)
        jsonschema.validate(args, TOOLS[0]["function"]["parameters"])
        assert args["query"] == "Who founded the Acme Corporation in Paris?"


def test_tool_choice_none_never_calls(oai_url, fresh):
    for seed in range(8):
        r = client(oai_url("strong", seed, fresh())).chat.completions.create(model="m", messages=Q, tools=TOOLS, tool_choice="none")
        assert not r.choices[0].message.tool_calls


def test_parallel_tool_calls_plain_and_streamed(oai_url, fresh, policies):
    class Parallel:
        name = "parallel-test"

        def matches(self, req):
            return req.last_user == "both please"

        def respond(self, req, ctx):
            return SimReply(tool_calls=(SimToolCall("web_search", {"query": "a", "k": 1, "lang": "en"}), SimToolCall("calculator", {"expr": "1+1"})))

    policies(Parallel())
    msgs = [{"role": "user", "content": "both please"}]
    r = client(oai_url("strong", 1, fresh())).chat.completions.create(model="m", messages=msgs, tools=TOOLS)
    assert [t.function.name for t in r.choices[0].message.tool_calls] == ["web_search", "calculator"]
    assert r.system_fingerprint == "maestro-sim/strong/parallel-test"
    ids = [t.id for t in r.choices[0].message.tool_calls]
    assert len(set(ids)) == 2 and all(ids)
    stream = client(oai_url("strong", 1, fresh())).chat.completions.create(model="m", messages=msgs, tools=TOOLS, stream=True)
    calls: dict[int, dict] = {}
    for ch in stream:
        for tc in ch.choices[0].delta.tool_calls or [] if ch.choices else []:
            slot = calls.setdefault(tc.index, {"id": None, "name": None, "args": ""})
            slot["id"] = tc.id or slot["id"]
            slot["name"] = (tc.function.name if tc.function else None) or slot["name"]
            slot["args"] += (tc.function.arguments or "") if tc.function else ""
    assert [calls[i]["name"] for i in sorted(calls)] == ["web_search", "calculator"]
    assert [calls[i]["id"] for i in sorted(calls)] == ids
    assert json.loads(calls[1]["args"]) == {"expr": "1+1"}


def test_n_choices(oai_url, fresh):
    r = client(oai_url("oracle", 21, fresh())).chat.completions.create(model="m", messages=Q, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    texts = [c.message.content for c in r.choices]
    assert len(set(texts)) > 1  # each choice has its own draw
    assert r.usage.completion_tokens == sum(count_tokens(t) + EOS for t in texts)


def test_json_schema_structured_output(oai_url, fresh):
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "sources": {"type": "array", "items": {"$ref": "#/$defs/Source"}, "minItems": 1},
            "verdict": {"enum": ["yes", "no"]},
            "final": {"type": "boolean"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["answer", "confidence", "sources", "verdict", "final", "note"],
        "additionalProperties": False,
        "$defs": {"Source": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}, "rank": {"type": "integer"}}, "required": ["url", "rank"]}},
    }
    for seed in range(5):
        r = client(oai_url("confabulating", seed, fresh())).chat.completions.create(
            model="m", messages=Q, response_format={"type": "json_schema", "json_schema": {"name": "Out", "schema": schema, "strict": True}}
        )
        jsonschema.validate(json.loads(r.choices[0].message.content), schema)
    r = client(oai_url("abstaining", 1, fresh())).chat.completions.create(model="m", messages=Q, response_format={"type": "json_object"})
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_max_tokens_truncates(oai_url, fresh):
    c = client(oai_url("oracle", 2, fresh()))
    full = client(oai_url("oracle", 2, fresh())).chat.completions.create(model="m", messages=Q, max_tokens=10_000)
    r = c.chat.completions.create(model="m", messages=Q, max_tokens=10_000 - 9_995)
    assert r.choices[0].finish_reason == "length"
    # The end-of-sequence token counts against the budget: usage is exactly max_tokens.
    assert r.usage.completion_tokens == count_tokens(r.choices[0].message.content) + EOS == 5
    assert count_tokens(full.choices[0].message.content) > 5
    r2 = client(oai_url("oracle", 2, fresh())).chat.completions.create(model="m", messages=Q, max_completion_tokens=3)
    assert r2.choices[0].finish_reason == "length" and r2.usage.completion_tokens == 3


def test_embeddings(oai_url, fresh):
    c = client(oai_url("strong", 1, fresh()))
    e = c.embeddings.create(model="emb", input=["the cat sat", "the cat sat", "quantum chromodynamics"])  # client asks for base64
    v = [d.embedding for d in e.data]
    assert len(v[0]) == 64 and v[0] == pytest.approx(v[1])
    assert e.usage.prompt_tokens == 3 + 3 + 2
    e2 = c.embeddings.create(model="emb", input="a cat sat", encoding_format="float", dimensions=16)
    assert len(e2.data[0].embedding) == 16
    assert sum(x * x for x in v[0]) == pytest.approx(1.0, abs=1e-4)


def test_models_list(oai_url):
    ids = [m.id for m in client(oai_url()).models.list()]
    assert "strong" in ids and "flaky" in ids
