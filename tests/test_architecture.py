"""Who may import whom: docs/architecture.md's table, enforced on the code.

Every module's imports are read from its source (lazy imports inside functions too, since a
lazy import is still a dependency) and mapped to the part they belong to; each part may
import only the parts its row of the table lists. The table is the single statement of the
rules: changing the code or the table alone fails here. (import-linter cannot follow the
package-dir mapping that installs ``adapters/`` as ``maestro.adapters``, so this test reads
the files itself.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE_DIRS = {"maestro": "maestro", "adapters": "maestro.adapters", "instances": "maestro.instances",
                "analysis": "maestro.analysis"}
"""Source folder -> the package it installs as (pyproject's package-dir)."""

FACE = "maestro"
"""The package face (``__version__``, lazy names): importable from anywhere."""


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [p for p in rel.parts[1:] if p != "__init__"]
    return ".".join([PACKAGE_DIRS[rel.parts[0]], *parts])


def imported_modules(path: Path) -> set[str]:
    """Every ``maestro...`` module ``path`` imports, at top level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "maestro")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "maestro":
                continue
            out.add(mod)
            # `from maestro import semconv` imports the module maestro.semconv
            out.update(f"{mod}.{a.name}" for a in node.names if mod == FACE and not a.name.startswith("__"))
    return out


def part_of(module: str) -> str:
    """The part a module belongs to: the first name under ``maestro`` (``maestro`` itself
    for the face)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACE


def documented_rules() -> dict[str, set[str] | None]:
    """Part -> the parts it may import (None: everything), from the table's rows."""
    rules: dict[str, set[str] | None] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("part", "---"):
            continue
        part, imports = cells[0], cells[2]
        rules[part] = None if imports == "everything" else set(re.findall(r"`([a-z_]+)`", imports))
    return rules


def source_files() -> list[Path]:
    return sorted(p for folder in PACKAGE_DIRS for p in (ROOT / folder).rglob("*.py"))


def violations(files: list[Path], rules: dict[str, set[str] | None]) -> list[str]:
    out = []
    for path in files:
        src = part_of(module_name(path))
        if src == FACE:  # the thin package face names everything, lazily
            continue
        allowed = rules.get(src, set())
        for dst_module in sorted(imported_modules(path)):
            dst = part_of(dst_module)
            if dst in (src, FACE) or allowed is None or dst in allowed:
                continue
            out.append(f"{path.relative_to(ROOT)}: {src} imports {dst_module} ({dst} is not in its row)")
    return out


def test_the_code_keeps_the_documented_layers():
    assert not violations(source_files(), documented_rules())


def test_every_part_of_the_code_has_a_row_and_every_row_a_part():
    rules = documented_rules()
    parts = {part_of(module_name(p)) for p in source_files()} - {FACE}
    assert parts - set(rules) == set(), "parts of the code missing from docs/architecture.md"
    assert set(rules) - parts == set(), "rows of docs/architecture.md naming no part of the code"
    for part, allowed in rules.items():
        assert allowed is None or allowed <= set(rules), f"{part}'s row names unknown parts: {allowed - set(rules)}"


def test_only_the_runner_and_the_cli_integrate():
    rules = documented_rules()
    assert {p for p, allowed in rules.items() if allowed is None} == {"runner", "cli"}
    assert all("runner" not in allowed and "cli" not in allowed for allowed in rules.values() if allowed is not None)


@pytest.mark.parametrize("forbidden, culprit", [
    pytest.param("from maestro.analysis import frames\n", "store imports maestro.analysis", id="store-analysis"),
    pytest.param("def f():\n    from maestro.runner import run_study\n", "store imports maestro.runner",
                 id="lazy-store-runner"),
])
def test_a_forbidden_import_is_named(tmp_path, monkeypatch, forbidden, culprit):
    bad = ROOT / "maestro" / "store" / "_architecture_probe.py"
    try:
        bad.write_text(forbidden)
        found = violations([bad], documented_rules())
    finally:
        bad.unlink()
    assert len(found) == 1 and culprit in found[0] and "_architecture_probe.py" in found[0]
