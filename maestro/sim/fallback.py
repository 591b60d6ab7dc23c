"""The generic policy that answers when no registered policy matches.

It knows nothing about any instance, so its one hard duty is to let conversations end: it
calls a tool only when forced to, or (by a coin flip) when tools are offered and no tool
result has come back yet; after a tool result it always answers in text. Text follows the
profile (accuracy, failure mix, verbosity); structured-output requests always get JSON valid
for the requested schema.
"""

from __future__ import annotations

import json

from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimTool, SimToolCall
from maestro.sim.synth import answer_text, synthesize_json

__all__ = ["FallbackPolicy", "FALLBACK_POLICY", "call_tool", "DEFAULT_P_TOOL"]

DEFAULT_P_TOOL = 0.5
"""Chance of calling an offered tool before any tool result came back (override with the
profile's ``extra["fallback_p_tool"]``)."""


def call_tool(tool: SimTool, req: SimRequest, ctx: PolicyContext) -> SimToolCall:
    """A call of ``tool`` with arguments synthesised from its schema and the last user message."""
    args = synthesize_json(tool.parameters or {"type": "object"}, ctx.rng, req.last_user)
    if not isinstance(args, dict):
        # A tool's parameters should be an object; wrap anything else so the call is valid JSON.
        args = {"input": args}
    return SimToolCall(name=tool.name, arguments=args)


class FallbackPolicy:
    """Answers any request; see the module docstring."""

    name = "fallback"

    def matches(self, request: SimRequest) -> bool:
        return True

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        tools = {t.name: t for t in request.tools}
        choice = request.tool_choice
        if choice and choice not in ("auto", "none", "required") and choice in tools:
            return SimReply(tool_calls=(call_tool(tools[choice], request, ctx),))
        if choice == "required" and request.tools:
            return SimReply(tool_calls=(call_tool(ctx.rng.choice(request.tools), request, ctx),))
        if request.response_schema is not None:
            return SimReply(text=self._json_answer(request, ctx))
        p_tool = float(ctx.extra.get("fallback_p_tool", DEFAULT_P_TOOL))
        tool_result_seen = any(m.role == "tool" for m in request.messages)
        if request.tools and choice != "none" and not tool_result_seen and ctx.rng.random() < p_tool:
            return SimReply(tool_calls=(call_tool(ctx.rng.choice(request.tools), request, ctx),))
        text = answer_text(
            ctx.rng,
            request.last_user,
            accuracy=ctx.accuracy,
            failure_mix=ctx.failure_mix,
            verbosity=ctx.verbosity,
        )
        return SimReply(text=text)

    @staticmethod
    def _json_answer(request: SimRequest, ctx: PolicyContext) -> str:
        schema = request.response_schema or {}
        if not schema.get("properties") and str(schema.get("type", "object")).lower() == "object" and not any(
            k in schema for k in ("$ref", "anyOf", "oneOf", "allOf", "additionalProperties")
        ):
            # Plain JSON mode ({"type": "object"}): a one-field object keeps it useful.
            text = answer_text(
                ctx.rng,
                request.last_user,
                accuracy=ctx.accuracy,
                failure_mix=ctx.failure_mix,
                verbosity=ctx.verbosity,
            )
            value = {"answer": text}
        else:
            value = synthesize_json(schema, ctx.rng, request.last_user)
        return json.dumps(value, ensure_ascii=False)


FALLBACK_POLICY = FallbackPolicy()
"""The instance the service uses."""
