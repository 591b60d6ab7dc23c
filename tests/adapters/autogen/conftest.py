"""Shared fixtures of the AutoGen adapter's end-to-end tests: the simulated service, an
independent HTTP body counter, and the span-tree snapshot helper."""

from __future__ import annotations

import httpx2
import pandas as pd
import pytest

from maestro.sim import SimServer


@pytest.fixture(scope="module")
def sim():
    """The simulated service (no latency), one per test module."""
    with SimServer(time_factor=0) as server:
        yield server


@pytest.fixture
def body_counter():
    """Makes an httpx2 client (what openai 3.x uses) whose hooks count request and response
    bodies and calls: an independent tally to check the adapter's per-call byte accounting
    against. Returns ``(client, seen)``; ``seen`` has ``request``, ``response`` and ``calls``."""

    def make():
        seen = {"request": 0, "response": 0, "calls": 0}

        async def on_request(request):
            seen["request"] += len(request.content)
            seen["calls"] += 1

        async def on_response(response):
            await response.aread()
            seen["response"] += len(response.content)

        return httpx2.AsyncClient(event_hooks={"request": [on_request], "response": [on_response]}), seen

    return make


@pytest.fixture
def span_tree():
    """``tree(spans, *columns)``: (depth, name, span_type, *those columns) in depth-first
    order, children by start time then name; a missing column value reads None."""

    def tree(spans, *columns):
        kids = {}
        for r in spans.itertuples():
            kids.setdefault(None if pd.isna(r.parent_span_id) else r.parent_span_id, []).append(r)
        out = []

        def walk(parent, depth):
            for r in sorted(kids.get(parent, []), key=lambda r: (r.start_time_ns, r.name)):
                extra = tuple(None if pd.isna(getattr(r, c)) else getattr(r, c) for c in columns)
                out.append((depth, r.name, r.span_type, *extra))
                walk(r.span_id, depth + 1)

        walk(None, 0)
        return out

    return tree
