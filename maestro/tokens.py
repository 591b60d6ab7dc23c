"""The one token-counting rule maestro uses wherever it must count tokens itself.

Rule: a text's token count is the number of matches of ``\\w+|[^\\w\\s]`` (each run of
word characters is one token, each other non-space character is one token). A chat
request's input tokens are the sum over its messages of ``tokens(role) + tokens(content)
+ 2`` plus the tokens of the JSON of its tool declarations. A completion's output tokens
are the tokens of its text and of the JSON of its tool-call arguments, plus 1 for the
end-of-sequence token every completion emits (so an empty answer still costs 1 token, as
with real providers). The simulated service
reports usage by this rule for both protocols, and the collector uses it to estimate
usage when a real provider reports none (such spans carry ``maestro.usage.estimated``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["count_tokens", "count_message_tokens", "MESSAGE_OVERHEAD_TOKENS", "END_OF_SEQUENCE_TOKENS"]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")

MESSAGE_OVERHEAD_TOKENS = 2
"""Tokens added per chat message for its framing."""

END_OF_SEQUENCE_TOKENS = 1
"""Tokens added to every completion for its end-of-sequence token."""


def count_tokens(text: str | None) -> int:
    """Tokens in ``text`` by maestro's rule (0 for None or empty)."""
    if not text:
        return 0
    return len(_TOKEN_RE.findall(text))


def count_message_tokens(
    messages: Iterable[tuple[str, str]], tools: Iterable[Mapping[str, Any]] | None = None
) -> int:
    """Input tokens of a chat request: ``messages`` are ``(role, content)`` pairs."""
    total = 0
    for role, content in messages:
        total += count_tokens(role) + count_tokens(content) + MESSAGE_OVERHEAD_TOKENS
    if tools:
        total += count_tokens(json.dumps(list(tools), sort_keys=True))
    return total
