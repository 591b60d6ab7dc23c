"""Every MAESTRO_* variable the code reads is declared in maestro.settings and documented
in the README; each is read when used (argument > environment > default)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maestro import settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_variable_read_is_declared():
    read = set()
    for folder in ("maestro", "adapters", "analysis", "instances"):
        for f in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"""environ(?:\.get)?\(?\[?\s*["'](MAESTRO_[A-Z0-9_]+)""", f.read_text()))
            read |= set(re.findall(r"""getenv\(\s*["'](MAESTRO_[A-Z0-9_]+)""", f.read_text()))
    declared = {s.name for s in settings.SETTINGS}
    assert read <= declared, f"read but not declared in maestro.settings: {sorted(read - declared)}"


def test_the_readme_table_is_the_declared_settings():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- settings -->\n(.*?)\n<!-- /settings -->", text, re.S)
    assert block and block.group(1) == settings.markdown_table()


def test_settings_are_read_when_used(monkeypatch):
    monkeypatch.delenv("MAESTRO_HARD_KILL_GRACE_S", raising=False)
    assert settings.HARD_KILL_GRACE_S.get() == 15.0
    monkeypatch.setenv("MAESTRO_HARD_KILL_GRACE_S", "2.5")
    assert settings.HARD_KILL_GRACE_S.get() == 2.5 and settings.HARD_KILL_GRACE_S.get(7.0) == 7.0
    monkeypatch.setenv("MAESTRO_FSYNC", "0")
    assert settings.FSYNC.get() is False
    monkeypatch.setenv("MAESTRO_FSYNC", "sometimes")
    with pytest.raises(ValueError, match="environment variable MAESTRO_FSYNC: expected 0/1/true/false"):
        settings.FSYNC.get()
    monkeypatch.setenv("MAESTRO_SAMPLE_INTERVAL_S", "-1")
    with pytest.raises(ValueError, match="MAESTRO_SAMPLE_INTERVAL_S: expected a finite number > 0"):
        settings.SAMPLE_INTERVAL_S.get()
