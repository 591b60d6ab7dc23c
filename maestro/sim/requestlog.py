"""A JSONL log of what the simulated service was asked and what it answered.

Meant for people writing :mod:`policies <maestro.sim.policy>`: one line per request shows
the request exactly as a policy sees it (the normalised :class:`~maestro.sim.policy.SimRequest`:
roles, names, tool calls, tools, schema) next to the reply and the policy that wrote it, so
"how does my framework mark the current agent?" is answered by reading the log rather than
the framework's source.

Every string goes through :class:`maestro.collector.redact.Redactor` (secrets from the
environment and credential-shaped strings) before it is written. Lines are written and
flushed under a lock, so concurrent requests never interleave.

Line kinds (``kind``):

* ``request``: a chat/generate request the engine answered: ``protocol``, ``profile``,
  ``runkey``, ``occurrence``, ``policy``, ``request`` (the normalised request), ``reply``
  (``choices`` with ``text``, ``tool_calls``, ``finish_reason``; or ``error`` for an
  injected 429/500) and ``usage``;
* ``error``: a request answered with an HTTP error before or instead of simulation (wrong
  path, unknown profile, malformed body, failing policy): ``status``, ``protocol``,
  ``method``, ``path`` and ``message``.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["RequestLog", "request_record"]


def _redactor() -> Any:
    try:
        from maestro.collector.redact import Redactor
    except Exception:  # noqa: BLE001 - the sim must not depend on the collector to run
        return None
    return Redactor()


def _scrub(value: Any, redact: Any) -> Any:
    if redact is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {(redact(k) if isinstance(k, str) else k): _scrub(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, redact) for v in value]
    return value


def _message(m: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.name:
        d["name"] = m.name
    if m.tool_calls:
        d["tool_calls"] = [{"id": tc.id, "name": tc.name, "arguments": tc.arguments} for tc in m.tool_calls]
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    return d


def request_record(out: Any, runkey: str) -> dict[str, Any]:
    """The log line for one simulated outcome (:class:`~maestro.sim.engine.SimOutcome`)."""
    req = out.request
    request: dict[str, Any] = {
        "model": req.model,
        "messages": [_message(m) for m in req.messages],
    }
    if req.tools:
        request["tools"] = [dataclasses.asdict(t) for t in req.tools]
    for key in ("tool_choice", "response_schema", "max_tokens"):
        if getattr(req, key) is not None:
            request[key] = getattr(req, key)
    if req.n != 1:
        request["n"] = req.n
    if req.stream:
        request["stream"] = True
    if out.error:
        reply: dict[str, Any] = {"error": out.error}
    else:
        reply = {
            "choices": [
                {
                    "text": c.text,
                    "tool_calls": [{"id": tc.id, "name": tc.name, "arguments": tc.arguments} for tc in c.tool_calls],
                    "finish_reason": c.finish_reason,
                }
                for c in out.choices
            ]
        }
    return {
        "kind": "request",
        "protocol": req.protocol,
        "profile": out.profile.name,
        "runkey": runkey,
        "occurrence": out.occurrence,
        "policy": out.policy_name or None,
        "request": request,
        "reply": reply,
        "usage": {"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens},
    }


class RequestLog:
    """Appends JSONL records to a file (opened lazily, appended to, flushed per line).

    ``target`` is a path or an open text stream (not closed by :meth:`close`).
    """

    def __init__(self, target: str | Path | IO[str], *, redact: bool = True) -> None:
        self._lock = threading.Lock()
        self._redact = _redactor() if redact else None
        if isinstance(target, (str, Path)):
            self.path: Path | None = Path(target)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] | None = None
            self._own = True
        else:
            self.path = None
            self._fh = target
            self._own = False
        self.lines = 0
        """Records written so far."""

    def write(self, record: dict[str, Any]) -> None:
        """Redact and append one record (adds ``ts``, seconds since the epoch)."""
        record = {"ts": round(time.time(), 3), **_scrub(record, self._redact)}
        line = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))
        with self._lock:
            if self._fh is None:
                if self.path is None:
                    return  # a stream target that was closed
                self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the log's life
            self._fh.write(line + "\n")
            self._fh.flush()
            self.lines += 1

    def log_outcome(self, out: Any, runkey: str) -> None:
        self.write(request_record(out, runkey))

    def log_error(self, *, status: int, protocol: str, method: str, path: str, message: str) -> None:
        self.write({"kind": "error", "status": status, "protocol": protocol, "method": method, "path": path, "message": message})

    def close(self) -> None:
        with self._lock:
            if self._own and self._fh is not None:
                self._fh.close()
            self._fh = None  # a file target reopens (for append) on the next write
