"""The package list in pyproject.toml covers every package folder, and nothing imports the
top-level folders by their on-disk names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"maestro": "maestro", "maestro.adapters": "adapters", "maestro.instances": "instances",
           "maestro.analysis": "analysis"}


def _package_folders() -> set[str]:
    found = set()
    for pkg, folder in MAPPING.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            parts = [] if str(rel) == "." else list(rel.parts)
            if any(p.startswith((".", "_")) or p in ("tests",) for p in parts):
                continue
            # maestro/ holds the mapped folders' names only as separate roots.
            found.add(".".join([pkg, *parts]))
    return found


def test_every_package_folder_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    assert config["tool"]["setuptools"]["package-dir"] == MAPPING
    missing = _package_folders() - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    stale = listed - _package_folders()
    assert not stale, f"listed packages without a folder: {sorted(stale)}"


@pytest.mark.parametrize("folder", ["maestro", "adapters", "instances", "analysis", "tests", "benchmarks"])
def test_no_import_by_folder_name(folder):
    pattern = re.compile(r"^\s*(from|import)\s+(adapters|instances|analysis)(\.|\s|$)", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]
    assert not offenders, f"import through maestro.<name>, not the folder name: {offenders}"


def test_installed_namespace_imports():
    import maestro.adapters.langgraph
    import maestro.analysis
    import maestro.instances.crag
    import maestro.instances.qa_world

    assert maestro.instances.crag.INSTANCE.info.name == "crag"
