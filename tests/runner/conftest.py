"""Make this folder importable (by worker processes too) for the test-only instance module."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    # The forkserver copies sys.path when it starts, so this must happen at collection time.
    sys.path.insert(0, HERE)
