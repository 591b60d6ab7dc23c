from __future__ import annotations

import pytest

from maestro.collector.redact import Redactor

ENV = {"OPENAI_API_KEY": "sk-proj-Abcdef0123456789", "GH_TOKEN": "ghp_zyxwvu987654", "MY_SECRET": "hunter2hunter2",
       "HOME": "/root", "SHORT_KEY": "abc"}


@pytest.mark.parametrize(
    "text, gone, kept",
    [
        pytest.param("key is sk-proj-Abcdef0123456789.", ["sk-proj-Abcdef0123456789"], ["key is"], id="env-openai-key"),
        pytest.param("token=ghp_zyxwvu987654", ["ghp_zyxwvu987654"], ["token="], id="env-token"),
        pytest.param("pw hunter2hunter2 ok", ["hunter2hunter2"], ["pw", "ok"], id="env-secret"),
        pytest.param('{"Authorization": "Bearer eyJhbGciOi.J9"}', ["eyJhbGciOi.J9"], ["Authorization"], id="auth-header"),
        pytest.param("x-goog-api-key: AIzaSyA1234567890abcdefghijk", ["AIzaSyA1234567890abcdefghijk"], ["x-goog-api-key"], id="goog-header"),
        pytest.param("GET /v1beta/models?key=AIzaXYZ123&alt=sse", ["AIzaXYZ123"], ["alt=sse"], id="url-key-param"),
        pytest.param("unrelated sk-live-0123456789abcdef", ["sk-live-0123456789abcdef"], ["unrelated"], id="key-shape"),
        pytest.param("my home is /root and abc", [], ["/root", "abc"], id="non-secret-env-and-short-values"),
    ],
)
def test_redaction(text, gone, kept):
    out = Redactor(env=ENV)(text)
    for s in gone:
        assert s not in out
    for s in kept:
        assert s in out
    if gone:
        assert "[REDACTED]" in out


def test_none_and_empty_pass_through():
    r = Redactor(env=ENV)
    assert r(None) is None and r("") == ""
