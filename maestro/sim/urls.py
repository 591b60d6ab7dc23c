"""URL scheme of the simulated LLM service.

Every run talks to its own base URL, ``{server_url}/sim/{profile}/{runkey}``:

* ``profile`` names a :class:`~maestro.sim.profiles.Profile` (``strong``, ``flaky`` ...);
* ``runkey`` is ``{seed}`` or ``{seed}.{nonce}``. Only the seed feeds the random draws; the
  nonce just separates attempts of one run so the service's occurrence counters restart.

Below that base the service speaks two protocols:

* OpenAI-compatible: ``{base}/v1/chat/completions``, ``{base}/v1/embeddings``, ``{base}/v1/models``;
* Gemini REST: ``{base}/v1beta/models/{model}:generateContent`` (and ``:streamGenerateContent``,
  ``:embedContent``, ``:batchEmbedContents``), also under ``v1``/``v1alpha``/``v1beta1`` and
  Vertex-style ``{base}/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:...``.

The OpenAI clients take ``openai_base_url(...)`` (it ends in ``/v1``); google-genai takes
``gemini_base_url(...)`` as ``HttpOptions(base_url=...)`` and appends ``/v1beta/models/...``
itself (checked against google-genai 2.34, with and without a trailing slash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "SimRunKey",
    "make_runkey",
    "sim_base_url",
    "openai_base_url",
    "gemini_base_url",
    "parse_sim_path",
    "SimPath",
    "SimUrl",
    "parse_sim_url",
    "PROFILE_RE",
    "NONCE_RE",
]

PROFILE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
"""What a profile name may contain (it is one URL path segment)."""

NONCE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
"""What a nonce may contain (no dot: the dot separates it from the seed)."""

_RUNKEY_RE = re.compile(r"^(?P<seed>-?[0-9]+)(?:\.(?P<nonce>[A-Za-z0-9_-]+))?$")
_PATH_RE = re.compile(r"^/sim/(?P<profile>[^/]+)/(?P<runkey>[^/]+)(?P<rest>/.*)?$")


@dataclass(frozen=True)
class SimRunKey:
    """The run part of a simulated-service URL."""

    seed: int
    """The run's seed: the only part that feeds the random draws."""
    nonce: str | None = None
    """Separates attempts of one run (restarts occurrence counters); never feeds the rng."""

    def __str__(self) -> str:
        return f"{self.seed}" if self.nonce is None else f"{self.seed}.{self.nonce}"

    @classmethod
    def parse(cls, text: str) -> SimRunKey:
        """Parse ``{seed}`` or ``{seed}.{nonce}``; ValueError with the reason otherwise."""
        m = _RUNKEY_RE.match(text)
        if not m:
            raise ValueError(
                f"bad runkey {text!r}: expected '{{seed}}' or '{{seed}}.{{nonce}}' "
                "with an integer seed and a nonce of [A-Za-z0-9_-]+"
            )
        return cls(int(m.group("seed")), m.group("nonce"))


@dataclass(frozen=True)
class SimPath:
    """A request path split into its parts."""

    profile: str
    """Profile name as written in the URL (not yet checked against the registry)."""
    runkey: str
    """Raw runkey text (parse it with :meth:`SimRunKey.parse`)."""
    rest: str
    """The protocol path below the run base, e.g. ``/v1/chat/completions`` ('' if none)."""


def make_runkey(seed: int, nonce: str | None = None) -> str:
    """``{seed}`` or ``{seed}.{nonce}``, validated."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if nonce is not None and not NONCE_RE.match(nonce):
        raise ValueError(f"bad nonce {nonce!r}: use only [A-Za-z0-9_-]")
    return str(SimRunKey(seed, nonce))


def sim_base_url(server_url: str, profile: str, seed: int, nonce: str | None = None) -> str:
    """``{server_url}/sim/{profile}/{runkey}`` (no trailing slash)."""
    if not PROFILE_RE.match(profile):
        raise ValueError(f"bad profile name {profile!r}: use only [A-Za-z0-9_.-]")
    return f"{server_url.rstrip('/')}/sim/{profile}/{make_runkey(seed, nonce)}"


def openai_base_url(server_url: str, profile: str, seed: int, nonce: str | None = None) -> str:
    """Base URL for OpenAI-compatible clients; ends with ``/v1``."""
    return sim_base_url(server_url, profile, seed, nonce) + "/v1"


def gemini_base_url(server_url: str, profile: str, seed: int, nonce: str | None = None) -> str:
    """Base URL for google-genai ``HttpOptions(base_url=...)`` (the client appends ``/v1beta/...``)."""
    return sim_base_url(server_url, profile, seed, nonce)


def parse_sim_path(path: str) -> SimPath | None:
    """Split a request path (query already removed) into profile, runkey and rest.

    Repeated slashes are collapsed first, so a client that joins a base URL ending in ``/``
    with a path starting in ``/`` still lands. Returns None when the path is not under
    ``/sim/``.
    """
    path = re.sub(r"/{2,}", "/", path)
    m = _PATH_RE.match(path)
    if not m:
        return None
    rest = (m.group("rest") or "").rstrip("/")
    return SimPath(m.group("profile"), m.group("runkey"), rest)


@dataclass(frozen=True)
class SimUrl:
    """A full simulated-service URL split into its parts."""

    server_url: str
    """``scheme://host:port`` (plus any prefix before ``/sim/``)."""
    profile: str
    """Profile name."""
    seed: int
    """The run's seed."""
    nonce: str | None
    """The attempt nonce, if any."""
    rest: str
    """The protocol path below the run base ('' for a bare base URL, ``/v1`` for an OpenAI base)."""


def parse_sim_url(url: str) -> SimUrl:
    """Inverse of :func:`openai_base_url` / :func:`gemini_base_url` (and full endpoint URLs).

    ValueError when ``url`` is not a simulated-service URL.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = re.sub(r"/{2,}", "/", parts.path)
    idx = path.find("/sim/")
    if not parts.scheme or not parts.netloc or idx < 0:
        raise ValueError(f"not a simulated-service URL: {url!r}")
    sp = parse_sim_path(path[idx:])
    if sp is None:
        raise ValueError(f"not a simulated-service URL: {url!r}")
    rk = SimRunKey.parse(sp.runkey)
    server = f"{parts.scheme}://{parts.netloc}{path[:idx]}"
    return SimUrl(server, sp.profile, rk.seed, rk.nonce, sp.rest)
