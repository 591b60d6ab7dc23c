from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from maestro.adapters.langgraph import extract
from maestro.tokens import count_message_tokens


@pytest.mark.parametrize(
    "metadata, tags, expected",
    [
        pytest.param({"langgraph_node": "grade", "langgraph_step": 2}, ["graph:step:2"], True, id="node"),
        pytest.param({"langgraph_node": "grade", "langgraph_step": 2}, ["seq:step:1"], False, id="routing-function"),
        pytest.param({}, ["graph:step:1"], False, id="no-metadata"),
        pytest.param(None, None, False, id="nothing"),
    ],
)
def test_is_graph_node(metadata, tags, expected):
    assert extract.is_graph_node(metadata, tags) is expected


@pytest.mark.parametrize(
    "container, node, path",
    [
        pytest.param(None, "agent", "agent", id="top-level"),
        pytest.param("agent", "tools", "agent/tools", id="subgraph"),
        pytest.param("team/agent", "tools", "team/agent/tools", id="nested-subgraph"),
    ],
)
def test_node_path(container, node, path):
    assert extract.node_path(container, node) == path


@pytest.mark.parametrize(
    "metadata, attrs",
    [
        pytest.param({"maestro.batch.index": 2}, {"maestro.batch.index": 2}, id="batch-input"),
        pytest.param({"maestro.batch.index": 0}, {"maestro.batch.index": 0}, id="first-input"),
        pytest.param({"langgraph_node": "a"}, {}, id="not-a-batch"),
        pytest.param(None, {}, id="nothing"),
    ],
)
def test_batch_attributes(metadata, attrs):
    assert extract.batch_attributes(metadata) == attrs


def _result(usage=None, llm_output=None, text="hi there", finish="stop", model="m-1", tool_calls=()):
    msg = NS(usage_metadata=usage, content=text, response_metadata={"finish_reason": finish, "model_name": model},
             tool_calls=list(tool_calls))
    return NS(generations=[[NS(message=msg, generation_info={})]], llm_output=llm_output)


@pytest.mark.parametrize(
    "result, expected",
    [
        pytest.param(_result({"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}), (10, 3, 13), id="usage-metadata"),
        pytest.param(_result(None, {"token_usage": {"prompt_tokens": 7, "completion_tokens": 2}}), (7, 2, 9), id="llm-output"),
        pytest.param(_result({"input_tokens": 0, "output_tokens": 0}), None, id="zero-is-missing"),
        pytest.param(_result(None, None), None, id="absent"),
    ],
)
def test_usage_of(result, expected):
    assert extract.usage_of(result) == expected


def test_estimate_usage_by_maestro_rule():
    msgs = [[NS(type="system", content="Be brief."), NS(type="human", content="What is 2+2?")]]
    # system: 1 + 3 + 2 ; human: 1 + 6 + 2 ; output "Four ." + end of sequence -> 3
    assert extract.estimate_usage(msgs, _result(text="Four.")) == (15, 3, 18)


def test_estimate_usage_counts_the_declared_tools():
    msgs = [[NS(type="human", content="hi")]]
    tools = [{"name": "lookup", "description": "Look up.", "parameters": {"type": "object", "properties": {}}}]
    assert extract.estimate_usage(msgs, _result(text="ok"), tools)[0] == count_message_tokens([("human", "hi")], tools)
    assert extract.estimate_usage(msgs, _result(text="ok"), tools)[0] > extract.estimate_usage(msgs, _result(text="ok"))[0]


@pytest.mark.parametrize(
    "tools, schemas",
    [
        pytest.param([{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}],
                     [{"name": "f", "description": "d", "parameters": {"type": "object"}}], id="openai"),
        pytest.param([{"name": "f", "input_schema": {"type": "object"}}],
                     [{"name": "f", "description": "", "parameters": {"type": "object"}}], id="anthropic"),
        pytest.param([{"type": "function", "function": {"name": "f"}}],
                     [{"name": "f", "description": "", "parameters": {"type": "object", "properties": {}}}],
                     id="no-parameters"),
        pytest.param([{"type": "web_search_preview"}], [], id="provider-built-in"),
        pytest.param(None, [], id="no-tools"),
    ],
)
def test_tool_schemas(tools, schemas):
    assert extract.tool_schemas({"invocation_params": {"tools": tools}}) == schemas


def test_exception_attributes_are_one_line_each():
    def node():
        raise ValueError("bad state\nsecond line")

    with pytest.raises(ValueError) as info:
        node()
    attrs = extract.exception_attributes(info.value)
    assert attrs["exception.type"] == "ValueError" and attrs["exception.message"] == "bad state"
    assert attrs["exception.stacktrace"].startswith("test_extract.py:") and attrs["exception.stacktrace"].endswith(" in node")
    assert extract.exception_attributes(RuntimeError()) == {"exception.type": "RuntimeError", "exception.message": ""}


def test_model_provider_finish_and_response_model():
    assert extract.model_name(None, {"invocation_params": {"model": "gpt-x"}}, None) == "gpt-x"
    assert extract.model_name(None, {}, {"ls_model_name": "ls-m"}) == "ls-m"
    assert extract.model_name({"kwargs": {"model_name": "ser-m"}}, {}, None) == "ser-m"
    assert extract.provider_name({"ls_provider": "openai"}) == "openai"
    assert extract.provider_name({"ls_provider": "google_genai"}) == "gcp.gemini"
    assert extract.provider_name({"ls_provider": "openai"}, "maestro.sim") == "maestro.sim"
    assert extract.finish_reasons(_result(finish="length")) == ["length"]
    assert extract.response_model(_result(model="m-2")) == "m-2"


@pytest.mark.parametrize(
    "obj, size",
    [
        pytest.param({"a": 1}, len(b'{"a":1}'), id="dict"),
        pytest.param({"q": "é"}, len('{"q":"é"}'.encode()), id="utf8-bytes-not-chars"),
        pytest.param(NS(page_content="doc", metadata={}), len(b'{"page_content":"doc","metadata":{}}'), id="document"),
        pytest.param([1, (2, 3)], len(b"[1,[2,3]]"), id="nested-sequences"),
    ],
)
def test_serialised_size(obj, size):
    assert extract.serialised_size(obj) == size
