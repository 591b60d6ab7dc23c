"""Lifecycle of the mcp-agent adapter: which methods are hooked, when spans open and close.

mcp-agent builds its model objects while a run is under way: the Orchestrator attaches a
fresh ``AugmentedLLM`` to an agent for every plan step (``Agent.attach_llm(llm_factory)``),
creates its planner and synthesizer through its ``llm_factory`` and an
``EvaluatorOptimizerLLM`` builds its evaluator the same way. Wrapping the objects a user
hands over would miss all of them, so the adapter hooks *classes*, once per process, and
the hooks record only where a run has bound its ``Recorder`` into the current context
(``contextvars``): everywhere else they call straight through. Bound by:

* ``instrument(mcp_app, run)``: the app's ``run()`` (an instance attribute, undone by
  ``uninstrument``) binds the recorder while the ``async with app.run():`` block runs;
* ``instrument(llm, run)``: the object's ``generate`` / ``generate_str`` /
  ``generate_structured`` bind it for each call.

The hooks:

* ``generate``, ``generate_str``, ``generate_structured`` of ``AugmentedLLM`` and every
  subclass that defines them (``OpenAIAugmentedLLM``, ``Orchestrator``,
  ``EvaluatorOptimizerLLM``, ``ParallelLLM``, routers, your own, also one defined after
  ``instrument``: new subclasses are hooked as Python creates them): one ``invoke_agent
  <name>`` span per call, named after the object's ``name`` (the name the Orchestrator
  plans with; see ``extract.agent_name`` for unnamed ones). A call inside a turn of the same
  object or of an object with the same name (``generate_str`` calling ``generate``; an
  unnamed ``EvaluatorOptimizerLLM``, which goes by its optimizer's name) is part of that
  turn, not a new one. A turn
  opened inside another turn is that turn's child, and the two are joined by hand-overs:
  ``caller -> callee`` with the bytes of the message the callee was given and ``callee ->
  caller`` with the bytes of what it returned; the outermost turn is called by
  ``__start__`` and returns to ``__end__``. So an Orchestrator's plan reads ``orchestrator
  -> planner -> orchestrator -> data_collector -> ...``, and an evaluator-optimizer loop
  ``data_collector -> collector -> data_collector -> evaluator -> data_collector -> ...``.
  Parallel subtasks (``executor.execute_many``) run in their own asyncio tasks, each with
  its copy of the context, so their turns never mix.
* ``OpenAICompletionTasks.request_completion_task`` (every OpenAI chat completion of
  ``OpenAIAugmentedLLM``, structured output included): one ``chat <model>`` CLIENT span
  under the current turn, with the HTTP body bytes of the call (the collector's HTTP
  ledger, bound for the call), tokens from ``usage`` (estimated and flagged when absent),
  finish reasons and the response model.
* ``AugmentedLLM.call_tool`` (a model's tool call, from ``execute_tool_call``): one
  ``execute_tool <tool>`` span under the current turn with the model's call id.
* ``mcp``'s ``BaseSession.send_request`` (a ``ClientSession``'s) for ``tools/call``: fills the open tool span with the
  MCP server's configured name (``mcp.server``), the server-side tool name (``mcp.tool``,
  also ``gen_ai.tool.name``: the name without mcp-agent's ``<server>_`` prefix) and the
  bytes of the JSON-RPC request and response lines as the stdio transport carries them. A
  ``tools/call`` made outside a model's tool call (``agent.call_tool(...)`` in your code)
  gets a tool span of its own, so every call a server receives has exactly one span.

mcp-agent's own OpenTelemetry spans are not used (see docs/adapters.md); leave its
``otel`` setting off (its default) or its spans go to its own tracer provider beside ours.

Nothing here raises into the user's agents: bookkeeping errors are logged and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.adapters.mcp_agent import extract
from maestro.collector.http import HttpLedger, bind_ledger, current_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

__all__ = ["Recorder", "install_hooks", "bound", "current_recorder", "GENERATE_METHODS"]

log = logging.getLogger(__name__)

_guarded = common.guarded("maestro mcp-agent adapter:", log)

GENERATE_METHODS = ("generate", "generate_str", "generate_structured")
"""The ``AugmentedLLM`` entry points whose calls are agent turns."""

_HOOKED = "__maestro_mcp_agent_hook__"

_RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("maestro_mcp_agent_recorder", default=None)
_TURN: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("maestro_mcp_agent_turn", default=None)
_TOOL: contextvars.ContextVar[_ToolCall | None] = contextvars.ContextVar("maestro_mcp_agent_tool", default=None)


@dataclass
class _Turn:
    """One open agent turn."""

    llm: Any
    name: str
    handle: SpanHandle
    parent: _Turn | None
    llm_calls: int = 0
    mcp_calls: int = 0


@dataclass
class _LlmCall:
    handle: SpanHandle
    ledger: HttpLedger
    previous_ledger: HttpLedger | None
    payload: dict
    turn: _Turn | None


@dataclass
class _ToolCall:
    handle: SpanHandle
    turn: _Turn | None
    namespaced: str
    arguments: dict
    server: str | None = None
    tool: str | None = None
    request_bytes: int | None = None
    response_bytes: int | None = None
    sent: bool = False


def current_recorder() -> Recorder | None:
    """The recorder bound to the current context (None outside an instrumented run)."""
    return _RECORDER.get()


@contextlib.contextmanager
def bound(recorder: Recorder):
    """Bind ``recorder`` to the current context for the block (nested bindings of the same
    recorder are fine; the previous binding comes back at the end)."""
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


class Recorder:
    """Span bookkeeping of one instrumented mcp-agent app (or workflow) within one run.

    Args:
        telemetry: the run's telemetry.
        provider: ``gen_ai.provider.name`` for LLM spans (None: ``openai``, unless the
            endpoint names itself, as the simulated service does).
        capture_content: write prompts, replies and tool arguments/results (the exporter
            still redacts them); None follows the telemetry's policy.
    """

    def __init__(self, telemetry: RunTelemetry, provider: str | None = None, capture_content: bool | None = None):
        self.t = telemetry
        self.provider = provider or None
        self.capture = telemetry.content.capture if capture_content is None else bool(capture_content)
        self.mcp_calls = 0
        """MCP tool calls recorded in the run (the run root's ``gen_ai.mcp.call.count``)."""
        self.llm_calls = 0

    # -- turns ---------------------------------------------------------------------------
    @_guarded
    def open_turn(self, llm: Any, current: _Turn | None, message: Any) -> _Turn | None:
        """Open the turn of ``llm`` called with ``message`` inside ``current`` (None: a
        continuation of ``current``, no new turn)."""
        name = extract.agent_name(llm)
        if current is not None and (current.llm is llm or current.name == name):
            return None
        parent = current.handle if current is not None else None
        handle = self.t.start_span(f"invoke_agent {name}", common.agent_attributes(name), parent)
        source = current.name if current is not None else extract.START
        attrs = {"message": extract.payload_text(message)} if self.capture else None
        self.t.record_message(source, name, extract.payload_size(message), parent=parent, at_ns=handle.start_ns,
                              attributes=attrs)
        return _Turn(llm, name, handle, current)

    def _close_turn(self, turn: _Turn) -> dict[str, Any]:
        if turn.parent is not None:
            turn.parent.llm_calls += turn.llm_calls
            turn.parent.mcp_calls += turn.mcp_calls
        return {sc.GEN_AI_LLM_CALL_COUNT: turn.llm_calls, sc.GEN_AI_MCP_CALL_COUNT: turn.mcp_calls}

    @_guarded
    def end_turn(self, turn: _Turn, result: Any) -> None:
        """The turn returned ``result``: it hands it back to its caller (``__end__`` for the
        outermost turn) and its span ends."""
        target = turn.parent.name if turn.parent is not None else extract.END
        parent = turn.parent.handle if turn.parent is not None else None
        attrs = {"message": extract.payload_text(result)} if self.capture else None
        self.t.record_message(turn.name, target, extract.payload_size(result), parent=parent, attributes=attrs)
        self.t.end_span(turn.handle, self._close_turn(turn))
        self._root_counts()

    @_guarded
    def fail_turn(self, turn: _Turn, error: BaseException) -> None:
        """The turn raised: its span fails, and it hands nothing back."""
        category = sc.AgentFailureCategory.TIMEOUT if isinstance(error, (asyncio.CancelledError, TimeoutError)) \
            else sc.AgentFailureCategory.SYSTEM
        common.end_failed(self.t, turn.handle, error, category, self._close_turn(turn))
        self._root_counts()

    def _root_counts(self) -> None:
        self.t.add_root_attributes({sc.GEN_AI_LLM_CALL_COUNT: self.llm_calls, sc.GEN_AI_MCP_CALL_COUNT: self.mcp_calls})

    # -- model calls ---------------------------------------------------------------------
    @_guarded
    def start_llm(self, request: Any) -> _LlmCall | None:
        """A chat completion request of mcp-agent's OpenAI task is about to be sent."""
        payload = dict(getattr(request, "payload", None) or {})
        model = str(payload.get("model") or getattr(request, "model", None) or "unknown")
        turn = _TURN.get()
        attrs = common.llm_attributes(model, self.provider or "openai", turn.name if turn else None)
        if self.capture:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = extract.messages_for_capture(payload.get("messages"))
        previous = current_ledger()
        handle, ledger = common.start_llm_span(self.t, model, attrs, turn.handle if turn else None)
        return _LlmCall(handle, ledger, previous, payload, turn)

    @_guarded
    def end_llm(self, call: _LlmCall, response: Any) -> None:
        bind_ledger(call.previous_ledger)
        attrs = common.llm_end_attributes(
            call.ledger, extract.usage_of(response), lambda: extract.estimate_usage(call.payload, response),
            extract.finish_reasons(response), extract.response_model(response))
        if self.capture:
            choices = getattr(response, "choices", None) or ()
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = extract.payload_text([getattr(c, "message", None) for c in choices])
        self.t.end_span(call.handle, attrs)
        self._count_llm(call.turn)

    @_guarded
    def fail_llm(self, call: _LlmCall, error: BaseException) -> None:
        bind_ledger(call.previous_ledger)
        common.end_failed(self.t, call.handle, error, sc.AgentFailureCategory.UPSTREAM,
                          common.ledger_attributes(call.ledger))
        self._count_llm(call.turn)

    def _count_llm(self, turn: _Turn | None) -> None:
        self.llm_calls += 1
        if turn is not None:
            turn.llm_calls += 1

    # -- tool calls ----------------------------------------------------------------------
    @_guarded
    def start_tool(self, name: str, arguments: dict, call_id: str | None) -> _ToolCall | None:
        """A tool call (namespaced ``name`` as the model or caller named it) starts."""
        turn = _TURN.get()
        nbytes = extract.payload_size(arguments)
        attrs = common.tool_attributes(name, call_id or f"mcp-{uuid.uuid4().hex[:12]}", nbytes,
                                       turn.name if turn else None)
        attrs[sc.COMMUNICATION_IS_IN_PROCESS_CALL] = False  # an MCP server is another process
        if self.capture:
            attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = extract.payload_text(arguments)
        handle = self.t.start_span(f"execute_tool {name}", attrs, turn.handle if turn else None)
        return _ToolCall(handle, turn, name, arguments)

    @_guarded
    def note_request(self, call: _ToolCall, session: Any, request: Any, request_id: int) -> None:
        """The tool call's ``tools/call`` is being sent on ``session`` under ``request_id``."""
        call.sent = True
        call.server = extract.server_name_of(session)
        call.tool, _ = extract.tool_arguments(getattr(request, "root", request))
        call.request_bytes = extract.jsonrpc_request_size(request, request_id)

    @_guarded
    def note_response(self, call: _ToolCall, result: Any, request_id: int) -> None:
        call.response_bytes = extract.jsonrpc_response_size(result, request_id)

    @_guarded
    def end_tool(self, call: _ToolCall, result: Any = None, error: BaseException | None = None) -> None:
        """The tool call ended with ``result`` (an ``isError`` result fails the span) or raised ``error``."""
        h = call.handle
        tool = call.tool or call.namespaced
        h.name = f"execute_tool {tool}"
        attrs: dict[str, Any] = {sc.GEN_AI_TOOL_NAME: tool}
        if call.server:
            attrs[sc.MCP_SERVER] = call.server
            attrs[sc.MCP_TOOL] = tool
        if call.request_bytes is not None:
            h.attributes[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES] = call.request_bytes
        out = call.response_bytes if call.response_bytes is not None else \
            (extract.tool_result_size(result) if result is not None else 0)
        attrs.update(common.tool_end_attributes(h, out))
        if self.capture and result is not None:
            attrs[sc.GEN_AI_TOOL_CALL_RESULT] = extract.payload_text(getattr(result, "content", None))
        if call.sent:
            self.mcp_calls += 1
            if call.turn is not None:
                call.turn.mcp_calls += 1
        if error is not None:
            common.end_failed(self.t, h, error, sc.AgentFailureCategory.SYSTEM, attrs)
        elif getattr(result, "isError", False):
            reason = extract.tool_error_text(result)
            attrs.update(common.failure_attributes(sc.AgentFailureCategory.SYSTEM, "tool returned an error"))
            self.t.end_span(h, attrs, error=reason)
        else:
            self.t.end_span(h, attrs)


# -- the class hooks ---------------------------------------------------------------------
def _message_of(args: tuple, kwargs: dict) -> Any:
    return kwargs["message"] if "message" in kwargs else (args[0] if args else None)


def _turn_hook(original):
    @functools.wraps(original)
    async def hooked(self, *args, **kwargs):
        rec = _RECORDER.get()
        if rec is None:
            return await original(self, *args, **kwargs)
        turn = rec.open_turn(self, _TURN.get(), _message_of(args, kwargs))
        if turn is None:
            return await original(self, *args, **kwargs)
        token = _TURN.set(turn)
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as e:
            rec.fail_turn(turn, e)
            raise
        finally:
            _TURN.reset(token)
        rec.end_turn(turn, result)
        return result

    setattr(hooked, _HOOKED, original)
    return hooked


def _completion_hook(original):
    @functools.wraps(original)
    async def hooked(request, *args, **kwargs):
        rec = _RECORDER.get()
        call = rec.start_llm(request) if rec is not None else None
        if call is None:
            return await original(request, *args, **kwargs)
        try:
            response = await original(request, *args, **kwargs)
        except BaseException as e:
            rec.fail_llm(call, e)  # type: ignore[union-attr]
            raise
        rec.end_llm(call, response)  # type: ignore[union-attr]
        return response

    setattr(hooked, _HOOKED, original)
    return hooked


def _call_tool_hook(original):
    @functools.wraps(original)
    async def hooked(self, request, *args, **kwargs):
        rec = _RECORDER.get()
        call = None
        if rec is not None:
            name, arguments = extract.tool_arguments(request)
            call_id = kwargs.get("tool_call_id", args[0] if args else None)
            call = rec.start_tool(name, arguments, call_id)
        if call is None:
            return await original(self, request, *args, **kwargs)
        token = _TOOL.set(call)
        try:
            result = await original(self, request, *args, **kwargs)
        except BaseException as e:
            rec.end_tool(call, error=e)  # type: ignore[union-attr]
            raise
        finally:
            _TOOL.reset(token)
        rec.end_tool(call, result)  # type: ignore[union-attr]
        return result

    setattr(hooked, _HOOKED, original)
    return hooked


def _send_request_hook(original):
    @functools.wraps(original)
    async def hooked(self, request, *args, **kwargs):
        rec = _RECORDER.get()
        root = getattr(request, "root", request)
        if rec is None or getattr(root, "method", None) != "tools/call":
            return await original(self, request, *args, **kwargs)
        call, own = _TOOL.get(), False
        if call is None or call.sent:  # a tools/call made outside a model's tool call: its own span
            name, arguments = extract.tool_arguments(root)
            call, own = rec.start_tool(name, arguments, None), True
            if call is None:
                return await original(self, request, *args, **kwargs)
        # ``ClientSession.send_request`` takes this id before its first await.
        request_id = getattr(self, "_request_id", 0)
        rec.note_request(call, self, request, request_id)
        try:
            result = await original(self, request, *args, **kwargs)
        except BaseException as e:
            if own:
                rec.end_tool(call, error=e)
            raise
        rec.note_response(call, result, request_id)
        if own:
            rec.end_tool(call, result)
        return result

    setattr(hooked, _HOOKED, original)
    return hooked


def _hook(cls: type, name: str, make) -> None:
    # Only a method the class itself defines, and only once (subclasses reach their
    # parents' hooked methods through the MRO or super()).
    fn = cls.__dict__.get(name)
    if fn is None:
        return
    static = isinstance(fn, staticmethod)
    func = fn.__func__ if static else fn
    if getattr(func, _HOOKED, None) is not None or not asyncio.iscoroutinefunction(func):
        return
    hooked = make(func)
    setattr(cls, name, staticmethod(hooked) if static else hooked)


def _subclasses(cls: type) -> list[type]:
    seen, todo = [], [cls]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.append(c)
            todo.extend(c.__subclasses__())
    return seen


def _hook_generate(cls: type) -> None:
    for name in GENERATE_METHODS:
        _hook(cls, name, _turn_hook)


def _hook_future_subclasses(base: type) -> None:
    # A subclass defined later (a user's workflow class, even one defined inside a run) is
    # hooked when Python creates it: ``base.__init_subclass__`` runs for every new subclass.
    if getattr(base, "_maestro_subclass_hook", False):
        return
    own = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if own is not None:
            own.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]  # base is a class
        try:
            _hook_generate(cls)
        except Exception:  # instrumentation must never break a class definition
            log.exception("maestro mcp-agent adapter: hooking %s failed", cls.__name__)

    base.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    base._maestro_subclass_hook = True  # type: ignore[attr-defined]


def install_hooks() -> None:
    """Hook mcp-agent's classes (idempotent). Inert wherever no recorder is bound."""
    from mcp.shared.session import BaseSession
    from mcp_agent.workflows.llm.augmented_llm import AugmentedLLM

    for cls in _subclasses(AugmentedLLM):
        _hook_generate(cls)
    _hook_future_subclasses(AugmentedLLM)
    _hook(AugmentedLLM, "call_tool", _call_tool_hook)
    _hook(BaseSession, "send_request", _send_request_hook)  # ClientSession inherits it
    try:
        from mcp_agent.workflows.llm.augmented_llm_openai import OpenAICompletionTasks
    except ImportError:  # pragma: no cover - the openai extra of mcp-agent is installed with it
        return
    _hook(OpenAICompletionTasks, "request_completion_task", _completion_hook)
