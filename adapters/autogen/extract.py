"""Pure extractors from autogen-agentchat / autogen-core objects to schema values.

No state, no telemetry: each function takes framework objects (agents, teams, model
clients, LLM messages, chat messages, events, ``CreateResult``) and returns plain values,
so each is unit-tested on its own (``tests/adapters/autogen/test_extract.py``). Objects are
read by attribute (duck typing) wherever the framework's types allow, so a user's own
agent or client class that follows the protocols works too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from maestro.tokens import END_OF_SEQUENCE_TOKENS, count_message_tokens, count_tokens

__all__ = [
    "START",
    "END",
    "is_team",
    "participants_of",
    "agent_name",
    "manager_name",
    "model_client_of",
    "request_model",
    "provider_of",
    "wants_stream_usage",
    "usage_of",
    "llm_message_pairs",
    "result_text",
    "estimate_usage",
    "finish_reasons",
    "message_size",
    "task_size",
    "task_payload",
    "message_payload",
    "tool_calls_of",
    "tool_results_of",
    "is_response",
    "response_message",
    "inner_messages",
    "messages_for_capture",
]

START, END = "__start__", "__end__"
"""Pseudo-agents of the run's input and output (same names as the LangGraph adapter)."""

# Model client class name -> gen_ai.provider.name (OTel GenAI well-known values).
_PROVIDERS = (
    ("AzureOpenAIChatCompletionClient", "azure.ai.openai"),
    ("AzureAIChatCompletionClient", "azure.ai.inference"),
    ("OpenAIChatCompletionClient", "openai"),
    ("AnthropicBedrockChatCompletionClient", "aws.bedrock"),
    ("AnthropicChatCompletionClient", "anthropic"),
    ("OllamaChatCompletionClient", "ollama"),
    ("LlamaCppChatCompletionClient", "llama_cpp"),
    ("SKChatCompletionAdapter", "semantic_kernel"),
    ("ReplayChatCompletionClient", "autogen.replay"),
)


def _class_names(obj: Any) -> list[str]:
    return [c.__name__ for c in type(obj).__mro__]


def is_team(obj: Any) -> bool:
    """True for an agentchat team (a group chat): it has participants and runs a stream.

    Checked by shape rather than class so teams of other packages built on
    ``BaseGroupChat`` are recognised.
    """
    return isinstance(getattr(obj, "_participants", None), (list, tuple)) and hasattr(obj, "run_stream")


def participants_of(team: Any) -> list[Any]:
    """The team's participants (agents or nested teams), in declaration order."""
    return list(getattr(team, "_participants", None) or [])


def agent_name(agent: Any) -> str:
    """The agent's ``name`` (agentchat requires unique names within a team)."""
    name = getattr(agent, "name", None)
    return str(name) if name else type(agent).__name__


def manager_name(team: Any) -> str:
    """Name of a team's group-chat manager (the selector / orchestrator), used as the
    ``gen_ai.agent.name`` of the manager's own model calls."""
    return str(getattr(team, "_group_chat_manager_name", None) or f"{agent_name(team)}.manager")


def model_client_of(obj: Any) -> Any | None:
    """The ``ChatCompletionClient`` an agent or team holds (``_model_client``), if any.

    AssistantAgent, SocietyOfMindAgent, SelectorGroupChat and MagenticOneGroupChat all keep
    their client there; RoundRobinGroupChat and Swarm hold none.
    """
    client = getattr(obj, "_model_client", None)
    if client is None or not (hasattr(client, "create") and hasattr(client, "create_stream")):
        return None
    return client


def request_model(client: Any) -> str:
    """Model name the client sends: ``create_args['model']`` for OpenAI-style clients,
    else a ``model``/``_model`` attribute, else the model family, else ``unknown``."""
    create_args = getattr(client, "_create_args", None)
    if isinstance(create_args, Mapping) and create_args.get("model"):
        return str(create_args["model"])
    for attr in ("model", "_model", "model_name"):
        value = getattr(client, attr, None)
        if isinstance(value, str) and value:
            return value
    try:
        family = client.model_info.get("family")
    except Exception:  # model_info may raise for clients without one
        family = None
    return str(family) if family else "unknown"


def provider_of(client: Any, default: str | None = None) -> str | None:
    """``gen_ai.provider.name``: ``default`` when given (the runner knows the backend),
    else inferred from the client class."""
    if default:
        return default
    names = _class_names(client)
    for cls_name, provider in _PROVIDERS:
        if cls_name in names:
            return provider
    return None


def wants_stream_usage(client: Any, kwargs: Mapping[str, Any]) -> bool:
    """True when a streamed call should be sent with ``include_usage=True``.

    OpenAI-style clients stream without usage unless asked (and then report 0/0). Ask
    only when nobody decided already: the caller passed no ``include_usage`` and neither
    the call's ``extra_create_args`` nor the client's own create args set
    ``stream_options`` (passing both with different values makes the client raise).
    """
    if "include_usage" in kwargs:
        return False
    if not any(n in ("BaseOpenAIChatCompletionClient",) for n in _class_names(client)):
        return False
    extra = kwargs.get("extra_create_args") or {}
    if "stream_options" in extra:
        return False
    create_args = getattr(client, "_create_args", None) or {}
    return "stream_options" not in create_args


def usage_of(result: Any) -> tuple[int, int, int] | None:
    """(input, output, total) tokens the provider reported, or None when it reported
    none: AutoGen fills ``RequestUsage(0, 0)`` when a stream carried no usage."""
    usage = getattr(result, "usage", None)
    if usage is None:
        return None
    i = int(getattr(usage, "prompt_tokens", 0) or 0)
    o = int(getattr(usage, "completion_tokens", 0) or 0)
    if i == 0 and o == 0:
        return None
    return i, o, i + o


_ROLES = {
    "SystemMessage": "system",
    "UserMessage": "user",
    "AssistantMessage": "assistant",
    "FunctionExecutionResultMessage": "tool",
}


def _text(content: Any) -> str:
    """Text of an LLM message's content: strings joined, function calls as
    ``name(arguments)``, tool results as their content, images as ``[image]``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        parts = []
        for c in content:
            if isinstance(c, str):
                parts.append(c)
            elif hasattr(c, "arguments") and hasattr(c, "name"):  # FunctionCall
                parts.append(f"{c.name}({c.arguments})")
            elif hasattr(c, "call_id") and hasattr(c, "content"):  # FunctionExecutionResult
                parts.append(str(c.content))
            else:
                parts.append("[image]")
        return "\n".join(parts)
    return str(content)


def llm_message_pairs(messages: Sequence[Any] | None) -> list[tuple[str, str]]:
    """``(role, text)`` of each ``LLMMessage`` sent to a model."""
    pairs = []
    for m in messages or ():
        role = _ROLES.get(str(getattr(m, "type", "")), None) or _ROLES.get(type(m).__name__, "user")
        pairs.append((role, _text(getattr(m, "content", m))))
    return pairs


def result_text(result: Any) -> str:
    """Text of a ``CreateResult``: its content (function calls as JSON arguments) and
    any reasoning ``thought``."""
    if result is None:
        return ""
    content = getattr(result, "content", "")
    if isinstance(content, (list, tuple)):
        text = "\n".join(str(getattr(c, "arguments", c)) for c in content)
    else:
        text = str(content or "")
    thought = getattr(result, "thought", None)
    return f"{thought}\n{text}" if thought else text


def _tool_schemas(tools: Sequence[Any] | None) -> list[Mapping[str, Any]]:
    out = []
    for t in tools or ():
        schema = getattr(t, "schema", t)
        if isinstance(schema, Mapping):
            out.append(schema)
    return out


def estimate_usage(messages: Sequence[Any] | None, result: Any, tools: Sequence[Any] | None = None) -> tuple[int, int, int]:
    """Tokens by maestro's rule (``maestro.tokens``) when the provider reported none:
    input from the request's messages (and tool declarations), output from the result
    plus the end-of-sequence token."""
    i = count_message_tokens(llm_message_pairs(messages), _tool_schemas(tools))
    o = count_tokens(result_text(result)) + END_OF_SEQUENCE_TOKENS
    return i, o, i + o


def finish_reasons(result: Any) -> list[str]:
    """``[finish_reason]`` of a ``CreateResult`` ([] when absent)."""
    reason = getattr(result, "finish_reason", None)
    return [str(reason)] if reason else []


def _dump(msg: Any) -> Any:
    dump = getattr(msg, "dump", None) or getattr(msg, "model_dump", None)
    if dump is not None:
        try:
            return dump()
        except Exception:
            pass
    return str(msg)


def message_payload(msg: Any) -> str:
    """A chat message serialised as compact JSON (``BaseChatMessage.dump()``): what one
    agent hands to another, byte for byte what ``message_size`` counts."""
    return json.dumps(_dump(msg), default=str, separators=(",", ":"), ensure_ascii=False)


def message_size(msg: Any) -> int:
    """Bytes of a chat message serialised as compact UTF-8 JSON (0 for None)."""
    if msg is None:
        return 0
    return len(message_payload(msg).encode())


def task_payload(task: Any) -> str:
    """The run's input as JSON: a string task as the ``TextMessage`` agentchat makes of
    it (source ``user``), a message as its dump, a list as a JSON list of dumps."""
    if task is None:
        return "[]"
    if isinstance(task, str):
        return json.dumps({"source": "user", "content": task, "type": "TextMessage"}, separators=(",", ":"),
                          ensure_ascii=False)
    if isinstance(task, (list, tuple)):
        return "[" + ",".join(message_payload(m) for m in task) + "]"
    return message_payload(task)


def task_size(task: Any) -> int:
    """Bytes of ``task_payload(task)`` (0 for no task)."""
    return 0 if task is None else len(task_payload(task).encode())


def is_response(item: Any) -> bool:
    """True for the ``Response`` that ends an agent's ``on_messages_stream``."""
    return type(item).__name__ == "Response" and hasattr(item, "chat_message")


def response_message(item: Any) -> Any:
    """The chat message of a ``Response`` (what the agent hands on)."""
    return getattr(item, "chat_message", None)


def inner_messages(item: Any) -> list[Any]:
    """The inner events of a ``Response`` (tool requests/results, thoughts, ...)."""
    return list(getattr(item, "inner_messages", None) or [])


def tool_calls_of(event: Any) -> list[tuple[str, str, int]]:
    """``(call id, tool name, argument bytes)`` of each call in a ``ToolCallRequestEvent``
    ([] for any other item)."""
    if type(event).__name__ != "ToolCallRequestEvent":
        return []
    out = []
    for call in getattr(event, "content", None) or ():
        args = str(getattr(call, "arguments", "") or "")
        out.append((str(getattr(call, "id", "") or ""), str(getattr(call, "name", "") or "tool"), len(args.encode())))
    return out


def tool_results_of(event: Any) -> list[tuple[str, str, bool, int]]:
    """``(call id, tool name, is_error, result bytes)`` of each result in a
    ``ToolCallExecutionEvent`` ([] for any other item)."""
    if type(event).__name__ != "ToolCallExecutionEvent":
        return []
    out = []
    for res in getattr(event, "content", None) or ():
        content = str(getattr(res, "content", "") or "")
        out.append((str(getattr(res, "call_id", "") or ""), str(getattr(res, "name", "") or "tool"),
                    bool(getattr(res, "is_error", False)), len(content.encode())))
    return out


def messages_for_capture(messages: Sequence[Any] | None) -> str:
    """LLM request messages as GenAI-convention JSON (only built with content capture on)."""
    return json.dumps([{"role": r, "content": c} for r, c in llm_message_pairs(messages)], ensure_ascii=False)
