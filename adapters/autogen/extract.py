"""Pure extractors from autogen-agentchat / autogen-core objects to schema values.

No state, no telemetry: each function takes framework objects (agents, teams, model
clients, LLM messages, chat messages, events, ``CreateResult``) and returns plain values,
so each is unit-tested on its own (``tests/adapters/autogen/test_extract.py``). Objects are
read by attribute (duck typing) wherever the framework's types allow, so a user's own
agent or client class that follows the protocols works too.
"""

from __future__ import annotations

import json
import traceback
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
    "manager_speaks",
    "output_queue",
    "is_chat_message",
    "model_client_of",
    "openai_resources",
    "response_model",
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
    "error_message",
    "error_line",
    "error_traceback",
    "exception_attributes",
]

START, END = "__start__", "__end__"
"""Pseudo-agents of the run's input and output (same names as the LangGraph adapter)."""

# Group-chat manager classes that write their own chat messages into the conversation (task
# ledger, instructions, final answer), which makes them participants of the message graph.
_SPEAKING_MANAGERS = ("MagenticOneOrchestrator",)

_REMOTE_TRACEBACK = "\nTraceback:\n"
"""What agentchat puts between an agent's error and its traceback when a team re-raises it
(``RuntimeError("<Type>: <message>\\nTraceback:\\n<remote traceback>")``)."""

ERROR_TEXT_LIMIT = 500
"""Characters of a one-line error text (span status, outcome reason)."""
TRACEBACK_LIMIT = 4000
"""Characters of the traceback kept on a span's ``exception`` event (its end: the failing frames)."""

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


def manager_speaks(team: Any) -> bool:
    """True when the team's group-chat manager speaks in the conversation itself
    (MagenticOne's orchestrator writes the task ledger, each instruction and the final
    answer), so it is a participant of the message graph like any agent; a selector that only
    picks speakers is not."""
    manager_cls = getattr(team, "_base_group_chat_manager_class", None)
    return isinstance(manager_cls, type) and any(c.__name__ in _SPEAKING_MANAGERS for c in manager_cls.__mro__)


def output_queue(team: Any) -> Any | None:
    """The team's output message queue (``_output_message_queue``): every message of the run
    passes through its ``put``, the manager's own ones at the moment it writes them."""
    queue = getattr(team, "_output_message_queue", None)
    return queue if hasattr(queue, "put") else None


def is_chat_message(item: Any) -> bool:
    """True for a chat message (``BaseChatMessage``: what agents hand each other), False
    for events (tool calls, speaker selections, streaming chunks) and termination signals."""
    return "BaseChatMessage" in _class_names(item)


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


def openai_resources(client: Any) -> list[tuple[Any, str]]:
    """``(resource, method)`` of the openai SDK calls an OpenAI-style client makes
    (``chat.completions.create``, ``beta.chat.completions.parse``): their replies name the
    response model, which the client's ``CreateResult`` drops. [] for other clients."""
    sdk = getattr(client, "_client", None)
    if sdk is None or "BaseOpenAIChatCompletionClient" not in _class_names(client):
        return []
    out = []
    for path, method in ((("chat", "completions"), "create"), (("beta", "chat", "completions"), "parse")):
        resource = sdk
        for attr in path:
            resource = getattr(resource, attr, None)
        if callable(getattr(resource, method, None)):
            out.append((resource, method))
    return out


def response_model(reply: Any) -> str | None:
    """The model a provider's reply (``ChatCompletion`` or a stream chunk) says answered."""
    model = getattr(reply, "model", None)
    return model if isinstance(model, str) and model else None


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


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def error_message(error: BaseException, limit: int = ERROR_TEXT_LIMIT) -> str:
    """The error's message on one line: the remote traceback agentchat appends to a team's
    error cut off, the remaining lines joined with ``"; "``, at most ``limit`` characters."""
    head = str(error).split(_REMOTE_TRACEBACK, 1)[0]
    return _bounded("; ".join(line.strip() for line in head.splitlines() if line.strip()), limit)


def error_line(error: BaseException, limit: int = ERROR_TEXT_LIMIT) -> str:
    """A span's error description: ``"<Type>: <one-line message>"``, at most ``limit`` characters."""
    message = error_message(error, limit)
    return _bounded(f"{type(error).__name__}: {message}" if message else type(error).__name__, limit)


def error_traceback(error: BaseException, limit: int = TRACEBACK_LIMIT) -> str:
    """The traceback kept beside the one-line text: the remote one agentchat carried in the
    message when there is one, else the error's own; its last ``limit`` characters."""
    _, sep, remote = str(error).partition(_REMOTE_TRACEBACK)
    text = remote if sep else "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return text if len(text) <= limit else "\u2026" + text[len(text) - limit + 1:]


def exception_attributes(error: BaseException) -> dict[str, str]:
    """Attributes of a span's ``exception`` event (OTel conventions): type, one-line
    message, bounded stack trace."""
    return {"exception.type": type(error).__name__, "exception.message": error_message(error),
            "exception.stacktrace": error_traceback(error)}
