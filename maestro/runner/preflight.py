"""Pre-flight: every backend of a study is usable before any run starts.

A study whose every run would end in the same exception (a misspelt profile, a missing
key, a dead endpoint) fails here instead, in one line per backend that names the backend
and what to do.
"""

from __future__ import annotations

import difflib
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from maestro.backends import BackendError, parse_backend, resolve_endpoint

__all__ = ["PreflightError", "preflight", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 3.0
"""How long a real endpoint may take to accept a TCP connection."""


class PreflightError(BackendError):
    """One or more backends cannot be used; the message has one line per backend."""


def _sim_problem(profile: str) -> str | None:
    from maestro.sim.profiles import profile_names

    known = profile_names()
    if profile in known:
        return None
    near = difflib.get_close_matches(profile, known, n=1)
    hint = f"did you mean sim/{near[0]}? " if near else ""
    return f"unknown simulated profile {profile!r}; {hint}known: {', '.join(sorted(known))}"


def _unreachable(url: str) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return f"endpoint URL {url!r} has no host"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return None
    except OSError as e:
        reason = e.strerror or type(e).__name__
        return f"endpoint {parts.scheme}://{host}:{port} is unreachable ({reason})"


_FIX = {
    "openai": "set OPENAI_API_KEY, and OPENAI_BASE_URL for a server other than OpenAI's",
    "gemini": "set GOOGLE_API_KEY (or GEMINI_API_KEY), and GOOGLE_GEMINI_BASE_URL for another server",
}


def preflight(backends: Iterable[str], *, check_reachable: bool = True) -> None:
    """Check that every backend can be used: a known simulated profile; for a provider, a
    key in the environment and (``check_reachable``) an endpoint accepting connections.

    Raises:
        PreflightError: one line per unusable backend, naming it and the fix.
    """
    problems = []
    for spec in dict.fromkeys(backends):
        try:
            b = parse_backend(spec)
        except BackendError as e:
            problems.append(str(e))
            continue
        if b.simulated:
            problem = _sim_problem(b.model)
        else:
            try:
                endpoint = resolve_endpoint(b)
            except BackendError as e:
                problems.append(f"{e} ({_FIX[b.kind]})")
                continue
            problem = _unreachable(endpoint.base_url) if check_reachable else None
            if problem:
                problem += f"; {_FIX[b.kind]}, or start the server"
        if problem:
            problems.append(f"backend {b.spec}: {problem}")
    if problems:
        raise PreflightError("\n".join(problems))
