"""Process hygiene: children that die with their parent, run trees that are killed whole.

Linux gives a child a *parent-death signal* (``prctl(PR_SET_PDEATHSIG)``): the kernel sends
it when the parent dies, however it dies (SIGKILL included). maestro sets it on the
simulated service and on every run process, so nothing of a study outlives the process that
started it. Elsewhere the calls are no-ops and the pipe and lock based checks still apply.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["die_with_parent", "kill_group", "group_dies_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies. Returns False
    where the platform has no such thing. Safe to call in a ``preexec_fn``."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    # The parent may have died between fork and prctl: then nobody will signal us.
    return os.getppid() != 1


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Signal every process of group ``pgid`` (a run's worker and whatever it started);
    a group that is already gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_dies_with_parent() -> None:
    """Make this process (a session leader) take its whole process group down when its
    parent dies: the parent-death signal is SIGTERM, handled by SIGKILLing the group, so a
    subprocess the run started cannot outlive it."""
    signal.signal(signal.SIGTERM, lambda signum, frame: kill_group(0))
    die_with_parent(signal.SIGTERM)
