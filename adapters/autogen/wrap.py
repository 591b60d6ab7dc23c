"""Lifecycle of the AutoGen adapter: what is wrapped, when spans open and close.

``instrument(team_or_agent, telemetry)`` leaves the user's classes alone and changes
only the objects it is given, in place and reversibly (``InstrumentedAutoGen.uninstrument``):

* every agent (participants of the team, recursively through nested teams, or the lone
  agent) gets instance-level ``on_messages_stream`` / ``on_messages`` wrappers: one
  ``invoke_agent <name>`` span per turn, ``execute_tool`` spans from the turn's
  ``ToolCallRequestEvent`` / ``ToolCallExecutionEvent`` items (tool name, call id,
  argument/result bytes; an error result is an ERROR span), and the hand-over edge into
  the turn;
* every ``ChatCompletionClient`` an agent or team holds (``_model_client``: assistants,
  the SelectorGroupChat's selector, the MagenticOne orchestrator) is replaced by a
  delegating ``TracedChatCompletionClient`` bound to its owner's name: one ``chat <model>``
  span per ``create`` / ``create_stream`` with model, provider, tokens, finish reason,
  response model and the HTTP body bytes of the call (``maestro.collector.http`` ledger;
  the provider is the endpoint's when it names itself). Streams are sent with
  ``include_usage=True`` unless the user set stream options; a call whose provider
  reported no usage gets estimated tokens and ``maestro.usage.estimated=true``. The
  response model, which ``CreateResult`` drops, is read from the openai SDK's reply
  (``chat.completions.create`` / ``beta.chat.completions.parse`` of an OpenAI-style client
  are tapped in place);
* a team whose manager speaks (MagenticOne's orchestrator: task ledger, instructions, final
  answer) gets its output queue's ``put`` tapped: the manager is a participant, with an
  ``invoke_agent <manager>`` turn from its first model call or message after a hand-over
  until the next agent's turn (or the run's end), holding its model calls.

Message edges (``message <source> -> <target>``): agentchat broadcasts every reply to all
participants, so "who talked to whom" is defined as the hand-over of the turn: when an
agent starts a turn, an edge goes from the agent whose turn ended last (``__start__`` for
the run's first turn, carrying the task) to it, with the bytes of the message that
agent produced. This gives the next speaker in a RoundRobinGroupChat, the selected speaker
in a SelectorGroupChat, the handoff target in a Swarm (the next speaker is the
``HandoffMessage`` target), and ``__start__ -> agent`` for a lone agent. In MagenticOne the
orchestrator's turns sit between the agents' (``__start__ -> orchestrator -> agent ->
orchestrator -> ... -> __end__``), its edge carrying the messages it wrote in that turn
(ledger and instruction). When ``run``/``run_stream`` returns, the last speaker hands the
result to ``__end__``.

Errors: a failed span's status description and failure reason are one line (at most
``extract.ERROR_TEXT_LIMIT`` characters); the traceback goes on the span's ``exception``
event (``extract.TRACEBACK_LIMIT``). A team's error, which agentchat re-raises as a
``RuntimeError`` carrying the whole remote traceback in its message, leaves ``run`` as a
``RuntimeError`` with the one-line message (the original chained as its cause), and its
traceback goes on the run root's ``exception`` event.

One trace: every span is opened through the run's fast path with an explicit parent (the
agent's open turn, else the run root), never through the OTel context, so asyncio tasks
and AutoGen's runtime cannot split the tree. AutoGen's own runtime spans (``autogen
publish/process``, its ``invoke_agent``) go to the *global* tracer provider only; maestro
never installs the run's provider globally, so they stay out of the run's trace (they
would duplicate our agent spans and carry whole payloads in their ``message``
attribute). Our ``message`` spans carry a ``message`` payload attribute only when the
run captures content (then it is redacted on export).

Nothing here raises into the user's team: bookkeeping errors are logged and skipped.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from opentelemetry.sdk.trace import Event

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.adapters.autogen import extract
from maestro.collector.http import HttpLedger, bind_ledger, current_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

if TYPE_CHECKING:
    from autogen_core.models import ChatCompletionClient as _ClientBase
else:
    try:  # the base class keeps isinstance checks of agentchat happy
        from autogen_core.models import ChatCompletionClient as _ClientBase
    except ImportError:  # pragma: no cover - autogen is a dependency of this adapter
        _ClientBase = object

__all__ = ["Recorder", "TracedChatCompletionClient", "InstrumentedAutoGen", "instrument_object"]

log = logging.getLogger(__name__)

_HOOK_ATTR = "_maestro_autogen_hook"

# Payload attribute of message spans with content capture on: the name AutoGen's own spans
# use, which the exporter's content policy drops unless the run captures content.
_PAYLOAD_ATTRIBUTE = "message"


_guarded = common.guarded("maestro autogen adapter:", log)


@dataclass
class _Turn:
    """One open agent turn."""

    handle: SpanHandle
    """The turn's ``invoke_agent`` span."""
    name: str
    """Agent name."""
    items: int = 0
    """Stream items seen (0 at the end means no live events: use the Response's inner messages)."""
    tools: dict[str, SpanHandle] = field(default_factory=dict)
    """call id -> open ``execute_tool`` span."""
    manager: bool = False
    """A speaking manager's turn (ends when the next agent's turn starts)."""
    output_bytes: int = 0
    """A manager turn's messages so far, in bytes."""
    messages: list = field(default_factory=list)
    """A manager turn's messages (kept only with content capture)."""


@dataclass
class _LlmCall:
    handle: SpanHandle
    ledger: HttpLedger
    previous_ledger: HttpLedger | None
    messages: Any
    tools: Any
    previous_call: _LlmCall | None = None
    response_model: str | None = None
    """What the provider's reply says answered (set by the openai SDK tap)."""


_CURRENT_CALL: contextvars.ContextVar[_LlmCall | None] = contextvars.ContextVar("maestro_autogen_llm_call",
                                                                               default=None)
"""The model call in progress in this context: where the openai SDK tap notes the response model."""


class Recorder:
    """Span bookkeeping of one instrumented team or agent within one run.

    Args:
        telemetry: the run's telemetry.
        provider: ``gen_ai.provider.name`` for LLM spans (None: inferred per client).
        capture_content: write prompts, replies, tool arguments and message payloads
            (the exporter still redacts them); None follows the telemetry's policy.
    """

    def __init__(self, telemetry: RunTelemetry, provider: str | None = None, capture_content: bool | None = None):
        self.t = telemetry
        self.provider = provider or None
        self.capture = telemetry.content.capture if capture_content is None else bool(capture_content)
        self.turns: dict[str, _Turn] = {}
        """agent name -> its open turn (an agent speaks at most once at a time)."""
        self.managers: set[str] = set()
        """Names of the speaking group-chat managers (participants of the message graph)."""
        self.last: tuple[str, int, Any] | None = None
        """(agent, bytes, message) of the turn that ended last: the sender of the next edge."""
        self.task: Any = None
        self.task_bytes: int | None = None
        self._sizes: dict[str, int] = {}
        """message id -> serialised size: a reply is sized once, not again in every receiver's buffer."""

    def size(self, msg: Any) -> int:
        """``extract.message_size`` of a chat message, cached by the message's id."""
        key = getattr(msg, "id", None)
        if not isinstance(key, str):
            return extract.message_size(msg)
        n = self._sizes.get(key)
        if n is None:
            n = self._sizes[key] = extract.message_size(msg)
        return n

    # -- run -----------------------------------------------------------------------------
    @_guarded
    def begin_run(self, task: Any) -> None:
        """A ``run``/``run_stream`` call starts: the first turn's edge comes from ``__start__``."""
        self.last = None
        self.task = task
        self.task_bytes = extract.task_size(task)

    @_guarded
    def end_run(self, returned: bool = True, error: BaseException | None = None) -> None:
        """The run call ended: a manager's open turn ends (failed by ``error``, if the run
        raised); if it returned, the last speaker hands the result to ``__end__`` (a run that
        raised or was abandoned hands nothing over). ``error``'s traceback goes on the
        run root's ``exception`` event."""
        self._end_manager_turns(error)
        if error is not None:
            self._exception_event(self.t.root, error)
        if self.last is not None and returned:
            name, nbytes, msg = self.last
            self._edge(name, extract.END, nbytes, msg, None)
        self.last = None
        self.task = None
        self.task_bytes = None
        self._sizes.clear()

    @staticmethod
    def _exception_event(handle: SpanHandle | None, error: BaseException) -> None:
        if handle is not None and not handle.ended:
            handle.events.append(Event("exception", extract.exception_attributes(error)))

    def _fail(self, handle: SpanHandle, error: BaseException, category: sc.AgentFailureCategory,
              attrs: dict[str, Any] | None = None) -> None:
        """End ``handle`` as failed: one-line error text, failure category and the exception
        type as reason, the traceback on an ``exception`` event."""
        attrs = dict(attrs or {})
        attrs.update(common.failure_attributes(category, type(error).__name__))
        self._exception_event(handle, error)
        self.t.end_span(handle, attrs, error=extract.error_line(error))

    def _edge(self, source: str, target: str, nbytes: int, payload: Any, parent: SpanHandle | None,
              at_ns: int | None = None) -> None:
        attrs = None
        if self.capture and payload is not None:
            attrs = {_PAYLOAD_ATTRIBUTE: payload if isinstance(payload, str) else extract.message_payload(payload)}
        self.t.record_message(source, target, nbytes, parent=parent, at_ns=at_ns, attributes=attrs)

    # -- turns ---------------------------------------------------------------------------
    @_guarded
    def begin_turn(self, name: str, messages: Any) -> _Turn | None:
        self._end_manager_turns()  # the manager handed over to this agent
        return self._open_turn(name, sum(self.size(m) for m in messages or ()), messages)

    def _open_turn(self, name: str, input_bytes: int, messages: Any = None, manager: bool = False) -> _Turn:
        """Open ``name``'s turn and record the hand-over into it."""
        attrs = common.agent_attributes(name)
        attrs[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES] = input_bytes
        handle = self.t.start_span(f"invoke_agent {name}", attrs)
        turn = _Turn(handle, name, manager=manager)
        self.turns[name] = turn
        if self.last is not None:
            source, nbytes, payload = self.last
        else:  # first turn of the run (or an agent driven directly): the task comes in
            source = extract.START
            if self.task_bytes is not None:
                nbytes, payload = self.task_bytes, (extract.task_payload(self.task) if self.capture else None)
            else:
                nbytes = attrs[sc.COMMUNICATION_INPUT_MESSAGE_SIZE_BYTES]
                payload = ("[" + ",".join(extract.message_payload(m) for m in messages or ()) + "]") if self.capture else None
        self._edge(source, name, nbytes, payload, handle, at_ns=handle.start_ns)
        return turn

    def _manager_turn(self, name: str) -> _Turn:
        """The speaking manager's open turn, opened now if it has none (its first model
        call or message since it last handed over)."""
        turn = self.turns.get(name)
        if turn is None:
            received = self.last[1] if self.last is not None else (self.task_bytes or 0)
            turn = self._open_turn(name, received, manager=True)
        return turn

    @_guarded
    def manager_message(self, name: str, msg: Any) -> None:
        """A speaking manager wrote ``msg`` into the conversation (in its turn)."""
        turn = self._manager_turn(name)
        turn.output_bytes += self.size(msg)
        if self.capture:
            turn.messages.append(msg)

    def _end_manager_turns(self, error: BaseException | None = None) -> None:
        """End the speaking managers' open turns: the manager hands over what it wrote."""
        for turn in [t for t in self.turns.values() if t.manager]:
            del self.turns[turn.name]
            if error is not None:
                self._fail(turn.handle, error, sc.AgentFailureCategory.SYSTEM)
                continue
            self.t.end_span(turn.handle, {sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: turn.output_bytes})
            payload = None
            if self.capture:
                payload = ("[" + ",".join(extract.message_payload(m) for m in turn.messages) + "]"
                           if len(turn.messages) != 1 else turn.messages[0])
            self.last = (turn.name, turn.output_bytes, payload)

    @_guarded
    def on_item(self, turn: _Turn | None, item: Any) -> None:
        """One item of the agent's stream: tool requests open tool spans, results close them."""
        if turn is None:
            return
        turn.items += 1
        self._tool_events(turn, item)

    def _tool_events(self, turn: _Turn, item: Any) -> None:
        for call_id, name, nbytes in extract.tool_calls_of(item):
            attrs = common.tool_attributes(name, call_id, nbytes, turn.name)
            if self.capture:
                for call in getattr(item, "content", None) or ():
                    if str(getattr(call, "id", "")) == call_id:
                        attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = str(getattr(call, "arguments", ""))
            turn.tools[call_id] = self.t.start_span(f"execute_tool {name}", attrs, turn.handle)
        for call_id, _name, is_error, nbytes in extract.tool_results_of(item):
            handle = turn.tools.pop(call_id, None)
            if handle is None:
                continue
            attrs = common.tool_end_attributes(handle, nbytes)
            if self.capture:
                for res in getattr(item, "content", None) or ():
                    if str(getattr(res, "call_id", "")) == call_id:
                        attrs[sc.GEN_AI_TOOL_CALL_RESULT] = str(getattr(res, "content", ""))
            if is_error:
                attrs.update(common.failure_attributes(sc.AgentFailureCategory.SYSTEM, "tool returned an error"))
            self.t.end_span(handle, attrs, error="tool returned an error" if is_error else None)

    @_guarded
    def end_turn(self, turn: _Turn | None, response: Any = None, error: BaseException | None = None) -> None:
        if turn is None or turn.handle.ended:
            return
        if self.turns.get(turn.name) is turn:
            del self.turns[turn.name]
        if response is not None and turn.items == 0:
            # No live stream (a custom on_messages): tool spans from the inner messages.
            for inner in extract.inner_messages(response):
                self._tool_events(turn, inner)
        for handle in list(turn.tools.values()):  # a request whose result never came
            self.t.end_span(handle, error="tool call ended without a result")
        turn.tools.clear()
        if error is not None:
            self._fail(turn.handle, error, sc.AgentFailureCategory.SYSTEM)
            return
        msg = extract.response_message(response)
        nbytes = self.size(msg) if msg is not None else 0
        # A Swarm handoff needs no attribute of its own: the HandoffMessage's target speaks
        # next, so the next turn's edge (this agent -> target) records it.
        self.t.end_span(turn.handle, {sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: nbytes})
        self.last = (turn.name, nbytes, msg if self.capture else None)

    # -- model calls ---------------------------------------------------------------------
    @_guarded
    def llm_start(self, client: Any, owner: str, messages: Any, kwargs: dict) -> _LlmCall | None:
        model = extract.request_model(client)
        attrs = common.llm_attributes(model, extract.provider_of(client, self.provider), owner)
        if self.capture:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = extract.messages_for_capture(messages)
        turn = self._manager_turn(owner) if owner in self.managers else self.turns.get(owner)
        previous = current_ledger()
        handle, ledger = common.start_llm_span(self.t, model, attrs, turn.handle if turn else None)
        call = _LlmCall(handle, ledger, previous, messages, kwargs.get("tools"), _CURRENT_CALL.get())
        _CURRENT_CALL.set(call)
        return call

    @_guarded
    def llm_end(self, call: _LlmCall | None, result: Any = None, error: BaseException | None = None) -> None:
        if call is None or call.handle.ended:
            return
        bind_ledger(call.previous_ledger)
        _CURRENT_CALL.set(call.previous_call)
        if error is not None:
            self._fail(call.handle, error, sc.AgentFailureCategory.UPSTREAM, common.ledger_attributes(call.ledger))
            return
        attrs = common.llm_end_attributes(call.ledger, extract.usage_of(result),
                                          lambda: extract.estimate_usage(call.messages, result, call.tools),
                                          extract.finish_reasons(result), call.response_model)
        if self.capture:
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = extract.result_text(result)
        self.t.end_span(call.handle, attrs)


class TracedChatCompletionClient(_ClientBase):
    """A ``ChatCompletionClient`` that delegates to ``inner`` and records each call.

    ``owner`` is the agent (or group-chat manager) the client belongs to: its LLM spans
    carry that name and nest under the owner's open turn. Everything not part of the
    client protocol is forwarded to ``inner``.
    """

    def __init__(self, inner: Any, recorder: Recorder, owner: str):
        self._maestro_inner = inner
        self._maestro_recorder = recorder
        self._maestro_owner = owner

    # -- calls -------------------------------------------------------------------------
    async def create(self, messages, **kwargs):
        rec = self._maestro_recorder
        call = rec.llm_start(self._maestro_inner, self._maestro_owner, messages, kwargs)
        try:
            result = await self._maestro_inner.create(messages, **kwargs)
        except BaseException as e:
            rec.llm_end(call, error=e)
            raise
        rec.llm_end(call, result)
        return result

    def create_stream(self, messages, **kwargs):
        return self._stream(messages, kwargs)

    async def _stream(self, messages, kwargs):
        inner, rec = self._maestro_inner, self._maestro_recorder
        try:
            if extract.wants_stream_usage(inner, kwargs):
                kwargs = {**kwargs, "include_usage": True}
        except Exception:
            log.exception("maestro autogen adapter: stream usage check failed")
        call = rec.llm_start(inner, self._maestro_owner, messages, kwargs)
        result = None
        try:
            async for chunk in inner.create_stream(messages, **kwargs):
                if not isinstance(chunk, str):
                    result = chunk
                    rec.llm_end(call, result)  # the CreateResult is the stream's last item
                yield chunk
        except GeneratorExit:
            if result is None:
                rec.llm_end(call, error=RuntimeError("stream closed before its result"))
            raise
        except BaseException as e:
            rec.llm_end(call, error=e)
            raise
        if result is None:
            rec.llm_end(call, error=RuntimeError("stream ended without a result"))

    # -- the rest of the protocol: delegated ---------------------------------------------
    async def close(self) -> None:
        await self._maestro_inner.close()

    def actual_usage(self):
        return self._maestro_inner.actual_usage()

    def total_usage(self):
        return self._maestro_inner.total_usage()

    def count_tokens(self, messages, **kwargs) -> int:
        return self._maestro_inner.count_tokens(messages, **kwargs)

    def remaining_tokens(self, messages, **kwargs) -> int:
        return self._maestro_inner.remaining_tokens(messages, **kwargs)

    @property
    def capabilities(self):
        return self._maestro_inner.capabilities

    @property
    def model_info(self):
        return self._maestro_inner.model_info

    def dump_component(self):
        return self._maestro_inner.dump_component()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_maestro_"):
            raise AttributeError(name)
        return getattr(self._maestro_inner, name)


class _StreamTap:
    """An openai SDK stream that notes the response model of its first chunk into the
    model call that opened it; everything else is the stream's."""

    def __init__(self, stream: Any, call: _LlmCall):
        self._maestro_stream = stream
        self._maestro_call = call

    def __aiter__(self):
        return self

    async def __anext__(self):
        chunk = await self._maestro_stream.__anext__()
        if self._maestro_call.response_model is None:
            self._maestro_call.response_model = extract.response_model(chunk)
        return chunk

    async def __aenter__(self):
        await self._maestro_stream.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self._maestro_stream.__aexit__(*exc)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_maestro_"):
            raise AttributeError(name)
        return getattr(self._maestro_stream, name)


def _tap_openai(client: Any, undo: list) -> None:
    """Make the openai SDK calls of ``client`` report their reply's model to the model call
    in progress (instance attributes over the SDK resource's methods; undone on uninstrument)."""
    for resource, method in extract.openai_resources(client):
        if method in resource.__dict__:  # tapped already (clients may share one SDK client)
            continue
        original = getattr(resource, method)

        async def tapped(*args, _original=original, **kwargs):
            reply = await _original(*args, **kwargs)
            call = _CURRENT_CALL.get()
            if call is None:
                return reply
            model = extract.response_model(reply)
            if model is None and hasattr(reply, "__anext__"):  # a stream: the chunks say it
                return _StreamTap(reply, call)
            call.response_model = model
            return reply

        setattr(resource, method, tapped)
        undo.append(lambda r=resource, m=method: r.__dict__.pop(m, None))


@dataclass
class _AgentHook:
    """What instrumenting one agent (or a speaking manager's team) changed (to rebind to a
    new run, or undo)."""

    recorder: Recorder
    turn: _Turn | None = None
    """The turn opened by the outermost wrapper while it is running."""


def _wrap_client(obj: Any, recorder: Recorder, owner: str, undo: list) -> None:
    client = extract.model_client_of(obj)
    if client is None:
        return
    if isinstance(client, TracedChatCompletionClient):  # instrumented before: rebind
        client._maestro_recorder = recorder
        client._maestro_owner = owner
        return
    traced = TracedChatCompletionClient(client, recorder, owner)
    obj._model_client = traced
    undo.append(lambda o=obj, c=client: setattr(o, "_model_client", c))
    _tap_openai(client, undo)


def _patch_manager(team: Any, recorder: Recorder, undo: list) -> None:
    """Make a speaking manager a participant: its messages, as it writes them to the team's
    output queue, go to the recorder."""
    name = extract.manager_name(team)
    recorder.managers.add(name)
    queue = extract.output_queue(team)
    if queue is None:
        return
    hook = queue.__dict__.get(_HOOK_ATTR)
    if hook is not None:  # instrumented before: rebind only
        hook.recorder = recorder
        return
    hook = _AgentHook(recorder)
    original = queue.put

    async def put(item):
        if extract.is_chat_message(item) and getattr(item, "source", None) == name:
            hook.recorder.manager_message(name, item)
        return await original(item)

    queue.put = put
    setattr(queue, _HOOK_ATTR, hook)

    def _undo(q=queue):
        for attr in ("put", _HOOK_ATTR):
            q.__dict__.pop(attr, None)

    undo.append(_undo)


def _patch_agent(agent: Any, recorder: Recorder, undo: list) -> None:
    name = extract.agent_name(agent)
    _wrap_client(agent, recorder, name, undo)
    hook = agent.__dict__.get(_HOOK_ATTR)
    if hook is not None:  # instrumented before (e.g. a previous run): rebind only
        hook.recorder = recorder
        hook.turn = None
        return
    hook = _AgentHook(recorder)
    orig_stream = agent.on_messages_stream
    orig_messages = agent.on_messages

    async def on_messages_stream(messages, cancellation_token, *args, **kwargs):
        rec = hook.recorder
        owned = hook.turn is None
        turn = rec.begin_turn(name, messages) if owned else hook.turn
        if owned:
            hook.turn = turn
        done = False
        try:
            async for item in orig_stream(messages, cancellation_token, *args, **kwargs):
                rec.on_item(turn, item)
                if owned and extract.is_response(item):
                    # The Response is the last item; consumers (on_messages) often stop here
                    # without closing the generator, so the turn ends now.
                    done = True
                    hook.turn = None
                    rec.end_turn(turn, item)
                yield item
        except GeneratorExit:
            if owned and not done:
                hook.turn = None
                rec.end_turn(turn, error=RuntimeError("agent stream closed before its response"))
            raise
        except BaseException as e:
            if owned and not done:
                hook.turn = None
                rec.end_turn(turn, error=e)
            raise
        if owned and not done:
            hook.turn = None
            rec.end_turn(turn)

    async def on_messages(messages, cancellation_token, *args, **kwargs):
        if hook.turn is not None:  # inside a traced stream turn already
            return await orig_messages(messages, cancellation_token, *args, **kwargs)
        rec = hook.recorder
        turn = rec.begin_turn(name, messages)
        hook.turn = turn
        try:
            response = await orig_messages(messages, cancellation_token, *args, **kwargs)
        except BaseException as e:
            hook.turn = None
            rec.end_turn(turn, error=e)
            raise
        hook.turn = None
        rec.end_turn(turn, response)
        return response

    agent.on_messages_stream = on_messages_stream
    agent.on_messages = on_messages
    setattr(agent, _HOOK_ATTR, hook)

    def _undo(a=agent):
        for attr in ("on_messages_stream", "on_messages", _HOOK_ATTR):
            a.__dict__.pop(attr, None)

    undo.append(_undo)


def instrument_object(obj: Any, recorder: Recorder, undo: list) -> None:
    """Instrument a team (its model client and, recursively, its participants) or an agent."""
    if extract.is_team(obj):
        if getattr(obj, "_initialized", False) and extract.model_client_of(obj) is not None:
            log.warning("maestro autogen adapter: team %s already ran before instrument(); its manager's "
                        "model calls (selector/orchestrator) may not be traced", extract.agent_name(obj))
        _wrap_client(obj, recorder, extract.manager_name(obj), undo)
        if extract.manager_speaks(obj):
            _patch_manager(obj, recorder, undo)
        for p in extract.participants_of(obj):
            instrument_object(p, recorder, undo)
    elif hasattr(obj, "on_messages_stream") and hasattr(obj, "on_messages"):
        _patch_agent(obj, recorder, undo)
    else:
        raise TypeError(
            f"maestro.adapters.autogen.instrument: {type(obj).__name__} is neither an agentchat team nor a chat "
            "agent (expected e.g. RoundRobinGroupChat, SelectorGroupChat, Swarm, MagenticOneGroupChat or AssistantAgent)"
        )


def _raise_one_line(error: BaseException) -> NoReturn:
    """Re-raise ``error``; agentchat's team error (a ``RuntimeError`` whose message carries
    the whole remote traceback) as a ``RuntimeError`` with the one-line message instead, the
    original chained as its cause."""
    if type(error) is RuntimeError and str(error) != extract.error_message(error):
        raise RuntimeError(extract.error_message(error)) from error
    raise error


class InstrumentedAutoGen:
    """A team or agent whose ``run``/``run_stream`` calls are traced as one run.

    Everything else (``reset``, ``save_state``, ``name``, ...) is the wrapped object's.
    """

    def __init__(self, target: Any, recorder: Recorder, undo: list):
        self.target = target
        self.recorder = recorder
        self._undo = undo

    async def run(self, *args, task: Any = None, **kwargs):
        self.recorder.begin_run(task)
        try:
            result = await self.target.run(*args, task=task, **kwargs)
        except BaseException as e:
            self.recorder.end_run(False, e)
            _raise_one_line(e)
        self.recorder.end_run(True)
        return result

    async def run_stream(self, *args, task: Any = None, **kwargs):
        self.recorder.begin_run(task)
        try:
            async for item in self.target.run_stream(*args, task=task, **kwargs):
                yield item
        except GeneratorExit:  # the consumer stopped early: the run hands nothing over
            self.recorder.end_run(False)
            raise
        except BaseException as e:
            self.recorder.end_run(False, e)
            _raise_one_line(e)
        self.recorder.end_run(True)

    def uninstrument(self) -> Any:
        """Restore every patched agent and model client; returns the original object."""
        for fn in reversed(self._undo):
            try:
                fn()
            except Exception:
                log.exception("maestro autogen adapter: undo failed")
        self._undo.clear()
        return self.target

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)
