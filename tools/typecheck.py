"""Type-check the installed ``maestro`` package with mypy, from the source tree.

pyproject.toml maps ``maestro.adapters``, ``maestro.instances`` and ``maestro.analysis`` to
the top-level folders adapters/, instances/ and analysis/ ([tool.setuptools.package-dir]),
which mypy cannot follow: it finds modules by directory. This script builds a link tree,
``.typecheck/maestro/``, whose entries are symlinks to maestro/'s files and folders plus one
per mapped package (``adapters -> ../../adapters``, ...), runs mypy on it with the
project's configuration ([tool.mypy] in pyproject.toml), and prints mypy's output with
every path mapped back to the real file (``adapters/langgraph/...``, not
``.typecheck/maestro/adapters/langgraph/...``). The tree is rebuilt on every run, so new
files and folders need nothing; the mapping is read from pyproject.toml.

    .venv/bin/python tools/typecheck.py [extra mypy arguments]

Exit status: mypy's (0 when clean).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / ".typecheck"
PACKAGE = "maestro"
_SKIP = {"__pycache__"}


def package_dirs() -> dict[str, str]:
    """``{"maestro": "maestro", "maestro.adapters": "adapters", ...}`` from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(config["tool"]["setuptools"]["package-dir"])


def build_tree() -> Path:
    """(Re)build ``.typecheck/maestro`` and return it."""
    mapping = package_dirs()
    pkg = TREE / PACKAGE
    if pkg.is_symlink() or pkg.is_file():
        pkg.unlink()
    elif pkg.is_dir():
        shutil.rmtree(pkg)  # links only: rmtree removes them without following them
    pkg.mkdir(parents=True)
    links: dict[str, Path] = {}
    for entry in sorted((ROOT / mapping[PACKAGE]).iterdir()):
        if entry.name not in _SKIP and not entry.name.startswith("."):
            links[entry.name] = entry
    for name, folder in mapping.items():
        parts = name.split(".")
        if name == PACKAGE:
            continue
        if len(parts) != 2 or parts[0] != PACKAGE:
            raise SystemExit(f"typecheck: cannot map {name!r} (only {PACKAGE}.<name> packages are supported)")
        if parts[1] in links:
            raise SystemExit(f"typecheck: {mapping[PACKAGE]}/{parts[1]} clashes with the mapped package {name}")
        links[parts[1]] = ROOT / folder
    for name, target in links.items():
        (pkg / name).symlink_to(os.path.relpath(target, pkg))
    return pkg


_PATH_AT_START = re.compile(r"^(?P<path>[^\s:][^:]*\.pyi?)(?P<rest>:.*)$")


def real_path(path: str) -> str:
    """A path as mypy printed it (relative to the tree) -> the file in the repository."""
    full = Path(os.path.realpath(TREE / path))
    try:
        return str(full.relative_to(ROOT))
    except ValueError:
        return path  # outside the repository (a third-party module): as printed


def map_line(line: str) -> str:
    """One line of mypy's output, its leading path (if any) mapped to the real file."""
    m = _PATH_AT_START.match(line.rstrip("\n"))
    return real_path(m["path"]) + m["rest"] + "\n" if m else line


def main(argv: list[str]) -> int:
    build_tree()
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", PACKAGE, *argv]
    # Run from the tree: mypy finds ``maestro`` there first (not the editable install),
    # and its cache (.typecheck/.mypy_cache) stays with the tree.
    proc = subprocess.Popen(cmd, cwd=TREE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(map_line(line))
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
