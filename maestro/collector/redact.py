"""Secret redaction applied to everything maestro writes that may carry free text.

Three sources of secrets are removed:

* values of environment variables whose names contain KEY, TOKEN or SECRET (exact
  substring replacement; values shorter than 6 characters are ignored to avoid
  shredding ordinary words);
* ``Authorization`` / ``api-key`` / ``x-goog-api-key`` header values and ``Bearer`` tokens;
* strings shaped like provider keys (``sk-...``, ``AIza...``) and ``key=`` URL parameters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from maestro.semconv import REDACTED, SECRET_ENV_MARKERS

__all__ = ["Redactor"]

_PATTERNS = [
    re.compile(r"(?i)(authorization|x-goog-api-key|api[-_]?key)(\"?\s*[:=]\s*\"?)(bearer\s+)?[^\s\"',;}]+"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"),
    re.compile(r"(?i)([?&]key=)[^&\s\"']+"),
]


class Redactor:
    """Removes secrets from strings. Build one per run (it snapshots the environment)."""

    def __init__(self, env: Mapping[str, str] | None = None, extra_secrets: list[str] | None = None):
        env = os.environ if env is None else env
        secrets = {
            value
            for name, value in env.items()
            if value and len(value) >= 6 and any(m in name.upper() for m in SECRET_ENV_MARKERS)
        }
        secrets.update(s for s in (extra_secrets or []) if s and len(s) >= 6)
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        """``text`` with every secret replaced by ``[REDACTED]``."""
        if not text:
            return text
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(_replacement, text)
        return text


def _replacement(match: re.Match) -> str:
    groups = match.groups()
    if len(groups) >= 2 and groups[0] and groups[1] is not None:  # "name: value" forms keep the name
        return f"{groups[0]}{groups[1]}{REDACTED}"
    if len(groups) == 1 and groups[0]:  # "?key=" keeps the parameter name
        return f"{groups[0]}{REDACTED}"
    return REDACTED
