"""Secret redaction applied to everything maestro writes that may carry free text.

Two sources of secrets are removed.

**Values of secret environment variables** (snapshotted when the :class:`Redactor` is built).

* A variable is secret-*named* (:func:`is_secret_env_name`) when its upper-cased name
  contains one of :data:`~maestro.semconv.SECRET_ENV_SUBSTRINGS` anywhere (``KEY``,
  ``TOKEN``, ``SECRET``, ``PASSWORD``, ``PASSWD``, ``PASSPHRASE``, ``CREDENTIAL``: so
  ``OPENAI_API_KEY``, ``PGPASSWORD``, ``GOOGLE_APPLICATION_CREDENTIALS``), or has one of
  :data:`~maestro.semconv.SECRET_ENV_WORDS` as a whole word, words being split at anything
  that is not a letter (``PASS``, ``PWD``, ``AUTH``, ``PRIVATE``, ``DSN``...: so ``DB_PASS``,
  ``MYSQL_PWD``, ``BASIC_AUTH``, ``SENTRY_DSN``, but not ``BYPASS``, ``COMPASS_DIR``,
  ``GIT_AUTHOR_NAME``). The names in :data:`~maestro.semconv.SECRET_ENV_EXCLUDED` (``PWD``,
  ``OLDPWD``, ``SSH_AUTH_SOCK``) never are.
* Its value counts as a secret (:func:`is_secret_value`) when, stripped, it is at least 6
  characters long, is not a plain number, version or time (``12``, ``3600``, ``1.2.3``),
  and is not one plain word of letters shorter than 10 (lower, upper or title case: ``true``, ``disabled``,
  ``github``, ``OFF``). So ``PASSWORD_MIN_LENGTH=12`` or ``AUTH_MODE=disabled`` leave text
  alone, while ``hunter2hunter2`` or ``sk-...`` are removed.
* A secret is removed verbatim, JSON-escaped and URL-encoded, and, when it is at least 8
  characters long, also after the transformations a model or a log applies: any case, and
  each run of separators (``- _ . / space``) between its chunks replaced by any other run or
  by none (``sk-SECRETTEST123`` as ``sk SECRETTEST123``, ``skSECRETTEST123``,
  ``SK_SECRETTEST123``). Its longest alphanumeric chunk is removed on its own, in any case,
  when that chunk is at least 8 characters and mixes letters and digits, or is at least 16
  letters (``secrettest123`` quoted without the ``sk-`` prefix).

**Strings shaped like credentials**, wherever they appear (env or not): ``Authorization`` /
``api-key`` / ``x-goog-api-key`` / ``password`` / ``client_secret`` / ``access_token``...
``name: value`` or ``name=value`` pairs (the name is kept), ``Bearer <token>``, OpenAI-style
``sk-...`` (``sk-proj-...``, Stripe ``sk_live_...``), Google ``AIza...``, GitHub
``ghp_...``/``github_pat_...``, AWS ``AKIA...``/``ASIA...`` key ids, JWTs
(``eyJ...``.``...``.``...``), PEM private-key blocks, the password of
``scheme://user:password@host`` URLs and ``?key=`` / ``&token=`` URL parameters.

Cost: redaction runs on every captured attribute, so each call first checks cheap
substrings (``str.lower`` once, then ``in`` tests and literal-prefixed regexes) and runs a
full pattern only when its anchor occurs in the text.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from maestro.semconv import (
    REDACTED,
    SECRET_ENV_EXCLUDED,
    SECRET_ENV_SUBSTRINGS,
    SECRET_ENV_WORDS,
)

__all__ = ["Redactor", "is_secret_env_name", "is_secret_value", "MIN_SECRET_LEN", "MIN_FUZZY_LEN"]

MIN_SECRET_LEN = 6
"""Shortest env value treated as a secret (shorter ones would shred ordinary words)."""

MIN_FUZZY_LEN = 8
"""Shortest secret also matched in any case and with its separators changed, and shortest
alphanumeric chunk of a secret matched on its own."""

_SEP_SPLIT = re.compile(r"[-_./\s]+")
_SEP_RUN = r"[-_./\s]{0,5}"  # what a separator run in a secret may become (any, or none)
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,:_ ]*")
_NAME_WORDS = re.compile(r"[A-Z]+")
_FLAGS = re.IGNORECASE | re.ASCII


# -- which env variables are secrets --------------------------------------------------------


def is_secret_env_name(name: str) -> bool:
    """True when the variable ``name`` holds a secret by its name (see the module docstring)."""
    upper = name.upper()
    if upper in SECRET_ENV_EXCLUDED:
        return False
    if any(m in upper for m in SECRET_ENV_SUBSTRINGS):
        return True
    words = _NAME_WORDS.findall(upper)
    return any(w in SECRET_ENV_WORDS for w in words)


def is_secret_value(value: str | None) -> bool:
    """True when ``value`` is secret-like enough to be removed wherever it appears: at least
    :data:`MIN_SECRET_LEN` characters, not a plain number/version/time, and not one plain
    word of letters (lower, upper or title case) shorter than 10."""
    if not value:
        return False
    v = value.strip()
    if len(v) < MIN_SECRET_LEN:
        return False
    if _PLAIN_NUMBER.fullmatch(v):
        return False
    if v.isalpha() and v.isascii() and (v.islower() or v.isupper() or v.istitle()) and len(v) < 10:
        return False
    return True


# -- one secret ----------------------------------------------------------------------------


def _standalone_chunk(value: str) -> str | None:
    """The longest alphanumeric chunk of ``value`` when it is distinctive enough to be
    removed on its own (>= 8 chars mixing letters and digits, or >= 16 letters)."""
    chunks = _ALNUM.findall(value)
    if not chunks:
        return None
    best = max(chunks, key=len)
    if len(best) < MIN_FUZZY_LEN:
        return None
    has_digit = any(c.isdigit() for c in best)
    has_alpha = any(c.isalpha() for c in best)
    if (has_digit and has_alpha) or (has_alpha and len(best) >= 16):
        return best
    return None


@dataclass(frozen=True)
class _Secret:
    value: str
    probe: str
    """Lower-cased text that every form of this secret contains (its longest alphanumeric
    chunk): when it is not in the lower-cased text, nothing else is tried."""
    exact: tuple[str, ...]
    """Case-sensitive forms: the value, JSON-escaped, URL-encoded."""
    pattern: re.Pattern[str] | None
    """Case-insensitive, separator-free forms, and the standalone chunk."""

    @classmethod
    def build(cls, value: str) -> _Secret:
        chunks = _ALNUM.findall(value)
        probe = max(chunks, key=len).lower() if chunks else ""  # no chunk: always try
        exact = [value]
        for variant in (json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1], quote(value, safe="")):
            if variant not in exact:
                exact.append(variant)
        alternatives = []
        if len(value) >= MIN_FUZZY_LEN:
            parts = [p for p in _SEP_SPLIT.split(value) if p]
            if parts:
                alternatives.append(_SEP_RUN.join(re.escape(p) for p in parts))
        chunk = _standalone_chunk(value)
        if chunk is not None and re.escape(chunk) not in alternatives:
            alternatives.append(re.escape(chunk))
        pattern = re.compile("|".join(alternatives), _FLAGS) if alternatives else None
        return cls(value, probe, tuple(sorted(exact, key=len, reverse=True)), pattern)

    def redact(self, text: str) -> str:
        for form in self.exact:
            if form in text:
                text = text.replace(form, REDACTED)
        if self.pattern is not None:
            text = self.pattern.sub(REDACTED, text)
        return text


# -- credential shapes ---------------------------------------------------------------------
#
# Speed: sre finds a pattern that starts with a literal with a fast substring search, but
# scans position by position otherwise (a leading ``\b``, a character class or
# IGNORECASE all lose that). So patterns start with a literal; a needed word boundary is
# checked in the replacement instead, and case-insensitive shapes are written in lower case
# and matched on the lower-cased text, their spans applied to the original.


def _keep_first_group(text: str, m: re.Match[str]) -> str:
    return text[m.start(1) : m.end(1)] + REDACTED


def _whole(text: str, m: re.Match[str]) -> str:
    return REDACTED


def _whole_if_word_start(text: str, m: re.Match[str]) -> str:
    """Redact only when the match starts a word (the pattern's missing leading ``\b``)."""
    i = m.start()
    if i > 0 and text[i - 1].isalnum():
        return text[i : m.end()]
    return REDACTED


def _lookbehinds(core: str, prefixes: tuple[str, ...]) -> str:
    """``core`` preceded by one of ``prefixes``, glued or joined by ``-``/``_``: a literal
    first (fast search) and fixed-width look-behinds for the prefix."""
    alts = []
    for p in prefixes:
        alts += [f"(?<={p}{core})", f"(?<={p}[-_]{core})"]
    return f"{core}(?:{'|'.join(alts)})"


# ``name: value`` / ``name=value`` in JSON, Python reprs, escaped JSON, headers and env files;
# the value may follow a ``Bearer``/``Basic``/``token`` scheme word.
_ASSIGN_VALUE = r"""(\\?["']?\s*[:=]\s*\\?["']?)(?:(?:bearer|basic|token)\s+)?(?!\[redacted\])[^\s"'\\,;}&]+"""
_ASSIGN_NAMES = (
    ("key", _lookbehinds("key", ("api", "secret", "access", "private"))),
    ("token", _lookbehinds("token", ("api", "access", "refresh", "auth", "id", "session", "bearer"))),
    ("secret", _lookbehinds("secret", ("client",))),
    ("pass", r"pass(?:word|wd|phrase)"),
    ("authoriz", r"authorization"),
)


@dataclass(frozen=True)
class _Shape:
    name: str
    present: Callable[[str, str], bool]
    """(text, lower-cased text) -> may the pattern match? Cheap, never a false negative."""
    pattern: re.Pattern[str]
    repl: Callable[[str, re.Match[str]], str]
    """(original text, match) -> replacement."""
    on_lower: bool = False
    """The pattern is lower-case and runs on the lower-cased text."""
    fallback: re.Pattern[str] | None = None
    """The same pattern with IGNORECASE, for texts whose lower-casing changes their length."""

    @classmethod
    def make(cls, name: str, present: Callable[[str, str], bool], source: str, repl, *, on_lower: bool = False, flags: int = 0) -> _Shape:
        fallback = re.compile(source, flags | re.IGNORECASE) if on_lower else None
        return cls(name, present, re.compile(source, flags), repl, on_lower, fallback)

    def apply(self, text: str, low: str) -> str:
        if self.on_lower and len(low) != len(text):
            assert self.fallback is not None
            return self.fallback.sub(lambda m: self.repl(text, m), text)
        pieces: list[str] = []
        last = 0
        for m in self.pattern.finditer(low if self.on_lower else text):
            pieces.append(text[last : m.start()])
            pieces.append(self.repl(text, m))
            last = m.end()
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)


_SHAPES: tuple[_Shape, ...] = (
    *(
        _Shape.make(
            f"assignment-{anchor}",
            (lambda a: lambda t, low: (":" in t or "=" in t) and a in low)(anchor),
            f"({names}){_ASSIGN_VALUE}",
            lambda text, m: text[m.start(1) : m.end(2)] + REDACTED,
            on_lower=True,
        )
        for anchor, names in _ASSIGN_NAMES
    ),
    _Shape.make("bearer", lambda t, low: "bearer" in low, r"bearer\s+[a-z0-9._~+/=-]{6,}", _whole_if_word_start, on_lower=True),
    _Shape.make("openai", lambda t, low: "sk-" in t, r"sk-[A-Za-z0-9_-]{8,}", _whole_if_word_start),
    _Shape.make(
        "stripe", lambda t, low: "_" in t and ("k_live_" in t or "k_test_" in t), r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{8,}", _whole
    ),
    _Shape.make("google", lambda t, low: "AIza" in t, r"AIza[0-9A-Za-z_-]{20,}", _whole_if_word_start),
    _Shape.make(
        "github", lambda t, low: "_" in t, r"g(?:h[pousr]_[A-Za-z0-9]{16,}|ithub_pat_[A-Za-z0-9_]{20,})", _whole_if_word_start
    ),
    _Shape.make("aws", lambda t, low: "AKIA" in t or "ASIA" in t, r"A(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Za-z])", _whole_if_word_start),
    _Shape.make(
        "jwt", lambda t, low: "eyJ" in t, r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*", _whole_if_word_start
    ),
    _Shape.make(
        "pem",
        lambda t, low: "-" in t and "PRIVATE KEY-----" in t,
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        _whole,
        flags=re.DOTALL,
    ),
    _Shape.make("url-credentials", lambda t, low: "@" in t, r"(://[^\s/:@]+:)[^\s/@]+(?=@)", _keep_first_group),
    *(
        _Shape.make(
            f"url-parameter{lead}",
            (lambda c: lambda t, low: "=" in t and c in t)(lead),
            rf"(\{lead}(?:key|api[-_]?key|token|access[-_]?token|password|secret)=)[^&\s\"'#]+",
            _keep_first_group,
            on_lower=True,
        )
        for lead in "?&"
    ),
)


class Redactor:
    """Removes secrets from strings. Build one per run (it snapshots the environment).

    ``redactor(text)`` returns ``text`` with every secret replaced by ``[REDACTED]``.
    """

    def __init__(self, env: Mapping[str, str] | None = None, extra_secrets: list[str] | None = None):
        env = os.environ if env is None else env
        values = {value.strip() for name, value in env.items() if is_secret_env_name(name) and is_secret_value(value)}
        values.update(s.strip() for s in (extra_secrets or []) if s and len(s.strip()) >= MIN_SECRET_LEN)
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = tuple(_Secret.build(v) for v in sorted(values, key=lambda v: (-len(v), v)))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret values this redactor removes (longest first)."""
        return tuple(s.value for s in self._secrets)

    def __call__(self, text: str | None) -> str | None:
        """``text`` with every secret replaced by ``[REDACTED]``."""
        if not text:
            return text
        low = text.lower()
        for secret in self._secrets:
            if secret.probe in low:
                new = secret.redact(text)
                if new is not text and new != text:
                    text, low = new, new.lower()
        for shape in _SHAPES:
            if shape.present(text, low):
                new = shape.apply(text, low)
                if new is not text:
                    text, low = new, new.lower()
        return text
