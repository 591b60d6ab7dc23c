"""The ADK plugin that records a run in maestro's schema.

Registered through ``App(plugins=[...])`` (or a runner's plugin manager) it sees every
agent, model and tool callback and every event of every invocation, and records, under the
run root:

* ``invoke_agent {agent}`` per agent turn (``before_agent`` .. ``after_agent``; a turn that
  hands control away with ``transfer_to_agent`` ends at the hand-over, because ADK never
  calls ``after_agent`` for it);
* ``chat {model}`` per model call, under the calling agent's turn: model, provider (the
  endpoint's, not ADK's guess), tokens from ``usage_metadata`` (estimated and flagged
  ``maestro.usage.estimated`` when absent), HTTP body bytes and attempts of the call;
* ``execute_tool {tool}`` per tool call with the model's call id (``transfer_to_agent`` is
  ADK's hand-over mechanism and becomes a message edge instead of a tool span);
* ``message {src} -> {dst}`` edges (see the rule below).

Parents are found by ADK's own ids (invocation id, branch, agent name, function-call id),
never through the OTel context. A transferred-to agent's turn is placed directly under
the invocation's parent (the run root for a top-level run): ADK runs it as a sibling of the
agent that handed over, and its turn is not part of the sender's.

Edge rule (sizes are the UTF-8 bytes of what the sender put on the conversation: text plus
JSON of function calls, :func:`extract.content_bytes`):

1. ``__start__ -> A`` when A is the first agent of an invocation (bytes of the user message);
2. ``A -> B`` when an event of A carries ``actions.transfer_to_agent = B`` (bytes of A's
   last output before the hand-over);
3. ``P -> C`` when C starts while its parent agent P has an open turn (workflow agents such
   as ``SequentialAgent``; bytes of P's last output, else of the invocation's latest output,
   else of the user message: what C reads), and ``C -> P`` when C ends (C's last output). A
   workflow agent says nothing itself: its last output is its sub-agents' latest one, so a
   nested workflow agent hands over what its last child said;
4. ``X -> __end__`` when the invocation ends, X being the agent whose final response ended
   it (bytes of that response). For an agent run inside a tool (``AgentTool``), the tool's
   agent takes the place of ``__start__``/``__end__``.

ADK's own OpenTelemetry spans: the plugin marks each invocation it sees (``before_run``), so
the agent, model and tool spans ADK would open under it are not recorded (``native``), also
when you add the plugin to your own ``App`` and drive your own ``Runner``.

Model calls no ADK callback sees (image generation and embeddings that a tool or an agent's
own code makes through google-genai) are recorded by :mod:`genai` under the current tool
call or agent turn (:func:`direct_call_scope`).

Every callback is guarded: a failure is logged and the callback returns None, so the
instrumentation never changes or breaks the user's agents.
"""

from __future__ import annotations

import contextvars
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from google.adk.plugins.base_plugin import BasePlugin

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.adapters.adk import a2a, extract, genai, native
from maestro.collector.http import HttpLedger, bind_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

__all__ = ["MaestroAdkPlugin", "START", "END"]

log = logging.getLogger(__name__)

START, END = "__start__", "__end__"

_CURRENT_TOOL: contextvars.ContextVar[tuple[SpanHandle, str] | None] = contextvars.ContextVar(
    "maestro_adk_current_tool", default=None
)
"""(tool span, calling agent) while a tool runs in this task: lets an agent run inside a
tool (``AgentTool``), or a model call the tool makes itself, nest under that tool's span."""

_CURRENT_AGENT: contextvars.ContextVar[tuple[MaestroAdkPlugin, SpanHandle, str] | None] = contextvars.ContextVar(
    "maestro_adk_current_agent", default=None
)
"""(plugin, turn span, agent) of the agent turn that started last in this task."""


def direct_call_scope() -> tuple[MaestroAdkPlugin, SpanHandle, str] | None:
    """Where a model call that no ADK callback sees belongs (:mod:`genai`): the plugin, the
    parent span and the calling agent: the tool running in this task, else the agent turn
    that started last in it while it is open; None outside every traced agent turn."""
    agent = _CURRENT_AGENT.get()
    if agent is None:
        return None
    plugin, turn, name = agent
    tool = _CURRENT_TOOL.get()
    if tool is not None and not tool[0].ended:
        return plugin, tool[0], tool[1]
    return None if turn.ended else (plugin, turn, name)

STREAM_INVOCATIONS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "maestro_adk_stream_invocations", default=None
)
"""Invocation ids opened while ``InstrumentedAdk.stream`` steps ADK's runner (tasks ADK
creates inherit the list): what to close if that stream is cancelled or fails, since ADK
then calls neither ``after_run`` nor ``on_run_error``."""


_guarded = common.guarded_async("maestro adk callback", log)
"""Every plugin hook is a coroutine that logs a failure and returns None (never alters ADK's flow)."""


@dataclass
class _Turn:
    """One open agent turn."""

    handle: SpanHandle
    name: str
    branch: str | None
    via: str
    """``start``, ``transfer``, ``parent`` (started under an open parent agent) or ``again``."""
    parent_agent: str | None = None
    """For ``via == 'parent'``: the parent agent the turn returns to."""
    parent_handle: SpanHandle | None = None
    """For ``via == 'parent'``: the parent's span (where the return message goes)."""
    output_bytes: int = 0
    """Bytes of everything the agent said in this turn."""
    last_output_bytes: int = 0
    """Bytes of the agent's latest output event."""


@dataclass
class _Invocation:
    """Book-keeping for one ADK invocation (one user message through the agent tree)."""

    parent: SpanHandle | None
    """Span the invocation's top-level turns go under (None: the run root)."""
    caller: str = START
    """Who sent the user message: ``__start__``, or the agent whose tool runs this invocation."""
    started: bool = False
    user_bytes: int = 0
    """Bytes of the user message that started the invocation."""
    open: dict[tuple[str | None, str], _Turn] = field(default_factory=dict)
    pending_transfer: tuple[str, str, int] | None = None
    """(source, target, bytes) of a hand-over whose target has not started yet."""
    last_speaker: tuple[str, int] | None = None
    """(agent, bytes) of the latest output event."""
    final: tuple[str, int] | None = None
    """(agent, bytes) of the latest final response."""
    native_mark: int | None = None
    """ADK's span of this invocation, marked so that nothing under it is recorded (``native``)."""


class MaestroAdkPlugin(BasePlugin):
    """Records ADK activity into ``telemetry``.

    Args:
        telemetry: the run's telemetry (spans go under its root span).
        provider: ``gen_ai.provider.name`` for LLM spans (e.g. ``maestro.sim``); by default
            derived from the model object (:func:`extract.provider_name`).
        capture_content: overrides the telemetry's content policy for what is collected.
        name: plugin name (ADK requires names to be unique within an app).
    """

    def __init__(self, telemetry: RunTelemetry, provider: str | None = None,
                 capture_content: bool | None = None, name: str = "maestro"):
        super().__init__(name=name)
        self.t = telemetry
        self.provider = provider or None
        self.capture = telemetry.content.capture if capture_content is None else capture_content
        self._inv: dict[str, _Invocation] = {}
        self._llm: dict[tuple[str, str | None, str], tuple[SpanHandle, HttpLedger, Any]] = {}
        self._tools: dict[str, tuple[SpanHandle, contextvars.Token[tuple[SpanHandle, str] | None]]] = {}
        native.install_gate()
        genai.install_genai_hook(direct_call_scope)
        a2a.install_a2a_hook(direct_call_scope)  # hand-overs to RemoteA2aAgents: message spans, run headers

    # -- lookup ------------------------------------------------------------------------
    def _invocation(self, inv_id: str) -> _Invocation:
        inv = self._inv.get(inv_id)
        if inv is None:
            current = _CURRENT_TOOL.get()
            if current is not None and not current[0].ended:
                inv = _Invocation(parent=current[0], caller=current[1])
            else:
                inv = _Invocation(parent=None)
            self._inv[inv_id] = inv
            owned = STREAM_INVOCATIONS.get()
            if owned is not None:
                owned.append(inv_id)
        return inv

    def close_invocations(self, inv_ids: list[str], error: str) -> None:
        """End what is still open of these invocations as failed (innermost first): the
        stream that ran them was cancelled or raised."""
        for inv_id in reversed(inv_ids):
            try:
                self._close_invocation(inv_id, error)
            except Exception:  # instrumentation must never break the user's code
                log.exception("maestro adk: closing invocation %s failed", inv_id)

    @staticmethod
    def _find(inv: _Invocation, name: str, branch: str | None) -> _Turn | None:
        turn = inv.open.get((branch, name))
        if turn is not None:
            return turn
        for (_, n), t in reversed(list(inv.open.items())):  # same agent on another branch
            if n == name:
                return t
        return None

    @staticmethod
    def _ids(ctx: Any) -> tuple[str, str | None, str]:
        ic = getattr(ctx, "_invocation_context", None)
        return ctx.invocation_id, getattr(ic, "branch", None), ctx.agent_name

    # -- agents ------------------------------------------------------------------------
    @_guarded
    def before_agent_callback(self, *, agent, callback_context):
        inv_id, branch, name = self._ids(callback_context)
        inv = self._invocation(inv_id)
        parent_agent = getattr(getattr(agent, "parent_agent", None), "name", None)
        parent_turn = self._find(inv, parent_agent, None) if parent_agent else None
        pending = inv.pending_transfer
        if pending is not None and pending[1] == name:
            via, parent, source, nbytes = "transfer", inv.parent, pending[0], pending[2]
            inv.pending_transfer = None
        elif parent_turn is not None:
            # A workflow parent passes on the conversation: its own last output if it spoke,
            # else the latest output of the invocation (the previous child), else the user's.
            last = inv.last_speaker[1] if inv.last_speaker is not None else inv.user_bytes
            via, parent, source, nbytes = "parent", parent_turn.handle, parent_turn.name, parent_turn.last_output_bytes or last
        elif not inv.started:
            inv.user_bytes = extract.content_bytes(getattr(callback_context, "user_content", None))
            via, parent, source, nbytes = "start", inv.parent, inv.caller, inv.user_bytes
        else:
            speaker = inv.last_speaker
            via, parent = "again", inv.parent
            source, nbytes = (speaker if speaker is not None else (inv.caller, 0))
        inv.started = True
        attrs = common.agent_attributes(name)
        attrs[sc.GCP_VERTEX_AGENT_INVOCATION_ID] = inv_id
        desc = getattr(agent, "description", None)
        if desc:
            attrs[sc.GEN_AI_AGENT_DESCRIPTION] = str(desc)[:500]
        session = getattr(callback_context, "session", None)
        if session is not None and getattr(session, "id", None):
            attrs[sc.GEN_AI_CONVERSATION_ID] = session.id
        handle = self.t.start_span(f"invoke_agent {name}", attrs, parent)
        _CURRENT_AGENT.set((self, handle, name))
        self.t.record_message(source, name, nbytes, parent=handle, at_ns=handle.start_ns)
        inv.open[(branch, name)] = _Turn(handle, name, branch, via, parent_agent if via == "parent" else None,
                                         parent if via == "parent" else None)

    def _end_turn(self, inv: _Invocation, turn: _Turn, error: str | None = None) -> None:
        inv.open = {k: v for k, v in inv.open.items() if v is not turn}
        attrs = {sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: turn.output_bytes}
        if error is not None:
            attrs.update(common.failure_attributes(sc.AgentFailureCategory.SYSTEM, error.split(":", 1)[0]))
        self.t.end_span(turn.handle, attrs, error=error)

    @_guarded
    def after_agent_callback(self, *, agent, callback_context):
        inv_id, branch, name = self._ids(callback_context)
        inv = self._inv.get(inv_id)
        turn = self._find(inv, name, branch) if inv is not None else None
        if inv is None or turn is None:  # already ended at a hand-over
            return
        self._end_turn(inv, turn)
        if turn.via == "parent" and turn.parent_agent:
            parent = turn.parent_handle if turn.parent_handle is not None and not turn.parent_handle.ended else inv.parent
            self.t.record_message(name, turn.parent_agent, turn.last_output_bytes, parent=parent)

    @_guarded
    def on_agent_error_callback(self, *, agent, callback_context, error):
        inv_id, branch, name = self._ids(callback_context)
        inv = self._inv.get(inv_id)
        turn = self._find(inv, name, branch) if inv is not None else None
        if inv is not None and turn is not None:
            self._end_turn(inv, turn, error=common.error_text(error))

    # -- events: outputs, hand-overs, final answers --------------------------------------
    @_guarded
    def on_event_callback(self, *, invocation_context, event):
        author = getattr(event, "author", None)
        if not author or author == "user":
            return
        inv = self._inv.get(invocation_context.invocation_id)
        if inv is None:
            return
        turn = self._find(inv, author, getattr(event, "branch", None))
        if extract.is_output_event(event):
            nbytes = extract.content_bytes(event.content)
            inv.last_speaker = (author, nbytes)
            if turn is not None:
                turn.output_bytes += nbytes
                self._said(inv, turn, nbytes)
            if not extract.function_calls(event.content):
                inv.final = (author, nbytes)
        target = extract.transfer_target(event)
        if target:
            nbytes = turn.last_output_bytes if turn is not None else 0
            inv.pending_transfer = (author, target, nbytes)
            if turn is not None:
                # The hand-over ends the sender's turn: ADK never calls after_agent for it.
                self._end_turn(inv, turn)

    def _said(self, inv: _Invocation, turn: _Turn, nbytes: int) -> None:
        """``turn``'s agent said ``nbytes``: its latest output, and that of the workflow
        agents it runs under (which speak through their sub-agents)."""
        cur: _Turn | None = turn
        while cur is not None:
            cur.last_output_bytes = nbytes
            cur = self._find(inv, cur.parent_agent, None) if cur.via == "parent" and cur.parent_agent else None

    # -- run start and end -------------------------------------------------------------------
    @_guarded
    def before_run_callback(self, *, invocation_context):
        # ADK opened this invocation's span just now; nothing of ADK's under it is recorded.
        inv = self._invocation(invocation_context.invocation_id)
        inv.native_mark = native.mark_invocation()

    def _close_invocation(self, inv_id: str, error: str | None) -> None:
        inv = self._inv.pop(inv_id, None)
        if inv is None:
            return
        native.unmark_invocation(inv.native_mark)
        for key in [k for k in self._llm if k[0] == inv_id]:
            handle, ledger, _ = self._llm.pop(key)
            self.t.end_span(handle, common.ledger_attributes(ledger), error=error or "model call did not complete")
        for turn in sorted(inv.open.values(), key=lambda t: -t.handle.start_ns):  # children first
            self._end_turn(inv, turn, error=error)
        if inv.pending_transfer is not None:  # the target never started
            source, target, nbytes = inv.pending_transfer
            self.t.record_message(source, target, nbytes, parent=inv.parent)
        last = inv.final or inv.last_speaker
        if last is not None and error is None:
            target = END if inv.caller == START else inv.caller
            self.t.record_message(last[0], target, last[1], parent=inv.parent)

    @_guarded
    def after_run_callback(self, *, invocation_context):
        self._close_invocation(invocation_context.invocation_id, None)

    @_guarded
    def on_run_error_callback(self, *, invocation_context, error):
        self._close_invocation(invocation_context.invocation_id, common.error_text(error))

    # -- models ------------------------------------------------------------------------
    @_guarded
    def before_model_callback(self, *, callback_context, llm_request):
        key = self._ids(callback_context)
        stale = self._llm.pop(key, None)
        if stale is not None:  # a previous call of this agent never reported back
            self.t.end_span(stale[0], common.ledger_attributes(stale[1]), error="superseded by a new model call")
        ic = getattr(callback_context, "_invocation_context", None)
        try:
            model_obj = getattr(getattr(ic, "agent", None), "canonical_model", None)
        except Exception:
            model_obj = None
        model = extract.model_name(llm_request, model_obj)
        attrs = common.llm_attributes(model, extract.provider_name(model_obj, model, self.provider), key[2])
        max_tokens = extract.max_output_tokens(llm_request)
        if max_tokens:
            attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        if self.capture:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = extract.messages_for_capture(llm_request)
            system = extract.system_text(llm_request)
            if system:
                attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = system
        inv = self._inv.get(key[0])
        turn = self._find(inv, key[2], key[1]) if inv is not None else None
        parent = turn.handle if turn is not None else (inv.parent if inv is not None else None)
        # ADK awaits this callback in the task that then makes the HTTP call, so the
        # ledger binding is seen by the genai client's transport.
        handle, ledger = common.start_llm_span(self.t, model, attrs, parent)
        self._llm[key] = (handle, ledger, llm_request)

    @_guarded
    def after_model_callback(self, *, callback_context, llm_response):
        if getattr(llm_response, "partial", None):
            return  # streaming chunk: the aggregated final response closes the span
        key = self._ids(callback_context)
        entry = self._llm.pop(key, None)
        if entry is None:
            return
        handle, ledger, llm_request = entry
        bind_ledger(None)
        attrs = common.llm_end_attributes(
            ledger, extract.usage_of(getattr(llm_response, "usage_metadata", None)),
            lambda: extract.estimate_usage(llm_request, getattr(llm_response, "content", None)),
            extract.finish_reasons(llm_response), getattr(llm_response, "model_version", None))
        if self.capture:
            content = getattr(llm_response, "content", None)
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = json.dumps(
                [{"role": "assistant", "content": extract.content_text(content),
                  "tool_calls": [{"name": n, "arguments": a} for n, a, _ in extract.function_calls(content)]}],
                ensure_ascii=False, default=str)
        error = None
        code = getattr(llm_response, "error_code", None)
        if code:
            error = f"{code}: {getattr(llm_response, 'error_message', '') or ''}".strip()
            attrs.update(common.failure_attributes(sc.AgentFailureCategory.UPSTREAM, str(code)))
        self.t.end_span(handle, attrs, error=error)

    @_guarded
    def on_model_error_callback(self, *, callback_context, llm_request, error):
        entry = self._llm.pop(self._ids(callback_context), None)
        if entry is None:
            return
        handle, ledger, _ = entry
        bind_ledger(None)
        common.end_failed(self.t, handle, error, sc.AgentFailureCategory.UPSTREAM, common.ledger_attributes(ledger))

    # -- tools -------------------------------------------------------------------------
    @staticmethod
    def _call_id(tool_context: Any, tool: Any) -> str:
        cid = getattr(tool_context, "function_call_id", None)
        return str(cid) if cid else f"{getattr(tool, 'name', 'tool')}:{id(tool_context):x}"

    @_guarded
    def before_tool_callback(self, *, tool, tool_args, tool_context):
        name = getattr(tool, "name", None) or "tool"
        if name == extract.TRANSFER_TOOL:
            return  # a hand-over: recorded as a message edge from the event
        call_id = self._call_id(tool_context, tool)
        agent = getattr(tool_context, "agent_name", None)
        attrs = common.tool_attributes(name, call_id, extract.json_bytes(tool_args), agent)
        desc = getattr(tool, "description", None)
        if desc:
            attrs[sc.GEN_AI_TOOL_DESCRIPTION] = str(desc)[:500]
        if self.capture:
            attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = json.dumps(tool_args, ensure_ascii=False, default=str)
        inv_id = getattr(tool_context, "invocation_id", None)
        inv = self._inv.get(inv_id) if inv_id is not None else None
        branch = getattr(getattr(tool_context, "_invocation_context", None), "branch", None)
        turn = self._find(inv, agent, branch) if inv is not None and agent else None
        parent = turn.handle if turn is not None else (inv.parent if inv is not None else None)
        handle = self.t.start_span(f"execute_tool {name}", attrs, parent)
        token = _CURRENT_TOOL.set((handle, agent or name))
        self._tools[call_id] = (handle, token)

    def _end_tool(self, tool, tool_context, attrs: dict[str, Any], error: str | None = None) -> None:
        entry = self._tools.pop(self._call_id(tool_context, tool), None)
        if entry is None:
            return
        handle, token = entry
        try:
            _CURRENT_TOOL.reset(token)
        except Exception:  # reset from another context: just clear it here
            _CURRENT_TOOL.set(None)
        self.t.end_span(handle, attrs, error=error)

    @_guarded
    def after_tool_callback(self, *, tool, tool_args, tool_context, result):
        nbytes = extract.json_bytes(result)
        entry = self._tools.get(self._call_id(tool_context, tool))
        if entry is not None:
            attrs = common.tool_end_attributes(entry[0], nbytes)
        else:
            attrs = {sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: nbytes}
        if self.capture:
            attrs[sc.GEN_AI_TOOL_CALL_RESULT] = json.dumps(result, ensure_ascii=False, default=str)
        self._end_tool(tool, tool_context, attrs)

    @_guarded
    def on_tool_error_callback(self, *, tool, tool_args, tool_context, error):
        self._end_tool(tool, tool_context, common.failure_attributes(sc.AgentFailureCategory.SYSTEM, type(error).__name__),
                       error=common.error_text(error))
