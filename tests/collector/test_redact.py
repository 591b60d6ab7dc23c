from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from maestro.collector.redact import Redactor, is_secret_env_name, is_secret_value

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


# -- which env variables hold secrets ------------------------------------------------------


@pytest.mark.parametrize(
    "name, secret",
    [
        pytest.param("OPENAI_API_KEY", True, id="key"),
        pytest.param("HF_TOKEN", True, id="token"),
        pytest.param("client_secret", True, id="secret-lowercase"),
        pytest.param("DATABASE_PASSWORD", True, id="password"),
        pytest.param("PGPASSWORD", True, id="password-glued"),
        pytest.param("SMTP_PASSWD", True, id="passwd"),
        pytest.param("DB_PASS", True, id="pass-word"),
        pytest.param("PASS", True, id="pass-alone"),
        pytest.param("MYSQL_PWD", True, id="pwd-word"),
        pytest.param("GOOGLE_APPLICATION_CREDENTIALS", True, id="credential"),
        pytest.param("AWS_CREDS", True, id="creds"),
        pytest.param("BASIC_AUTH", True, id="auth-word"),
        pytest.param("HTTP_AUTHORIZATION", True, id="authorization-word"),
        pytest.param("GITHUB_OAUTH", True, id="oauth-word"),
        pytest.param("SIGNING_PRIVATE_PEM", True, id="private-word"),
        pytest.param("SENTRY_DSN", True, id="dsn-word"),
        pytest.param("DB2_PASS", True, id="word-split-at-digits"),
        pytest.param("PATH", False, id="path"),
        pytest.param("HOME", False, id="home"),
        pytest.param("PWD", False, id="pwd-is-the-cwd"),
        pytest.param("OLDPWD", False, id="oldpwd"),
        pytest.param("SSH_AUTH_SOCK", False, id="ssh-auth-sock"),
        pytest.param("BYPASS_CACHE", False, id="bypass"),
        pytest.param("COMPASS_DIR", False, id="compass"),
        pytest.param("PASSENGER_COUNT", False, id="passenger"),
        pytest.param("GIT_AUTHOR_NAME", False, id="git-author"),
        pytest.param("XAUTHORITY", False, id="xauthority"),
        pytest.param("PRIVATEER_MODE", False, id="privateer"),
    ],
)
def test_secret_env_names(name, secret):
    assert is_secret_env_name(name) is secret


@pytest.mark.parametrize(
    "value, secret",
    [
        pytest.param("hunter2hunter2", True, id="letters-and-digits"),
        pytest.param("sk-x12345", True, id="key-shape"),
        pytest.param("p@ss:w0rd", True, id="punctuation"),
        pytest.param("correcthorsebatterystaple", True, id="long-passphrase"),
        pytest.param("Tr0ub4dor&3", True, id="classic"),
        pytest.param("abc", False, id="too-short"),
        pytest.param("12", False, id="number-short"),
        pytest.param("1234567890", False, id="plain-number"),
        pytest.param("3600.5", False, id="decimal"),
        pytest.param("1.2.3", False, id="version"),
        pytest.param("12:30:00", False, id="time"),
        pytest.param("disabled", False, id="lowercase-word"),
        pytest.param("ENABLED", False, id="uppercase-word"),
        pytest.param("Github", False, id="titlecase-word"),
        pytest.param("   ", False, id="blank"),
        pytest.param(None, False, id="none"),
    ],
)
def test_secret_values(value, secret):
    assert is_secret_value(value) is secret


def test_new_secret_names_redacted_and_non_secrets_untouched():
    env = {
        "DB_PASS": "Zq8-vault-Pw41",
        "MYSQL_PWD": "Kx93mmQ7rt",
        "SENTRY_DSN": "https://a1b2c3d4e5f6@o9.ingest.example.io/42",
        "PASSWORD_MIN_LENGTH": "12",
        "AUTH_MODE": "disabled",
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "PWD": "/work/main/project",
        "TOKENIZERS_PARALLELISM": "false",
    }
    r = Redactor(env=env)
    text = ("conn Zq8-vault-Pw41 / Kx93mmQ7rt / https://a1b2c3d4e5f6@o9.ingest.example.io/42; "
            "min length 12, auth disabled, by Ada Lovelace in /work/main/project, parallelism false")
    out = r(text)
    for secret in ("Zq8-vault-Pw41", "Kx93mmQ7rt", "a1b2c3d4e5f6"):
        assert secret not in out
    for kept in ("min length 12", "auth disabled", "Ada Lovelace", "/work/main/project", "parallelism false"):
        assert kept in out
    assert set(r.secrets) == {"Zq8-vault-Pw41", "Kx93mmQ7rt", "https://a1b2c3d4e5f6@o9.ingest.example.io/42"}


# -- a secret after the transformations a model or a log applies ------------------------------

SK = "sk-SECRETTEST123"
VAULT = "vault-Q7x9Kp2mZr"  # no provider shape: only the env rule can catch it


@pytest.mark.parametrize(
    "secret, form",
    [
        pytest.param(SK, "sk-SECRETTEST123", id="sk-verbatim"),
        pytest.param(SK, "sk SECRETTEST123", id="sk-space"),
        pytest.param(SK, "skSECRETTEST123", id="sk-no-separator"),
        pytest.param(SK, "SK_SECRETTEST123", id="sk-upper-underscore"),
        pytest.param(SK, "Sk.secrettest123", id="sk-dot-lower"),
        pytest.param(SK, "sk - SECRETTEST123", id="sk-spaced-dash"),
        pytest.param(SK, "secrettest123", id="sk-chunk-lowercase"),
        pytest.param(SK, "SECRETTEST123", id="sk-chunk-alone"),
        pytest.param(VAULT, "vault-Q7x9Kp2mZr", id="vault-verbatim"),
        pytest.param(VAULT, "VAULT-Q7X9KP2MZR", id="vault-upper"),
        pytest.param(VAULT, "vault_q7x9kp2mzr", id="vault-lower-underscore"),
        pytest.param(VAULT, "vault/Q7x9Kp2mZr", id="vault-slash"),
        pytest.param(VAULT, "vaultQ7x9Kp2mZr", id="vault-glued"),
        pytest.param(VAULT, "q7x9kp2mzr", id="vault-chunk"),
        pytest.param("pa\"ss\\w0rd-99x", json.dumps("pa\"ss\\w0rd-99x")[1:-1], id="json-escaped"),
        pytest.param("p@ss/w0rd:99x", quote("p@ss/w0rd:99x", safe=""), id="url-encoded"),
    ],
)
def test_secret_after_transformations(secret, form):
    r = Redactor(env={"MY_SECRET": secret})
    out = r(f"the model said: {form} -- end")
    assert out == "the model said: [REDACTED] -- end", out


def test_short_secret_is_matched_only_verbatim():
    r = Redactor(env={"APP_PASS": "Ab1xy9"})  # 6 chars: exact only, no case-folding
    assert r("code Ab1xy9 here") == "code [REDACTED] here"
    assert r("code ab1xy9 here") == "code ab1xy9 here"


def test_longest_secret_removed_whole():
    r = Redactor(env={"A_TOKEN": "q1w2e3r4t5", "B_TOKEN": "q1w2e3r4t5-extra-9z"})
    assert r("use q1w2e3r4t5-extra-9z now") == "use [REDACTED] now"


# -- credential shapes, with no environment at all ---------------------------------------------

_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4x\nq9Zt\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "text, secret, kept",
    [
        pytest.param("use sk-proj-Ab12Cd34Ef56Gh78 now", "sk-proj-Ab12Cd34Ef56Gh78", ["use", "now"], id="openai-proj"),
        pytest.param("key sk-Zy98Xw76Vu54Ts32", "sk-Zy98Xw76Vu54Ts32", ["key"], id="openai"),
        pytest.param("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["stripe"], id="stripe"),
        pytest.param("g AIzaSyD-1234567890abcdefghijklmnopqrstu x", "AIzaSyD-1234567890abcdefghijklmnopqrstu", ["g", " x"], id="google"),
        pytest.param("hdr Bearer abc.DEF-123_xyz~ end", "abc.DEF-123_xyz~", ["hdr", "end"], id="bearer-text"),
        pytest.param("authorization: bearer tok_9a8b7c6d", "tok_9a8b7c6d", ["authorization: "], id="bearer-header"),
        pytest.param("Proxy-Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", ["Proxy-Authorization: "], id="basic-header"),
        pytest.param("gh ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 ok", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", ["gh ", " ok"], id="github-classic"),
        pytest.param("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", ["pat"], id="github-fine-grained"),
        pytest.param("aws AKIAIOSFODNN7EXAMPLE.", "AKIAIOSFODNN7EXAMPLE", ["aws", "."], id="aws-key-id"),
        pytest.param("sts ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", ["sts"], id="aws-temporary"),
        pytest.param(f"jwt {_JWT} end", _JWT, ["jwt", "end"], id="jwt"),
        pytest.param(f"pem {_PEM} end", "MIIEowIBAAKCAQEAx4x", ["pem", "end"], id="pem"),
        pytest.param("db postgres://ada:s3cr3t-Pw@db.local:5432/x", "s3cr3t-Pw", ["postgres://ada:", "@db.local:5432/x"], id="url-credentials"),
        pytest.param("GET /a?access_token=xyz789abc&page=2", "xyz789abc", ["/a?access_token=", "&page=2"], id="url-token-param"),
        pytest.param('{"password": "Hunter42!", "user": "ada"}', "Hunter42!", ['"password": "', '"user": "ada"'], id="json-password"),
        pytest.param("{'client_secret': 'cs-778899aa'}", "cs-778899aa", ["{'client_secret': '"], id="repr-client-secret"),
        pytest.param('{\\"api_key\\": \\"k-55aa66bb\\"}', "k-55aa66bb", ['{\\"api_key\\": \\"'], id="escaped-json-api-key"),
        pytest.param("DB_PASSWORD=Sup3rS3cret", "Sup3rS3cret", ["DB_PASSWORD="], id="env-file-password"),
        pytest.param("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG", ["aws_secret_access_key = "], id="aws-secret-assignment"),
        pytest.param("refresh_token: 1//0gabcdef", "1//0gabcdef", ["refresh_token: "], id="refresh-token-assignment"),
        pytest.param("İstanbul Authorization: Bearer abcdef123456", "abcdef123456", ["İstanbul Authorization: "], id="non-ascii-lowercase-length"),
    ],
)
def test_credential_shapes(text, secret, kept):
    out = Redactor(env={})(text)
    assert secret not in out, out
    assert "[REDACTED]" in out
    for k in kept:
        assert k in out, out


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The task-oriented agent found the key to the puzzle.", id="prose-key"),
        pytest.param("max_tokens: 512, prompt_tokens=12, total_tokens = 524", id="token-counts"),
        pytest.param("Ask about the password policy: it must be long.", id="password-prose"),
        pytest.param("The secret: nobody knew. The bearer of bad news left.", id="secret-bearer-prose"),
        pytest.param("Basic arithmetic: 2+2=4; risk-based skeleton; desk-sized skeins", id="basic-and-sk-inside-words"),
        pytest.param("Contact ada@example.com or see https://example.com/a?b=1&c=2#top", id="email-and-url"),
        pytest.param("An ASIAN market and AKIA are names; eyJ alone; ghp_short", id="shape-prefixes-alone"),
        pytest.param('{"role": "user", "content": "Where is Canberra?", "tool_call_id": "call_abc123"}', id="chat-json"),
        pytest.param("PATH=/usr/bin:/bin version 1.2.3 at 12:30, 3600 s", id="paths-numbers"),
        pytest.param("Şehir İstanbul: keys, tokens and passages", id="non-ascii"),
    ],
)
def test_ordinary_text_untouched(text):
    env = {**ENV, "PASSWORD_MIN_LENGTH": "12", "AUTH_MODE": "disabled", "DB_PASS": "Zq8-vault-Pw41"}
    assert Redactor(env=env)(text) == text
    assert Redactor(env={})(text) == text


def test_long_text_untouched_and_idempotent():
    body = " ".join(["The capital of Australia is Canberra; search the passage for the key entity."] * 600)
    r = Redactor(env=ENV)
    assert r(body) == body
    leaky = body + " Authorization: Bearer abcdef123456 and sk-proj-Abcdef0123456789 " + body
    once = r(leaky)
    assert "abcdef123456" not in once and "Abcdef0123456789" not in once
    assert r(once) == once
