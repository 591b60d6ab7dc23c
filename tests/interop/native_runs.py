"""One run of a built-in instance traced only by its framework's own OpenTelemetry
instrumentation (OpenInference for LangGraph, the native spans of ADK and AutoGen), exported over
OTLP/HTTP: what a user who never heard of maestro's adapters has. Run in its own process
(``python native_runs.py FRAMEWORK INSTANCE SIM_URL SEED NONCE OTLP_ENDPOINT``), because both
instrumentations patch process-global state (LangChain's callback manager, the global tracer
provider).

Prints one JSON line: the run's outcome and the number of spans exported.
"""

from __future__ import annotations

import json
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from maestro.backends import resolve_endpoint
from maestro.contract import RunContext
from maestro.instances import get_instance

MAX_TOKENS = 512


class _Counting(OTLPSpanExporter):
    sent = 0

    def export(self, spans):
        result = super().export(spans)
        _Counting.sent += len(spans)
        return result


class _AdkApp:
    """What ``maestro.adapters.adk.instrument`` hands an ADK instance, without maestro:
    ``run(message, run_config=...)`` through a plain ``InMemoryRunner``; ``.text`` is the
    last final response."""

    def __init__(self, agent):
        from google.adk.runners import InMemoryRunner

        self.runner = InMemoryRunner(agent=agent, app_name="native")

    def run(self, message, run_config=None):
        import asyncio
        from types import SimpleNamespace

        from google.genai import types

        async def go():
            session = await self.runner.session_service.create_session(app_name="native", user_id="u")
            text = ""
            async for event in self.runner.run_async(
                    user_id="u", session_id=session.id, run_config=run_config,
                    new_message=types.Content(role="user", parts=[types.Part(text=message)])):
                if event.is_final_response() and event.content and event.content.parts:
                    text = "".join(p.text or "" for p in event.content.parts if not p.thought) or text
            return SimpleNamespace(text=text)

        return asyncio.run(go())


def main(framework: str, instance: str, sim_url: str, seed: int, nonce: str, otlp: str) -> dict:
    provider = TracerProvider(resource=Resource.create({"service.name": f"native-{instance}"}))
    exporter = _Counting(endpoint=otlp)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    inst = get_instance(instance)
    endpoint = resolve_endpoint("sim/strong", sim_url=sim_url, seed=seed, nonce=nonce)
    ctx = RunContext(endpoint=endpoint, tools_enabled=True, seed=seed, max_tokens=MAX_TOKENS, timeout_s=120)
    task = inst.tasks(n=1, seed=0)[0]
    if framework == "langgraph":
        from openinference.instrumentation.langchain import LangChainInstrumentor

        LangChainInstrumentor().instrument(tracer_provider=provider)
        app = inst.build(ctx)
    elif framework == "adk":
        trace.set_tracer_provider(provider)  # ADK's spans go to the global provider
        app = _AdkApp(inst.build(ctx))
    elif framework == "autogen":
        trace.set_tracer_provider(provider)  # so do autogen-core's runtime and agent spans
        app = inst.build(ctx)
    else:
        raise SystemExit(f"unknown framework {framework!r}")
    result = inst.run(app, task, ctx)
    provider.shutdown()
    return {"outcome": result.outcome, "task_id": task.task_id, "spans_sent": _Counting.sent}


if __name__ == "__main__":
    fw, name, url, seed_, nonce_, otlp_ = sys.argv[1:7]
    print(json.dumps(main(fw, name, url, int(seed_), nonce_, otlp_)))
