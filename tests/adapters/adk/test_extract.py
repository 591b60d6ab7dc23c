"""Pure extractors of the ADK adapter, on hand-built google-genai / ADK objects."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest
from google.adk.events import Event, EventActions
from google.adk.models import Gemini, LlmRequest, LlmResponse
from google.genai import types

from maestro.adapters.adk import extract
from maestro.tokens import count_message_tokens, count_tokens

U = types.GenerateContentResponseUsageMetadata


def _content(*parts, role="model"):
    return types.Content(role=role, parts=list(parts))


def _call(name="lookup", args=None, id_="c1"):
    return types.Part(function_call=types.FunctionCall(name=name, args=args or {}, id=id_))


@pytest.mark.parametrize(
    "usage, expected",
    [
        pytest.param(U(prompt_token_count=10, candidates_token_count=3, total_token_count=13), (10, 3, 13), id="plain"),
        pytest.param(U(prompt_token_count=10, candidates_token_count=3, thoughts_token_count=5), (10, 8, 18), id="thoughts-are-output"),
        pytest.param(U(prompt_token_count=4, candidates_token_count=1, tool_use_prompt_token_count=2), (6, 1, 7), id="tool-use-prompt"),
        pytest.param(U(prompt_token_count=0, candidates_token_count=0), None, id="zero-is-missing"),
        pytest.param(U(), None, id="empty-object"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_usage_of(usage, expected):
    assert extract.usage_of(usage) == expected


class _CustomLlm:
    """Stands in for a user's BaseLlm subclass that declares its provider."""

    provider_name = "acme.llm"
    model = "acme-1"


class LiteLlm:  # same class name as ADK's LiteLLM wrapper, module differs
    def __init__(self, model):
        self.model = model


@pytest.mark.parametrize(
    "model, model_string, override, env, expected",
    [
        pytest.param(Gemini(model="sim-strong"), "sim-strong", "maestro.sim", {}, "maestro.sim", id="override-wins"),
        pytest.param(Gemini(model="sim-strong"), "sim-strong", "", {}, "gcp.gemini", id="gemini-class"),
        pytest.param(Gemini(model="g"), "g", None, {"GOOGLE_GENAI_USE_VERTEXAI": "true"}, "gcp.vertex_ai", id="gemini-vertex"),
        pytest.param(_CustomLlm(), "acme-1", None, {}, "acme.llm", id="custom-declares-provider"),
        pytest.param(LiteLlm("openai/gpt-4o-mini"), None, None, {}, "openai", id="litellm-prefix"),
        pytest.param(object(), "x", None, {}, "unknown", id="unknown-class"),
        pytest.param("gemini-2.5-flash", "gemini-2.5-flash", None, {}, "unknown", id="bare-string-is-not-guessed"),
    ],
)
def test_provider_name(monkeypatch, model, model_string, override, env, expected):
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert extract.provider_name(model, model_string, override) == expected


@pytest.mark.parametrize(
    "content, expected",
    [
        pytest.param(_content(types.Part(text="héllo")), 6, id="utf8-text"),
        pytest.param(_content(_call("f", {"a": 1})), len(json.dumps({"args": {"a": 1}, "name": "f"}).encode()), id="function-call"),
        pytest.param(_content(types.Part(function_response=types.FunctionResponse(name="f", response={"ok": True}))),
                     len(json.dumps({"name": "f", "response": {"ok": True}}).encode()), id="function-response"),
        pytest.param(_content(types.Part(text="hidden", thought=True), types.Part(text="ab")), 2, id="thoughts-excluded"),
        pytest.param(None, 0, id="none"),
    ],
)
def test_content_bytes(content, expected):
    assert extract.content_bytes(content) == expected


@pytest.mark.parametrize(
    "event, target",
    [
        pytest.param(Event(author="coord", actions=EventActions(transfer_to_agent="writer")), "writer", id="transfer"),
        pytest.param(Event(author="coord"), None, id="no-transfer"),
        pytest.param(NS(actions=None), None, id="no-actions"),
    ],
)
def test_transfer_target(event, target):
    assert extract.transfer_target(event) == target


@pytest.mark.parametrize(
    "event, expected",
    [
        pytest.param(Event(author="a", content=_content(types.Part(text="hi"))), True, id="text"),
        pytest.param(Event(author="a", content=_content(_call())), True, id="call"),
        pytest.param(Event(author="a", content=_content(types.Part(text="h")), partial=True), False, id="partial"),
        pytest.param(Event(author="a", content=_content(types.Part(
            function_response=types.FunctionResponse(name="f", response={})))), False, id="tool-output-only"),
        pytest.param(Event(author="a"), False, id="no-content"),
    ],
)
def test_is_output_event(event, expected):
    assert extract.is_output_event(event) is expected


def _request(tools=True):
    cfg = types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=64)
    if tools:
        cfg.tools = [types.Tool(function_declarations=[types.FunctionDeclaration(name="lookup", description="Find.")])]
    return LlmRequest(model="sim-strong", config=cfg, contents=[
        _content(types.Part(text="Where is Acme?"), role="user"),
        _content(_call("lookup", {"q": "Acme"})),
        _content(types.Part(function_response=types.FunctionResponse(name="lookup", response={"city": "Paris"})), role="user"),
    ])


def test_estimate_usage_follows_maestro_token_rule():
    req = _request()
    reply = _content(types.Part(text="In Paris."), _call("lookup", {"q": "x"}))
    i, o, total = extract.estimate_usage(req, reply)
    decls = [{"description": "Find.", "name": "lookup"}]
    expected_in = count_message_tokens(
        [("system", "Be brief."), ("user", "Where is Acme?"), ("assistant", '{"q": "Acme"}'), ("user", '{"city": "Paris"}')], decls)
    assert i == expected_in
    assert o == count_tokens("In Paris.") + 1 + count_tokens('{"q": "x"}')
    assert total == i + o and i > 0 and o > 0


def test_estimate_usage_of_empty_reply_still_costs_the_eos_token():
    i, o, _ = extract.estimate_usage(_request(tools=False), None)
    assert o == 1 and i > 0


@pytest.mark.parametrize(
    "response, expected",
    [
        pytest.param(LlmResponse(finish_reason=types.FinishReason.STOP), ["stop"], id="stop"),
        pytest.param(LlmResponse(finish_reason=types.FinishReason.MAX_TOKENS), ["max_tokens"], id="max-tokens"),
        pytest.param(LlmResponse(), [], id="none"),
    ],
)
def test_finish_reasons(response, expected):
    assert extract.finish_reasons(response) == expected


@pytest.mark.parametrize(
    "request_, model, expected",
    [
        pytest.param(LlmRequest(model="m-req"), Gemini(model="m-obj"), "m-req", id="request-wins"),
        pytest.param(LlmRequest(), Gemini(model="m-obj"), "m-obj", id="model-object"),
        pytest.param(LlmRequest(), "m-str", "m-str", id="model-string"),
        pytest.param(LlmRequest(), None, "unknown", id="nothing"),
    ],
)
def test_model_name(request_, model, expected):
    assert extract.model_name(request_, model) == expected


def test_request_helpers():
    req = _request()
    assert extract.system_text(req) == "Be brief."
    assert extract.max_output_tokens(req) == 64
    msgs = json.loads(extract.messages_for_capture(req))
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"] and msgs[0]["content"] == "Where is Acme?"
    assert extract.function_calls(req.contents[1]) == [("lookup", {"q": "Acme"}, "c1")]
    assert extract.content_text(_content(types.Part(text="a"), types.Part(text="b"))) == "a\nb"


# -- google-genai calls no ADK callback sees ----------------------------------------------------
@pytest.mark.parametrize(
    "path, request_dict, expected",
    [
        pytest.param("publishers/google/models/imagen-3.0-generate-002:predict",
                     {"instances": [{"prompt": "a poster"}], "parameters": {"sampleCount": 1}},
                     ("generate_content", "imagen-3.0-generate-002"), id="vertex-image"),
        pytest.param("publishers/google/models/text-embedding-004:predict", {"instances": [{"content": "hi"}]},
                     ("embeddings", "text-embedding-004"), id="vertex-embeddings"),
        pytest.param("models/text-embedding-004:batchEmbedContents", {"requests": []},
                     ("embeddings", "text-embedding-004"), id="gemini-batch-embeddings"),
        pytest.param("models/text-embedding-004:embedContent", {}, ("embeddings", "text-embedding-004"),
                     id="gemini-embeddings"),
        pytest.param("models/gemini-2.5-flash:generateContent", {}, None, id="adk-sees-model-calls"),
        pytest.param("models/gemini-2.5-flash:countTokens", {}, None, id="not-a-model-call"),
        pytest.param("files", {}, None, id="no-method"),
    ],
)
def test_genai_call(path, request_dict, expected):
    assert extract.genai_call(path, request_dict) == expected


def test_genai_request_text_usage_and_estimate():
    batch = {"requests": [{"model": "m", "content": {"parts": [{"text": "tide"}]}},
                          {"model": "m", "content": {"parts": [{"text": "pools"}]}}]}
    assert extract.genai_request_text(batch) == "tide\npools"
    assert extract.genai_request_text({"instances": [{"prompt": "a poster"}], "parameters": {"n": 1}}) == "a poster"
    assert extract.genai_request_text({"instances": [{"content": "hi"}]}) == "hi"
    body = json.dumps({"predictions": [{"embeddings": {"values": [0.1], "statistics": {"token_count": 2.0}}},
                                       {"embeddings": {"values": [0.2], "statistics": {"token_count": 3}}}]})
    assert extract.genai_usage(body) == (5, 0, 5)
    assert extract.genai_usage(json.dumps({"predictions": [{"bytesBase64Encoded": "AA=="}]})) is None
    assert extract.genai_usage("{not json token_count") is None and extract.genai_usage(None) is None
    assert extract.estimate_genai_usage("tide pools") == (count_tokens("tide pools"), 0, count_tokens("tide pools"))
    assert extract.genai_provider(True) == "gcp.vertex_ai" and extract.genai_provider(False) == "gcp.gemini"
    assert extract.genai_provider(True, "maestro.sim") == "maestro.sim"
