"""The generic policy that answers when no registered policy matches.

It knows no instance, so it reads the conversation the way a model does
(:mod:`maestro.sim.conventions`) and its hard duty is to let any MAS come to an end, as a
real model eventually does:

* **Stop conventions.** The prompt's own way of ending: a keyword it asks for ("reply
  with TERMINATE when done", ``say "APPROVE"``, ``FINAL ANSWER:``), a handoff to the user
  (Swarm ``transfer_to_user``), the final member of a union to fill (``Response`` beside
  ``Plan``), a *done* flag in a JSON answer (Magentic-One's ``is_request_satisfied``). The
  model wraps up with a probability that rises with the turns already taken
  (:func:`~maestro.sim.conventions.stop_probability`) and is certain after
  :data:`~maestro.sim.conventions.STOP_CERTAIN_AT` turns, so every loop ends within a
  bounded number of calls, at a point that varies with the seed.
* **Choices and JSON.** "Select the next role from [a, b]" is answered with one name;
  a JSON answer asked for in the prompt (a template such as Magentic-One's progress ledger,
  or "with keys ...") comes back as valid JSON with those keys; structured output (a
  response schema) always gets JSON valid for it, union members drawn by the seed.
* **Tools.** A forced tool is always called. Otherwise, before any tool result came back,
  an offered tool is called by a coin flip (``extra["fallback_p_tool"]``); after a tool
  result it answers in text. Handoff tools are not tools in that sense: when not wrapping
  up, the model hands over to another participant by a coin flip
  (``extra["fallback_p_handoff"]``); when wrapping up without a way to end the exchange
  while the floor is still its own (its last turn changed nothing, as in a Swarm), it
  hands over.
* **Text.** Follows the profile (accuracy, failure mix, verbosity), on the conversation's
  topic with framework wrapper text removed and never built from this service's own
  earlier words.
"""

from __future__ import annotations

import json

from maestro.sim.conventions import (
    Conventions,
    Handoff,
    is_handoff_name,
    read_conventions,
    schema_choices,
    stop_probability,
)
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimTool, SimToolCall
from maestro.sim.synth import SchemaBias, answer_text, synthesize_json

__all__ = ["FallbackPolicy", "FALLBACK_POLICY", "call_tool", "DEFAULT_P_TOOL", "DEFAULT_P_HANDOFF"]

DEFAULT_P_TOOL = 0.5
"""Chance of calling an offered tool before any tool result came back (override with the
profile's ``extra["fallback_p_tool"]``)."""

DEFAULT_P_HANDOFF = 0.5
"""Chance of handing over to another participant when not wrapping up (override with
``extra["fallback_p_handoff"]``)."""

_HANDOFF_RESULT_MARK = "adopting the role of"  # AutoGen's handoff tool result


def call_tool(tool: SimTool, req: SimRequest, ctx: PolicyContext, *, hint: str | None = None, bias: SchemaBias | None = None) -> SimToolCall:
    """A call of ``tool`` with arguments synthesised from its schema and ``hint`` (by
    default the last user message)."""
    args = synthesize_json(tool.parameters or {"type": "object"}, ctx.rng, req.last_user if hint is None else hint, bias=bias)
    if not isinstance(args, dict):
        # A tool's parameters should be an object; wrap anything else so the call is valid JSON.
        args = {"input": args}
    return SimToolCall(name=tool.name, arguments=args)


def _handoff_call(h: Handoff, req: SimRequest, ctx: PolicyContext, hint: str) -> SimToolCall:
    return call_tool(h.tool, req, ctx, hint=hint)


def _is_plain_json(schema: dict) -> bool:
    return (
        not schema.get("properties")
        and str(schema.get("type", "object")).lower() == "object"
        and not any(k in schema for k in ("$ref", "anyOf", "oneOf", "allOf", "additionalProperties"))
    )


class FallbackPolicy:
    """Answers any request; see the module docstring."""

    name = "fallback"

    def matches(self, request: SimRequest) -> bool:
        return True

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        conv = read_conventions(request)
        p_stop = stop_probability(conv.turns, ctx.extra)
        tools = {t.name: t for t in request.tools}
        choice = request.tool_choice
        bias = SchemaBias(p_done=p_stop, topic=conv.topic)
        if choice and choice not in ("auto", "none", "required") and choice in tools:
            return SimReply(tool_calls=(call_tool(tools[choice], request, ctx, hint=conv.topic, bias=bias),))
        if choice == "required" and request.tools:
            return SimReply(tool_calls=(call_tool(ctx.rng.choice(request.tools), request, ctx, hint=conv.topic, bias=bias),))
        if request.response_schema is not None or conv.json_in_instruction:
            return SimReply(text=self._json_answer(request, ctx, conv, p_stop))
        if conv.choices:
            return SimReply(text=ctx.rng.choice(conv.choices))

        may_call = choice != "none"
        if ctx.rng.random() < p_stop:
            # Wrapping up, by the conversation's own convention when it has one.
            if may_call and conv.terminal_handoffs:
                return SimReply(tool_calls=(_handoff_call(ctx.rng.choice(conv.terminal_handoffs), request, ctx, conv.topic),))
            if may_call and conv.other_handoffs and conv.own_streak and not conv.keywords:
                # Its part is done and the floor is still its own: hand it on.
                return SimReply(tool_calls=(_handoff_call(ctx.rng.choice(conv.other_handoffs), request, ctx, conv.topic),))
            return SimReply(text=self._say(request, ctx, conv, p_stop, wrapping_up=True))

        handoff_names = {h.tool.name for h in conv.handoffs}
        regular = [t for t in request.tools if t.name not in handoff_names]
        p_tool = float(ctx.extra.get("fallback_p_tool", DEFAULT_P_TOOL))
        tool_result_seen = any(
            m.role == "tool" and not is_handoff_name(m.name) and _HANDOFF_RESULT_MARK not in m.content for m in request.messages
        )
        if may_call and regular and not tool_result_seen and ctx.rng.random() < p_tool:
            return SimReply(tool_calls=(call_tool(ctx.rng.choice(regular), request, ctx, hint=conv.topic),))
        p_handoff = float(ctx.extra.get("fallback_p_handoff", DEFAULT_P_HANDOFF))
        if may_call and conv.other_handoffs and ctx.rng.random() < p_handoff:
            return SimReply(tool_calls=(_handoff_call(ctx.rng.choice(conv.other_handoffs), request, ctx, conv.topic),))
        return SimReply(text=self._say(request, ctx, conv, p_stop, wrapping_up=False))

    def _say(self, request: SimRequest, ctx: PolicyContext, conv: Conventions, p_stop: float, *, wrapping_up: bool) -> str:
        """A text turn: JSON when the system prompt asks for JSON, else prose, with the stop
        keyword where the prompt wants it when wrapping up."""
        if conv.json_asked:
            return self._json_answer(request, ctx, conv, 1.0 if wrapping_up else 0.0)
        text = self._text(conv, ctx)
        if wrapping_up and conv.keywords:
            text = conv.keywords[0].apply(text)
        return text

    @staticmethod
    def _text(conv: Conventions, ctx: PolicyContext) -> str:
        return answer_text(ctx.rng, conv.topic, accuracy=ctx.accuracy, failure_mix=ctx.failure_mix, verbosity=ctx.verbosity)

    def _json_answer(self, request: SimRequest, ctx: PolicyContext, conv: Conventions, p_stop: float) -> str:
        schema = request.response_schema
        if schema is None or _is_plain_json(schema):
            # JSON mode or JSON asked for in words: the prompt's own template, if it has one.
            schema = conv.json_schema
        if schema is None:
            # Plain JSON mode ({"type": "object"}) with nothing more said: a one-field object.
            return json.dumps({"answer": self._text(conv, ctx)}, ensure_ascii=False)
        bias = SchemaBias(p_done=p_stop, choices=schema_choices(conv.json_schema), topic=conv.topic)
        return json.dumps(synthesize_json(schema, ctx.rng, conv.topic, bias=bias), ensure_ascii=False)


FALLBACK_POLICY = FallbackPolicy()
"""The instance the service uses."""
