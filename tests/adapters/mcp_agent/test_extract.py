"""The mcp-agent adapter's pure extractors, against hand-written expectations."""

from __future__ import annotations

import json
from types import SimpleNamespace

from mcp.types import CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest, TextContent
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from maestro.adapters.mcp_agent import extract


def _completion(usage=True, content="Sunny.", tool_calls=None, finish="stop"):
    data = {"id": "c1", "object": "chat.completion", "created": 0, "model": "sim-strong-2026",
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, "tool_calls": tool_calls}}]}
    if usage:
        data["usage"] = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    return ChatCompletion.model_validate(data)


def test_agent_name_prefers_the_objects_name():
    assert extract.agent_name(SimpleNamespace(name="orchestrator", agent=SimpleNamespace(name="x"))) == "orchestrator"
    assert extract.agent_name(SimpleNamespace(name=None, agent=SimpleNamespace(name="writer"))) == "writer"
    assert extract.agent_name(SimpleNamespace()) == "SimpleNamespace"
    uid = "0b1e3c0a-5d7e-4c1a-9f00-1234567890ab"
    # mcp-agent's made-up names differ per run: the agent's name, else the class name
    assert extract.agent_name(SimpleNamespace(name=f"EvaluatorOptimizerLLM-{uid}",
                                              agent=SimpleNamespace(name="drafter"))) == "drafter"
    assert extract.agent_name(SimpleNamespace(name=f"Orchestrator-{uid}",
                                              agent=SimpleNamespace(name=f"Orchestrator-{uid}"))) == "Orchestrator"


def test_payload_text_and_size():
    class Plan(BaseModel):
        steps: list[str]
        is_complete: bool = False

    assert extract.payload_text("héllo") == "héllo" and extract.payload_size("héllo") == 6
    assert extract.payload_text(Plan(steps=["a"])) == '{"steps":["a"],"is_complete":false}'
    assert extract.payload_text([{"role": "user", "content": "hi"}]) == '[{"role":"user","content":"hi"}]'
    assert extract.payload_size(None) == 0


def test_usage_finish_reasons_and_response_model():
    c = _completion()
    assert extract.usage_of(c) == (12, 3, 15)
    assert extract.finish_reasons(c) == ["stop"] and extract.response_model(c) == "sim-strong-2026"
    assert extract.usage_of(_completion(usage=False)) is None


def test_estimate_counts_messages_tools_and_the_reply():
    payload = {"messages": [{"role": "user", "content": "Weather in Oslo?"}],
               "tools": [{"type": "function", "function": {"name": "w"}}]}
    i, o, t = extract.estimate_usage(payload, _completion(usage=False))
    # "user" + "Weather in Oslo?" (4 tokens) + 2 framing + the tool schema's tokens; "Sunny." is 2 + end token
    from maestro.tokens import count_tokens

    assert i == 1 + 4 + 2 + count_tokens(json.dumps(payload["tools"], sort_keys=True)) and o == 3 and t == i + o


def test_jsonrpc_sizes_are_the_stdio_lines():
    request = ClientRequest(CallToolRequest(method="tools/call",
                                            params=CallToolRequestParams(name="search", arguments={"q": "x"})))
    line = '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}\n'
    assert extract.jsonrpc_request_size(request, 3) == len(line)
    result = CallToolResult(content=[TextContent(type="text", text="é")])
    line = '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"é"}],"isError":false}}\n'
    assert extract.jsonrpc_response_size(result, 3) == len(line.encode("utf-8"))


def test_tool_helpers():
    err = CallToolResult(isError=True, content=[TextContent(type="text", text="refused: x\nmore")])
    assert extract.tool_error_text(err) == "refused: x"
    assert extract.tool_error_text(CallToolResult(isError=True, content=[])) == "tool reported an error"
    req = CallToolRequest(method="tools/call", params=CallToolRequestParams(name="files_write", arguments={"a": 1}))
    assert extract.tool_arguments(req) == ("files_write", {"a": 1})
    assert extract.server_name_of(SimpleNamespace(server_config=SimpleNamespace(name="files"))) == "files"
    assert extract.server_name_of(object()) is None
