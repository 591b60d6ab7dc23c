"""Run the simulated service in a child process (``python -m maestro.sim serve``).

A separate process keeps the service's threads and GIL away from the MAS being measured,
and lets it import instance modules that register policies without touching the parent.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from typing import IO, Any

__all__ = ["SimProcess", "SimStartError", "start_sim_subprocess"]


class SimStartError(RuntimeError):
    """The child did not come up; the message includes its exit code and stderr tail."""


class SimProcess:
    """A running ``maestro.sim`` child. Use ``.url``; ``.stop()`` or a ``with`` block ends it."""

    def __init__(self, proc: subprocess.Popen[str], info: dict[str, Any], stderr_file: IO[bytes]) -> None:
        self.proc = proc
        self.url: str = info["url"]
        """``http://127.0.0.1:PORT`` of the child's server."""
        self.pid: int = int(info.get("pid") or proc.pid)
        self.profiles: list[str] = list(info.get("profiles") or [])
        self._stderr = stderr_file
        self._final_stderr = ""

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self, n_chars: int = 4000) -> str:
        """The end of what the child wrote to stderr (kept after ``stop``)."""
        if self._stderr.closed:
            return self._final_stderr[-n_chars:]
        return _tail(self._stderr, n_chars)

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """SIGTERM, wait up to ``timeout_s``, then SIGKILL. Returns the exit code. Idempotent."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
            except ProcessLookupError:
                pass
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._stderr.closed:
            self._final_stderr = _tail(self._stderr, 4000)
            self._stderr.close()
        return self.proc.returncode

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimProcess(url={self.url!r}, pid={self.pid}, running={self.running})"


def _die_with_parent() -> None:
    from maestro.procs import die_with_parent

    die_with_parent(signal.SIGTERM)


def _tail(fh: IO[bytes], n_chars: int) -> str:
    try:
        fh.flush()
        size = os.fstat(fh.fileno()).st_size
        data = os.pread(fh.fileno(), min(size, 4 * n_chars), max(0, size - 4 * n_chars))
    except (OSError, ValueError):
        return ""
    return data.decode("utf-8", "replace")[-n_chars:]


def start_sim_subprocess(
    imports: list[str],
    time_factor: float,
    python: str = sys.executable,
    timeout_s: float = 30,
    *,
    env: Mapping[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> SimProcess:
    """Launch ``python -m maestro.sim serve --port 0 ...`` and wait for its ready line.

    ``imports`` are passed as ``--import`` (modules that register policies); ``env`` replaces
    the child's environment (default: inherit). Raises :class:`SimStartError` with the
    child's stderr tail if it exits or stays silent for ``timeout_s``.
    """
    cmd = [python, "-m", "maestro.sim", "serve", "--port", "0", "--time-factor", repr(float(time_factor))]
    for mod in imports:
        cmd += ["--import", mod]
    cmd += list(extra_args or [])
    # stderr goes to a file, not a pipe: nobody reads it while the child runs, and a full
    # pipe would block the child's logging.
    # An anonymous file (unlinked at creation): nothing is left in /tmp however we end.
    err = tempfile.TemporaryFile(prefix="maestro-sim-", suffix=".stderr")  # noqa: SIM115
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        # The service dies with the process that started it (parent-death signal).
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=child_env, preexec_fn=_die_with_parent)
    except OSError as exc:
        err.close()
        raise SimStartError(f"cannot launch {cmd[0]!r}: {exc}") from exc

    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout_s)
    except queue.Empty:
        line = None
    info: dict[str, Any] | None = None
    if line:
        try:
            info = json.loads(line)
        except ValueError:
            info = None
    if not isinstance(info, dict) or "url" not in info:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if line is None:
            why = "timed out waiting for its ready line"
        elif not line:
            why = "exited before printing its ready line"
        else:
            why = f"printed {line.strip()[:200]!r} instead of its ready line"
        tail = _tail(err, 4000)
        err.close()
        raise SimStartError(
            f"maestro-sim subprocess failed to start ({why}; exit code {proc.returncode}): {' '.join(cmd)}\n--- stderr tail ---\n{tail}"
        )
    return SimProcess(proc, info, err)
