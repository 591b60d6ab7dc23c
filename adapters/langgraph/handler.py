"""LangChain callback handler that records LangGraph runs in maestro's schema.

Span tree per graph invocation, under the run root:

* ``invoke_agent <node>`` for every node execution (the node is the agent);
* ``chat <model>`` for every chat-model call, under the node that made it, with tokens,
  model, provider and the HTTP body bytes of the call (all attempts);
* ``execute_tool <tool>`` for every tool call, under its node;
* ``message <a> -> <b>`` records for every hand-over between nodes, with the bytes of the
  source node's serialised output (the message the next node receives).

A node is named by its graph path: a node of a subgraph (a compiled graph used as a node,
e.g. a prebuilt ReAct agent, or invoked inside one) is ``<container>/<node>``, where the
container is the node running the subgraph; the container stands in for ``__start__`` and
``__end__`` of its subgraph (``agent -> agent/agent`` ... ``agent/tools -> agent``). Each
graph invocation keeps its own superstep bookkeeping (keyed by its LangChain run id), so the
inputs of one ``batch`` call never mix: each starts at ``__start__`` and its spans carry
``maestro.batch.index``. A graph that fails hands nothing to ``__end__``; the failing node's
span ends with ERROR status and an ``exception`` event. LangGraph's control-flow signals
(``interrupt()``, ``Command(graph=Command.PARENT)``) end a node normally: it hands over.

Parents are found explicitly by LangChain run id (``parent_run_id``), never through the
OTel context, so nothing is attached or detached inside callbacks. Runnables that are
neither nodes, models nor tools (routing functions, inner sequences) get no span; their
children are attached to the nearest recorded ancestor.

The handler never raises into the graph (``raise_error = False``; every callback body is
guarded and logs instead).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphBubbleUp
from opentelemetry.sdk.trace import Event

from maestro import semconv as sc
from maestro.adapters import _common as common
from maestro.adapters.langgraph import extract
from maestro.collector.http import HttpLedger, bind_ledger
from maestro.collector.telemetry import RunTelemetry, SpanHandle

__all__ = ["MaestroCallbackHandler"]

log = logging.getLogger(__name__)

START, END = "__start__", "__end__"


_guarded = common.guarded("maestro langgraph callback", log)


@dataclass
class _Scope:
    """Hand-over bookkeeping for one graph invocation (top level or subgraph)."""

    container: str | None
    """The node running this graph (it sends the input and receives the output); None for
    the top-level graph, whose ends are ``__start__`` and ``__end__``."""
    parent: SpanHandle | None
    """Where the graph's exit messages go: the container's span, or the run root."""
    attributes: dict[str, Any]
    """Attributes of its agent and message spans beyond the defaults (the batch index)."""
    last_step: int | None = None
    """Superstep of the most recent node start."""
    prev_nodes: list[tuple[str, int]] = field(default_factory=list)
    """(node, output bytes) of nodes that finished in the previous superstep."""
    cur_nodes: list[tuple[str, int]] = field(default_factory=list)
    """(node, output bytes) of nodes finished in the current superstep."""

    @property
    def entry(self) -> str:
        return self.container or START

    @property
    def exit(self) -> str:
        return self.container or END


@dataclass
class _Node:
    handle: SpanHandle
    name: str
    step: int | None
    scope: _Scope


class MaestroCallbackHandler(BaseCallbackHandler):
    """Records one run's LangGraph activity into ``telemetry``.

    Args:
        telemetry: the run's telemetry (spans go under its root span).
        provider: ``gen_ai.provider.name`` to write on LLM spans (e.g. ``maestro.sim``);
            by default taken from LangChain's ``ls_provider`` metadata.
        capture_content: overrides the telemetry's content policy for what this handler
            collects (content is still filtered/redacted by the exporter).
    """

    run_inline = True  # run in the caller's context: the HTTP ledger binding must be seen by the client
    raise_error = False

    def __init__(self, telemetry: RunTelemetry, provider: str | None = None, capture_content: bool | None = None):
        super().__init__()
        self.t = telemetry
        self.provider = provider
        self.capture = telemetry.content.capture if capture_content is None else capture_content
        self._handles: dict[UUID, SpanHandle] = {}
        """LangChain run id -> span of that run, or of its nearest recorded ancestor."""
        self._agents: dict[UUID, str] = {}
        """LangChain run id -> agent (node) it belongs to."""
        self._nodes: dict[UUID, _Node] = {}
        self._llm: dict[UUID, tuple[SpanHandle, HttpLedger, Any, dict[str, Any]]] = {}
        self._tools: dict[UUID, SpanHandle] = {}
        self._scopes: dict[UUID | None, _Scope] = {}
        """run id of a graph invocation (None: a node without one) -> its hand-over bookkeeping
        (made at its first node)."""

    # -- lookup ------------------------------------------------------------------------
    def _parent(self, parent_run_id: UUID | None) -> SpanHandle | None:
        if parent_run_id is None:
            return None  # the run root
        return self._handles.get(parent_run_id)

    def _scope(self, graph_run_id: UUID | None, metadata: dict) -> _Scope:
        """The bookkeeping of the graph invocation ``graph_run_id`` (a node's parent run)."""
        scope = self._scopes.get(graph_run_id)
        if scope is None:
            scope = self._scopes[graph_run_id] = _Scope(
                self._agents.get(graph_run_id) if graph_run_id is not None else None, self._parent(graph_run_id),
                extract.batch_attributes(metadata))
        return scope

    def _forget(self, run_id: UUID) -> None:
        self._handles.pop(run_id, None)
        self._agents.pop(run_id, None)

    def _end_failed(self, handle: SpanHandle, error: BaseException, category: sc.AgentFailureCategory,
                    attrs: dict[str, Any] | None = None) -> None:
        """End ``handle`` as failed, with the exception as an OTel ``exception`` event."""
        handle.events.append(Event("exception", extract.exception_attributes(error)))
        common.end_failed(self.t, handle, error, category, attrs)

    # -- chains: graph, nodes, everything else -----------------------------------------
    @_guarded
    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, tags=None, metadata=None, **kwargs):
        if parent_run_id is None:  # the graph invocation itself: the run root stands for it
            return
        metadata = metadata or {}
        parent = self._parent(parent_run_id)
        if not extract.is_graph_node(metadata, tags):  # a subgraph, routing function, inner runnable
            if parent is not None:
                self._handles[run_id] = parent
            if parent_run_id in self._agents:
                self._agents[run_id] = self._agents[parent_run_id]
            return
        node, step = extract.node_of(metadata)
        scope = self._scope(parent_run_id, metadata)
        if step != scope.last_step:  # a new superstep: last step's finishers are the senders
            if scope.last_step is not None:
                scope.prev_nodes = scope.cur_nodes
                scope.cur_nodes = []
            scope.last_step = step
        name = extract.node_path(scope.container, node)
        attrs = common.agent_attributes(name)
        if step is not None:
            attrs[sc.MAESTRO_NODE_STEP] = step
        attrs.update(scope.attributes)
        handle = self.t.start_span(f"invoke_agent {name}", attrs, parent)
        senders = scope.prev_nodes or [(scope.entry, extract.serialised_size(inputs))]
        for source, nbytes in senders:
            self.t.record_message(source, name, nbytes, parent=handle, at_ns=handle.start_ns,
                                  attributes=scope.attributes)
        self._handles[run_id] = handle
        self._agents[run_id] = name
        self._nodes[run_id] = _Node(handle, name, step, scope)

    def _finish_node(self, node: _Node, output: Any) -> None:
        """End a node that handed ``output`` on: it is one of its superstep's senders."""
        nbytes = extract.serialised_size(output)
        node.scope.cur_nodes.append((node.name, nbytes))
        self.t.end_span(node.handle, {sc.COMMUNICATION_OUTPUT_MESSAGE_SIZE_BYTES: nbytes})

    def _close_graph(self, scope: _Scope) -> None:
        """A graph invocation returned: its last superstep's nodes hand its output on."""
        for source, nbytes in scope.cur_nodes:
            self.t.record_message(source, scope.exit, nbytes, parent=scope.parent, attributes=scope.attributes)

    @_guarded
    def on_chain_end(self, outputs, *, run_id, parent_run_id=None, **kwargs):
        node = self._nodes.pop(run_id, None)
        if node is not None:
            self._finish_node(node, outputs)
        else:
            scope = self._scopes.pop(run_id, None)
            if scope is not None:
                self._close_graph(scope)
        self._forget(run_id)

    @_guarded
    def on_chain_error(self, error, *, run_id, parent_run_id=None, **kwargs):
        # LangGraph's control flow (interrupt(), Command(graph=PARENT)) travels as a
        # GraphBubbleUp exception: the node and its graph hand over, they do not fail. A
        # graph that really failed hands nothing to its exit.
        handover = isinstance(error, GraphBubbleUp)
        node = self._nodes.pop(run_id, None)
        if node is not None:
            if handover:
                self._finish_node(node, error.args[0] if error.args else None)
            else:
                self._end_failed(node.handle, error, sc.AgentFailureCategory.SYSTEM)
        else:
            scope = self._scopes.pop(run_id, None)
            if scope is not None and handover:
                self._close_graph(scope)
        self._forget(run_id)

    # -- models ------------------------------------------------------------------------
    def _start_llm(self, serialized, run_id, parent_run_id, metadata, kwargs, capture_value, messages):
        model = extract.model_name(serialized, kwargs, metadata) or "unknown"
        agent = self._agents.get(parent_run_id)
        attrs = common.llm_attributes(model, extract.provider_name(metadata, self.provider), agent)
        attrs.update(extract.batch_attributes(metadata))
        params = kwargs.get("invocation_params") or {}
        max_tokens = params.get("max_tokens") or params.get("max_completion_tokens")
        if max_tokens:
            attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = int(max_tokens)
        if self.capture and capture_value is not None:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = capture_value
        handle, ledger = common.start_llm_span(self.t, model, attrs, self._parent(parent_run_id))
        self._llm[run_id] = (handle, ledger, messages, kwargs)
        self._handles[run_id] = handle
        if agent:
            self._agents[run_id] = agent

    @_guarded
    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, tags=None, metadata=None, **kwargs):
        capture = extract.messages_for_capture(messages) if self.capture else None
        self._start_llm(serialized, run_id, parent_run_id, metadata, kwargs, capture, messages)

    @_guarded
    def on_llm_start(self, serialized, prompts, *, run_id, parent_run_id=None, tags=None, metadata=None, **kwargs):
        capture = None
        if self.capture:
            capture = json.dumps([{"role": "user", "content": p} for p in prompts])
        self._start_llm(serialized, run_id, parent_run_id, metadata, kwargs, capture, [[_Prompt(p) for p in prompts]])

    @_guarded
    def on_llm_end(self, response, *, run_id, parent_run_id=None, **kwargs):
        entry = self._llm.pop(run_id, None)
        if entry is None:
            return
        handle, ledger, messages, start_kwargs = entry
        bind_ledger(None)
        attrs = common.llm_end_attributes(
            ledger, extract.usage_of(response),
            lambda: extract.estimate_usage(messages, response, extract.tool_schemas(start_kwargs)),
            extract.finish_reasons(response), extract.response_model(response))
        if self.capture:
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = extract.output_text(response)
        self.t.end_span(handle, attrs)
        self._forget(run_id)

    @_guarded
    def on_llm_error(self, error, *, run_id, parent_run_id=None, **kwargs):
        entry = self._llm.pop(run_id, None)
        if entry is None:
            return
        handle, ledger, _, _ = entry
        bind_ledger(None)
        self._end_failed(handle, error, sc.AgentFailureCategory.UPSTREAM, common.ledger_attributes(ledger))
        self._forget(run_id)

    # -- tools -------------------------------------------------------------------------
    @_guarded
    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, tags=None, metadata=None,
                      inputs=None, **kwargs):
        name = (serialized or {}).get("name") or kwargs.get("name") or "tool"
        agent = self._agents.get(parent_run_id)
        attrs = common.tool_attributes(name, str(kwargs.get("tool_call_id") or run_id), len(str(input_str).encode()),
                                       agent)
        desc = (serialized or {}).get("description")
        if desc:
            attrs[sc.GEN_AI_TOOL_DESCRIPTION] = str(desc)[:500]
        attrs.update(extract.batch_attributes(metadata))
        if agent:
            self._agents[run_id] = agent
        if self.capture:
            attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = str(input_str)
        handle = self.t.start_span(f"execute_tool {name}", attrs, self._parent(parent_run_id))
        self._tools[run_id] = handle
        self._handles[run_id] = handle

    @_guarded
    def on_tool_end(self, output, *, run_id, parent_run_id=None, **kwargs):
        handle = self._tools.pop(run_id, None)
        if handle is None:
            return
        content = getattr(output, "content", output)
        nbytes = extract.serialised_size(content) if not isinstance(content, str) else len(content.encode())
        attrs = common.tool_end_attributes(handle, nbytes)
        if self.capture:
            attrs[sc.GEN_AI_TOOL_CALL_RESULT] = content if isinstance(content, str) else str(extract.to_jsonable(content))
        self.t.end_span(handle, attrs)
        self._forget(run_id)

    @_guarded
    def on_tool_error(self, error, *, run_id, parent_run_id=None, **kwargs):
        handle = self._tools.pop(run_id, None)
        if handle is None:
            return
        self._end_failed(handle, error, sc.AgentFailureCategory.SYSTEM)
        self._forget(run_id)

    @_guarded
    def on_retry(self, retry_state, *, run_id, parent_run_id=None, **kwargs):
        handle = self._handles.get(run_id)
        if handle is not None:
            n = int(getattr(retry_state, "attempt_number", 0) or 0)
            handle.attributes[sc.AGENT_RETRY_ATTEMPT_NUMBER] = n + 1
            handle.attributes[sc.AGENT_RETRY_TRIGGER] = sc.RetryTrigger.UPSTREAM.value

    # -- annotations from MAS code ---------------------------------------------------------
    @_guarded
    def on_custom_event(self, name, data, *, run_id, tags=None, metadata=None, **kwargs):
        # A node calls langchain_core.callbacks.dispatch_custom_event(MAESTRO_SPAN_ATTRIBUTES_EVENT,
        # {...}, config=config) to annotate its own agent span (e.g. the search-tree node it
        # expands). Only maestro.* attributes with scalar (or list of scalar) values are kept,
        # and never the run identity or the span type.
        if name != sc.MAESTRO_SPAN_ATTRIBUTES_EVENT or not isinstance(data, dict):
            return
        handle = self._handles.get(run_id)
        if handle is None:
            return
        for key, value in extract.annotation_attributes(data).items():
            handle.attributes[key] = value


@dataclass
class _Prompt:
    """A plain-LLM prompt shaped like a chat message for token estimation."""

    content: str
    type: str = "user"

