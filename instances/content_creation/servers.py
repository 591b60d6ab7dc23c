"""The remote agents' server processes: started per run on free loopback ports, stopped after.

Each agent runs ``python -m maestro.adapters.adk.a2a`` (maestro's A2A host for an ADK
agent, the remote counterpart of the run process) with this package's
``build_remote_agent`` as factory. Its model endpoint and key travel on stdin, never on the
command line; it answers ``READY <url>`` on stdout once it listens on the port it picked.

``launch="fork"`` (the default on Linux) forks the run's process and runs the host module
in the child, exactly as ``-m`` would: the run's process already has ADK imported (the
runner's forkserver preloads it), so a server is up in well under a second instead of the
seconds a fresh interpreter spends importing; the child closes every inherited file
descriptor but its pipes and restores default signal handling first. ``launch="spawn"``
starts a fresh interpreter. Either way a server dies with the run that started it: it gets
a parent-death signal, and it stays in the run's process group, which the runner kills
when the run ends.
"""

from __future__ import annotations

import json
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from typing import IO, Any

from maestro.procs import die_with_parent

__all__ = ["RemoteServers", "HOST_MODULE", "FACTORY", "process_name"]

HOST_MODULE = "maestro.adapters.adk.a2a"
"""The module each remote agent's process runs."""
FACTORY = "maestro.instances.content_creation.agents:build_remote_agent"
"""The factory it builds its agent with."""


def _kill_on_parent_death() -> None:
    die_with_parent(signal.SIGKILL)


def process_name(agent: str) -> str:
    """The name (``comm``, what ``ps`` and ``top`` show) a forked server takes: ``a2a-writer``."""
    return ("a2a-" + agent.removeprefix("content_"))[:15]


def _set_process_name(name: str) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


class _Forked:
    """A forked server: the part of ``subprocess.Popen`` that :class:`RemoteServers` uses."""

    def __init__(self, argv: list[str], config: bytes, log: IO[bytes], name: str):
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):  # the run's handlers kill its whole group
                    signal.signal(sig, signal.SIG_DFL)
                _kill_on_parent_death()
                _set_process_name(name)
                os.dup2(r_in, 0)
                os.dup2(w_out, 1)
                os.dup2(log.fileno(), 2)
                keep = {0, 1, 2}
                for fd in [int(f) for f in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else []:
                    if fd not in keep:  # the run's result pipe and sockets must not stay open here
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                sys.stdin, sys.stdout, sys.stderr = (os.fdopen(0, "r"), os.fdopen(1, "w", buffering=1),
                                                     os.fdopen(2, "w", buffering=1))
                sys.argv = [HOST_MODULE, *argv]
                runpy.run_module(HOST_MODULE, run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(r_in)
        os.close(w_out)
        with os.fdopen(w_in, "wb") as stdin:
            stdin.write(config)
        self.pid = pid
        self.stdout: IO[bytes] | None = os.fdopen(r_out, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(HOST_MODULE, timeout or 0.0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode


class RemoteServers:
    """The remote agents of one run; ``start()`` returns ``{name: url}``, ``stop()`` ends them."""

    def __init__(self, names: tuple[str, ...], config: dict[str, Any], start_timeout_s: float = 60.0,
                 launch: str | None = None):
        if launch not in (None, "fork", "spawn"):
            raise ValueError(f"launch must be 'fork' or 'spawn', not {launch!r}")
        self.names = names
        self.config = config
        self.start_timeout_s = start_timeout_s
        self.launch = launch or ("fork" if hasattr(os, "fork") and sys.platform.startswith("linux") else "spawn")
        self.procs: dict[str, Any] = {}
        self.urls: dict[str, str] = {}
        self._logs: dict[str, Any] = {}

    def start(self) -> dict[str, str]:
        """Start every server and wait until each listens; a server that exits or is not
        ready in time stops them all and raises a RuntimeError naming it and its last words."""
        try:
            for name in self.names:  # all start in parallel; then wait for each
                log = tempfile.TemporaryFile()
                self._logs[name] = log
                argv = ["--agent", FACTORY, "--name", name]
                config = json.dumps(self.config).encode()
                if self.launch == "fork":
                    sys.stdout.flush()
                    sys.stderr.flush()
                    self.procs[name] = _Forked(argv, config, log, process_name(name))
                    continue
                proc = subprocess.Popen(
                    [sys.executable, "-m", HOST_MODULE, *argv],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, preexec_fn=_kill_on_parent_death,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
                self.procs[name] = proc
                assert proc.stdin is not None
                proc.stdin.write(config)
                proc.stdin.close()
            deadline = time.monotonic() + self.start_timeout_s
            for name, proc in self.procs.items():
                self.urls[name] = self._ready(name, proc, deadline)
        except BaseException:
            self.stop()
            raise
        return dict(self.urls)

    def _ready(self, name: str, proc: Any, deadline: float) -> str:
        assert proc.stdout is not None
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:  # stdout closed: the server is exiting
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
                    break
                buf += chunk
                for line in buf.decode(errors="replace").splitlines():
                    if line.startswith("READY "):
                        return line.split(" ", 1)[1].strip()
            elif proc.poll() is not None:
                break
        why = f"exited with code {proc.poll()}" if proc.poll() is not None else \
            f"not ready within {self.start_timeout_s:g} s"
        raise RuntimeError(f"remote agent {name} {why}: {self.last_words(name)}")

    def last_words(self, name: str, limit: int = 300) -> str:
        """The tail of a server's stderr, on one line (for error messages)."""
        log = self._logs.get(name)
        if log is None:
            return ""
        try:
            log.seek(0)
            text = log.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return (lines[-1] if lines else "(no output)")[-limit:]

    def pids(self) -> dict[str, int]:
        """Process id of each server."""
        return {n: p.pid for n, p in self.procs.items()}

    def stop(self, grace_s: float = 2.0) -> None:
        """Terminate every server, kill those still alive after ``grace_s``; idempotent."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        for log in self._logs.values():
            log.close()
        self.procs.clear()
        self._logs.clear()
