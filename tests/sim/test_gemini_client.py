"""The Gemini REST endpoint through the real google-genai client."""

from __future__ import annotations

import json

import jsonschema
import openai
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from maestro.tokens import END_OF_SEQUENCE_TOKENS as EOS
from maestro.tokens import count_message_tokens, count_tokens

PROMPT = "Who founded the Acme Corporation in Paris?"


def gclient(url: str) -> genai.Client:
    return genai.Client(api_key="x", http_options=types.HttpOptions(base_url=url))


@pytest.mark.parametrize("slash", ["", "/"])
def test_generate_content(gem_url, fresh, slash):
    c = gclient(gem_url("oracle", 3, fresh()) + slash)  # keep a reference: a dropped Client closes its HTTP client
    r = c.models.generate_content(
        model="gemini-2.5-flash", contents=PROMPT, config=types.GenerateContentConfig(system_instruction="Be brief.")
    )
    assert r.text
    assert r.model_version == "gemini-2.5-flash"
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    um = r.usage_metadata
    assert um.prompt_token_count == count_message_tokens([("system", "Be brief."), ("user", PROMPT)])
    assert um.candidates_token_count == count_tokens(r.text) + EOS
    assert um.total_token_count == um.prompt_token_count + um.candidates_token_count


def test_stream_matches_plain(gem_url, fresh):
    c1, c2 = gclient(gem_url("verbose", 8, fresh())), gclient(gem_url("verbose", 8, fresh()))
    plain = c1.models.generate_content(model="g", contents=PROMPT)
    chunks = list(c2.models.generate_content_stream(model="g", contents=PROMPT))
    assert len(chunks) > 1
    assert "".join(c.text or "" for c in chunks) == plain.text
    last = chunks[-1].usage_metadata
    assert last.candidates_token_count == plain.usage_metadata.candidates_token_count
    assert last.prompt_token_count == plain.usage_metadata.prompt_token_count


def weather(city: str, days: int) -> str:
    """Get the weather forecast."""
    return "sunny"


def test_function_call_round_trip_and_model_side_tools(gem_url, fresh):
    c = gclient(gem_url("strong", 5, fresh()))
    cfg = types.GenerateContentConfig(
        tools=[weather, types.Tool(google_search=types.GoogleSearch())],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY", allowed_function_names=["weather"])),
    )
    r = c.models.generate_content(model="g", contents="Weather in Oslo?", config=cfg)
    (fc,) = r.function_calls
    assert fc.name == "weather" and set(fc.args) == {"city", "days"} and fc.id
    assert r.usage_metadata.candidates_token_count == count_tokens(json.dumps(fc.args)) + EOS
    history = [
        types.Content(role="user", parts=[types.Part(text="Weather in Oslo?")]),
        r.candidates[0].content,
        types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(name="weather", id=fc.id, response={"result": "sunny"}))]),
    ]
    cfg2 = types.GenerateContentConfig(tools=[weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    r2 = c.models.generate_content(model="g", contents=history, config=cfg2)
    assert not r2.function_calls


def test_streamed_function_call(gem_url, fresh):
    c = gclient(gem_url("strong", 5, fresh()))
    cfg = types.GenerateContentConfig(
        tools=[weather],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
    )
    chunks = list(c.models.generate_content_stream(model="g", contents="Weather in Oslo?", config=cfg))
    calls = [fc for ch in chunks for fc in (ch.function_calls or [])]
    assert [fc.name for fc in calls] == ["weather"] and calls[0].args["city"] == "Oslo"
    assert chunks[-1].usage_metadata.candidates_token_count == count_tokens(json.dumps(calls[0].args)) + EOS


def test_automatic_function_calling_terminates(gem_url, fresh):
    # google-genai runs the python function itself and calls again: the fallback must stop.
    c = gclient(gem_url("strong", 6, fresh()))
    r = c.models.generate_content(
        model="g", contents="Weather in Oslo?", config=types.GenerateContentConfig(tools=[weather])
    )
    assert r.candidates[0].finish_reason == types.FinishReason.STOP


def test_response_schema_and_candidates(gem_url, fresh):
    class Ans(BaseModel):
        answer: str
        score: int
        tags: list[str]

    c = gclient(gem_url("strong", 7, fresh()))
    for kw in ({"response_schema": Ans}, {"response_json_schema": Ans.model_json_schema()}):
        r = c.models.generate_content(model="g", contents=PROMPT, config=types.GenerateContentConfig(response_mime_type="application/json", **kw))
        assert isinstance(r.parsed, Ans) if "response_schema" in kw else jsonschema.validate(json.loads(r.text), Ans.model_json_schema()) is None
    r = c.models.generate_content(model="g", contents=PROMPT, config=types.GenerateContentConfig(candidate_count=2, max_output_tokens=4))
    assert len(r.candidates) == 2
    assert all(cd.finish_reason == types.FinishReason.MAX_TOKENS for cd in r.candidates)
    assert r.usage_metadata.candidates_token_count == sum(count_tokens(cd.content.parts[0].text) + EOS for cd in r.candidates) == 8


def test_vertex_express_and_project_paths(sim, gem_url, fresh):
    import urllib.request

    base = gem_url("oracle", 1, fresh())
    c = genai.Client(vertexai=True, api_key="x", http_options=types.HttpOptions(base_url=base))
    r = c.models.generate_content(model="g", contents="hi")
    assert r.text
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()
    url = f"{base}/v1beta1/projects/p/locations/us-central1/publishers/google/models/g:generateContent"
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})) as resp:
        assert resp.headers["X-Maestro-Simulated"] == "true"
        assert json.load(resp)["candidates"][0]["content"]["parts"][0]["text"]


def test_usage_and_reply_equal_across_protocols(oai_url, gem_url, fresh):
    system, user = "You are a careful researcher.", "Which river flows through Vienna, and how long is it?"
    o = openai.OpenAI(base_url=oai_url("strong", 42, fresh()), api_key="x").chat.completions.create(
        model="same", messages=[{"role": "system", "content": system}, {"role": "user", "content": user}]
    )
    c = gclient(gem_url("strong", 42, fresh()))
    g = c.models.generate_content(
        model="same", contents=user, config=types.GenerateContentConfig(system_instruction=system)
    )
    assert (g.text or "") == (o.choices[0].message.content or "")
    assert g.usage_metadata.prompt_token_count == o.usage.prompt_tokens
    assert (g.usage_metadata.candidates_token_count or 0) == o.usage.completion_tokens


def test_unknown_profile_gemini(gem_url):
    with pytest.raises(errors.ClientError) as ei:
        c = gclient(gem_url("no-such-profile", 1))
        c.models.generate_content(model="g", contents="hi")
    assert ei.value.code == 404 and "no-such-profile" in str(ei.value) and "strong" in str(ei.value)
