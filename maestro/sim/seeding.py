"""Deterministic seeding for the simulated service.

A reply must depend only on (run seed, profile, conversation, how many times that same
conversation was already seen in the run). So the rng seed of a request is a blake2b hash
of exactly those, never Python's ``hash()`` (salted per process), so replies repeat across
server restarts and processes.

Nothing depends on the order in which *different* requests arrive: the occurrence count is
kept per (profile, runkey, canonical request), so a MAS that sends its calls concurrently
gets the same replies (errors, stalls and latencies included, which are drawn from the same
per-request rng) however they interleave. Only identical requests in flight together are
interchangeable: which caller gets which occurrence follows arrival order, but the set of
replies is fixed.

The occurrence counters belong to the runkey (``{seed}.{nonce}``). Two runs that use the
same runkey on one server share them, so an identical request sent by both gets occurrence 0
in whichever run sends it first and 1 in the other: each run's replies then depend on the
other run's progress. Every run (and every attempt of it) must therefore use its own nonce,
e.g. :func:`run_nonce`; runs may share the *seed* freely (common random numbers).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import threading
from typing import Any

from maestro.sim.policy import SimRequest

__all__ = ["canonical_request", "stable_seed", "stable_hex", "rng_for", "OccurrenceCounter", "run_nonce"]

# Fields left out of the key: ``stream`` (a streamed and a plain request are the same
# question) and ``protocol`` (the same conversation over OpenAI or Gemini REST gets the same
# answer, which also makes cross-protocol comparisons possible).
_KEY_EXCLUDED = ("stream", "protocol")


def canonical_request(req: SimRequest) -> str:
    """Canonical JSON of ``req`` (sorted keys, no whitespace) minus stream and protocol."""
    d = dataclasses.asdict(req)
    for k in _KEY_EXCLUDED:
        d.pop(k, None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(parts: tuple[Any, ...], size: int) -> bytes:
    h = hashlib.blake2b(digest_size=size, person=b"maestro-sim")
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode("utf-8")
        # Length-prefix each part so ("ab", "c") and ("a", "bc") differ.
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.digest()


def stable_seed(*parts: Any) -> int:
    """A 128-bit integer from ``parts`` (stable across processes and platforms)."""
    return int.from_bytes(_digest(parts, 16), "big")


def stable_hex(*parts: Any, n: int = 24) -> str:
    """``n`` hex characters derived from ``parts`` (for ids)."""
    return _digest(parts, max(1, (n + 1) // 2)).hex()[:n]


def rng_for(*parts: Any) -> random.Random:
    """A ``random.Random`` seeded by :func:`stable_seed` of ``parts``."""
    return random.Random(stable_seed(*parts))


class OccurrenceCounter:
    """Thread-safe count of how often each request key was seen on one server.

    Keys are stored as 16-byte digests so long conversations don't pile up in memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[bytes, int] = {}

    def next(self, *key: Any) -> int:
        """How many times ``key`` was seen before this call (0 the first time)."""
        k = _digest(key, 16)
        with self._lock:
            n = self._counts.get(k, 0)
            self._counts[k] = n + 1
        return n

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)


_NONCE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def run_nonce(run_id: str, attempt: int | str = 1) -> str:
    """A runkey nonce of its own for one attempt of the run ``run_id``.

    Readable (the run id with unsafe characters replaced, cut to 48 characters) plus a hash
    of the full id, so distinct runs never share the service's occurrence counters even when
    their ids slug alike. The nonce never feeds the rng: replies still depend on the seed only.

    >>> run_nonce("crag.sim-strong.tools.qa-h1-0029.r000", 1)  # doctest: +ELLIPSIS
    'crag_sim-strong_tools_qa-h1-0029_r000-...-a1'
    """
    slug = _NONCE_UNSAFE.sub("_", str(run_id)).strip("_")[:48] or "run"
    return f"{slug}-{stable_hex('run-nonce', run_id, n=10)}-a{_NONCE_UNSAFE.sub('_', str(attempt))}"
