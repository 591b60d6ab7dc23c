"""Unit tests of the AutoGen adapter's pure extractors, on real autogen objects."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import (
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)
from autogen_agentchat.teams import RoundRobinGroupChat, SelectorGroupChat
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.replay import ReplayChatCompletionClient

from maestro.adapters.autogen import extract

INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=False)


def _openai(**kw):
    return OpenAIChatCompletionClient(model="sim-x", base_url="http://127.0.0.1:9/v1", api_key="k", model_info=INFO, **kw)


def _result(content="Hello there.", prompt=0, completion=0, reason="stop", thought=None):
    return CreateResult(finish_reason=reason, content=content, usage=RequestUsage(prompt, completion), cached=False,
                        thought=thought)


# -- teams and agents ---------------------------------------------------------------------
def test_team_participants_names_and_clients():
    client = ReplayChatCompletionClient(["x"])
    a, b = AssistantAgent("a", model_client=client), AssistantAgent("b", model_client=client)
    rr = RoundRobinGroupChat([a, b])
    sel = SelectorGroupChat([a, b], model_client=client)
    assert extract.is_team(rr) and extract.is_team(sel) and not extract.is_team(a)
    assert [extract.agent_name(p) for p in extract.participants_of(rr)] == ["a", "b"]
    assert extract.model_client_of(a) is client and extract.model_client_of(sel) is client
    assert extract.model_client_of(rr) is None
    assert extract.manager_name(sel) == "SelectorGroupChatManager"
    assert extract.manager_name(NS(name="t")) == "t.manager"


@pytest.mark.parametrize(
    "client, expected",
    [
        pytest.param(_openai(), "sim-x", id="openai-create-args"),
        pytest.param(NS(model="m-attr", create=1, create_stream=1), "m-attr", id="model-attribute"),
        pytest.param(NS(model_info={"family": "fam"}), "fam", id="family"),
        pytest.param(NS(), "unknown", id="nothing"),
    ],
)
def test_request_model(client, expected):
    assert extract.request_model(client) == expected


@pytest.mark.parametrize(
    "client, default, expected",
    [
        pytest.param(_openai(), None, "openai", id="openai-class"),
        pytest.param(_openai(), "maestro.sim", "maestro.sim", id="runner-default-wins"),
        pytest.param(ReplayChatCompletionClient(["x"]), None, "autogen.replay", id="replay"),
        pytest.param(NS(), None, None, id="unknown-class"),
    ],
)
def test_provider_of(client, default, expected):
    assert extract.provider_of(client, default) == expected


@pytest.mark.parametrize(
    "client, kwargs, expected",
    [
        pytest.param(_openai(), {}, True, id="openai-unset"),
        pytest.param(_openai(), {"include_usage": False}, False, id="caller-decided"),
        pytest.param(_openai(), {"extra_create_args": {"stream_options": {"include_usage": False}}}, False,
                     id="call-stream-options"),
        pytest.param(_openai(stream_options={"include_usage": False}), {}, False, id="client-stream-options"),
        pytest.param(ReplayChatCompletionClient(["x"]), {}, False, id="not-openai"),
    ],
)
def test_wants_stream_usage(client, kwargs, expected):
    assert extract.wants_stream_usage(client, kwargs) is expected


# -- usage and estimation -------------------------------------------------------------------
@pytest.mark.parametrize(
    "result, expected",
    [
        pytest.param(_result(prompt=12, completion=5), (12, 5, 17), id="reported"),
        pytest.param(_result(prompt=0, completion=0), None, id="zero-means-unreported"),
        pytest.param(NS(usage=None), None, id="absent"),
    ],
)
def test_usage_of(result, expected):
    assert extract.usage_of(result) == expected


def test_llm_message_pairs_and_estimate_by_maestro_rule():
    msgs = [
        SystemMessage(content="Be brief."),
        UserMessage(content="What is 2+2?", source="user"),
        AssistantMessage(content=[FunctionCall(id="c1", name="add", arguments='{"a":2}')], source="bot"),
        FunctionExecutionResultMessage(content=[FunctionExecutionResult(call_id="c1", content="4", name="add")]),
    ]
    pairs = extract.llm_message_pairs(msgs)
    assert pairs == [("system", "Be brief."), ("user", "What is 2+2?"), ("assistant", 'add({"a":2})'), ("tool", "4")]
    # system 1+3+2=6; user 1+6+2=9; assistant 1+ (add ( { " a " : 2 } ) = 10) +2 = 13; tool 1+1+2 = 4 -> 32
    # output "Four ." = 2 tokens + 1 end-of-sequence token
    assert extract.estimate_usage(msgs, _result("Four.")) == (32, 3, 35)


def test_estimate_counts_tool_declarations_and_call_results():
    tool = NS(schema={"name": "f", "parameters": {"type": "object"}})
    with_tool = extract.estimate_usage([UserMessage(content="hi", source="u")], _result("x"), [tool])
    without = extract.estimate_usage([UserMessage(content="hi", source="u")], _result("x"))
    assert with_tool[0] > without[0] and with_tool[1] == without[1] == 2
    calls = _result([FunctionCall(id="1", name="f", arguments='{"q":"a b"}')], reason="function_calls")
    assert extract.result_text(calls) == '{"q":"a b"}'
    assert extract.result_text(_result("ok", thought="hmm")) == "hmm\nok"
    assert extract.finish_reasons(calls) == ["function_calls"] and extract.finish_reasons(NS()) == []


# -- messages, tools, handoffs ------------------------------------------------------------------
def test_message_size_is_the_compact_json_of_the_dump():
    msg = TextMessage(content="héllo", source="a")
    payload = extract.message_payload(msg)
    assert json.loads(payload)["content"] == "héllo"
    assert extract.message_size(msg) == len(payload.encode()) and extract.message_size(None) == 0


@pytest.mark.parametrize(
    "task, expected_len",
    [
        pytest.param("Plan it", len(b'{"source":"user","content":"Plan it","type":"TextMessage"}'), id="string"),
        pytest.param(None, 0, id="none"),
    ],
)
def test_task_size(task, expected_len):
    assert extract.task_size(task) == expected_len


def test_task_size_of_messages_sums_their_dumps_in_a_list():
    msgs = [TextMessage(content="a", source="u"), TextMessage(content="b", source="u")]
    assert extract.task_size(msgs) == len(("[" + ",".join(extract.message_payload(m) for m in msgs) + "]").encode())


def test_tool_calls_and_results_from_events():
    req = ToolCallRequestEvent(source="a", content=[FunctionCall(id="c1", name="get_weather", arguments='{"city":"Oslo"}'),
                                                    FunctionCall(id="c2", name="f", arguments="{}")])
    res = ToolCallExecutionEvent(source="a", content=[
        FunctionExecutionResult(call_id="c1", content="sunny", name="get_weather", is_error=False),
        FunctionExecutionResult(call_id="c2", content="boom", name="f", is_error=True)])
    assert extract.tool_calls_of(req) == [("c1", "get_weather", 15), ("c2", "f", 2)]
    assert extract.tool_results_of(res) == [("c1", "get_weather", False, 5), ("c2", "f", True, 4)]
    assert extract.tool_calls_of(res) == [] and extract.tool_results_of(req) == []


def test_response_helpers():
    inner = [ToolCallRequestEvent(source="a", content=[])]
    resp = Response(chat_message=TextMessage(source="a", content="done"), inner_messages=inner)
    assert extract.is_response(resp) and not extract.is_response(resp.chat_message)
    assert extract.response_message(resp).content == "done" and extract.inner_messages(resp) == inner


def test_messages_for_capture_is_genai_json():
    out = json.loads(extract.messages_for_capture([SystemMessage(content="s"), UserMessage(content="u", source="x")]))
    assert out == [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]


# -- speaking managers, SDK replies -------------------------------------------------------------
def test_only_magentic_ones_manager_speaks():
    from autogen_agentchat.teams import MagenticOneGroupChat

    client = _openai()
    a = AssistantAgent("a", model_client=client)
    m1 = MagenticOneGroupChat([a], model_client=client)
    assert extract.manager_speaks(m1) and extract.output_queue(m1) is m1._output_message_queue
    assert not extract.manager_speaks(SelectorGroupChat([a, AssistantAgent("b", model_client=client)],
                                                        model_client=client))
    assert not extract.manager_speaks(RoundRobinGroupChat([a])) and not extract.manager_speaks(a)
    assert extract.output_queue(a) is None


def test_chat_messages_are_told_from_events():
    assert extract.is_chat_message(TextMessage(content="x", source="a"))
    assert not extract.is_chat_message(ToolCallRequestEvent(source="a", content=[]))
    assert not extract.is_chat_message("text")


def test_openai_resources_and_response_model():
    client = _openai()
    resources = extract.openai_resources(client)
    assert [(r, m) for r, m in resources] == [(client._client.chat.completions, "create"),
                                             (client._client.beta.chat.completions, "parse")]
    assert extract.openai_resources(ReplayChatCompletionClient(["x"])) == []
    assert extract.response_model(NS(model="gpt-4o-2024-08-06")) == "gpt-4o-2024-08-06"
    assert extract.response_model(NS(model="")) is None and extract.response_model(_result()) is None


# -- errors ---------------------------------------------------------------------------------------
def _remote_error():
    """What agentchat raises when an agent fails inside a team."""
    remote = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n" * 100 + "RateLimitError: boom\n"
    return RuntimeError(f"RateLimitError: Error code: 429 - {{'error': 'slow down'}}\nTraceback:\n{remote}")


def test_error_text_is_one_bounded_line_without_the_remote_traceback():
    error = _remote_error()
    assert extract.error_message(error) == "RateLimitError: Error code: 429 - {'error': 'slow down'}"
    assert extract.error_line(error) == "RuntimeError: RateLimitError: Error code: 429 - {'error': 'slow down'}"
    assert extract.error_line(ValueError("two\n  lines")) == "ValueError: two; lines"
    assert extract.error_line(KeyError()) == "KeyError"
    long = extract.error_line(ValueError("x" * 2000))
    assert len(long) == extract.ERROR_TEXT_LIMIT and long.endswith("\u2026")


def test_the_traceback_goes_on_the_exception_event_bounded():
    error = _remote_error()
    stack = extract.error_traceback(error)
    assert len(stack) == extract.TRACEBACK_LIMIT and stack.startswith("\u2026")
    assert stack.endswith("RateLimitError: boom\n")  # the end, where the error is, is kept
    try:
        raise ValueError("local")
    except ValueError as e:
        local = e
    assert extract.error_traceback(local).startswith("Traceback (most recent call last)")
    attrs = extract.exception_attributes(error)
    assert attrs["exception.type"] == "RuntimeError" and attrs["exception.stacktrace"] == stack
    assert "\n" not in attrs["exception.message"]
