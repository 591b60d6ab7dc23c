"""tools/typecheck.py: the link tree mirrors the installed package layout, and mypy's paths
come back as the real files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("maestro_typecheck_tool", ROOT / "tools" / "typecheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tree_maps_every_package_dir():
    tool = _tool()
    pkg = tool.build_tree()
    for name, folder in tool.package_dirs().items():
        if name == "maestro":
            continue  # the tree's root: a real folder of links
        linked = pkg.joinpath(*name.split(".")[1:])
        assert linked.resolve() == (ROOT / folder).resolve(), name
    assert (pkg / "semconv.py").resolve() == ROOT / "maestro" / "semconv.py"


def test_paths_map_back_to_real_files():
    tool = _tool()
    tool.build_tree()
    assert tool.map_line("maestro/adapters/_common.py:3: error: x  [misc]\n") == "adapters/_common.py:3: error: x  [misc]\n"
    assert tool.map_line("maestro/instances/crag/graph.py:1: note: y\n") == "instances/crag/graph.py:1: note: y\n"
    assert tool.map_line("maestro/semconv.py:9: error: z\n") == "maestro/semconv.py:9: error: z\n"
    assert tool.map_line("Found 2 errors in 1 file (checked 9 source files)\n") == (
        "Found 2 errors in 1 file (checked 9 source files)\n")
