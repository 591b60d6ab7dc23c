"""One writer per study folder: an OS file lock the kernel releases when its holder dies.

``StudyLock`` takes an exclusive ``flock`` on ``<study>/.maestro.lock`` and writes who holds
it (PID, host, since when) into the file. A second runner is refused with that holder named;
a lock file left by a dead process holds no lock (the kernel dropped it), so it is simply
taken over. Where ``fcntl`` does not exist (Windows) the lock is advisory-only: not taken.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux
    fcntl = None  # type: ignore[assignment]

__all__ = ["StudyLock", "StudyLockedError", "LOCK_NAME"]

LOCK_NAME = ".maestro.lock"
"""The lock file in a study folder (hidden: readers ignore it)."""


class StudyLockedError(RuntimeError):
    """Another live process holds the study's lock; the message names it."""


class StudyLock:
    """``with StudyLock(root):`` holds the study's write lock for the block.

    ``wait_s``: how long to wait for a holder to finish (0: refuse at once, as a second
    study runner is; ``trace_run`` waits a little, its writes are short)."""

    def __init__(self, root: str | os.PathLike[str], *, wait_s: float = 0.0, purpose: str = "maestro study run"):
        self.path = Path(root) / LOCK_NAME
        self.wait_s = wait_s
        self.purpose = purpose
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds (or last held) the lock, as written in the file."""
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another process"
        return f"{info.get('purpose', 'a process')} (PID {info.get('pid', '?')} on host {info.get('host', '?')}, " \
               f"since {info.get('since', '?')})"

    def acquire(self) -> StudyLock:
        if fcntl is None:  # pragma: no cover
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StudyLockedError(
                        f"{self.path.parent} is being written by {self.holder()}; wait for it to finish or stop it"
                    ) from None
                time.sleep(0.05)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (unlinking would race a waiter)
            self._fd = None

    def __enter__(self) -> StudyLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
