"""Resource sampler: CPU and memory of the run process and its children, on its own thread.

Samples are stamped with ``time.time_ns()``, the same clock as span timestamps, so
resource curves line up with spans. CPU % is computed from the change in user+system CPU
time of the process tree between two samples divided by wall time (100 = one full core),
which stays correct when children come and go.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import psutil

from maestro import settings

__all__ = ["ResourceSample", "ResourceSampler", "summarise"]

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class ResourceSample:
    """One sample of the process tree."""

    time_ns: int
    """Sample time on the span clock."""
    cpu_percent: float
    """CPU % since the previous sample (100 = one core)."""
    rss_bytes: int
    """Resident memory of the tree."""
    num_processes: int
    """Processes in the tree."""


class ResourceSampler:
    """Samples a process tree every ``interval_s`` until stopped."""

    def __init__(self, pid: int | None = None, interval_s: float | None = None):
        interval_s = settings.SAMPLE_INTERVAL_S.get(interval_s)
        if interval_s <= 0:
            raise ValueError(f"resource sampling interval must be > 0, got {interval_s}")
        self.interval_s = interval_s
        self._proc = psutil.Process(pid or os.getpid())
        self.samples: list[ResourceSample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_cpu: float | None = None
        self._last_t: float | None = None

    def _tree_cpu_rss(self) -> tuple[float, int, int]:
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except psutil.Error:
            pass
        cpu = 0.0
        rss = 0
        n = 0
        for p in procs:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    cpu += t.user + t.system
                    rss += p.memory_info().rss
                n += 1
            except psutil.Error:  # a child exited between listing and reading
                continue
        return cpu, rss, n

    def sample(self) -> ResourceSample | None:
        """Take one sample now (also used for the first and last sample of a run)."""
        now = time.perf_counter()
        cpu, rss, n = self._tree_cpu_rss()
        pct = 0.0
        if self._last_cpu is not None and now > self._last_t:
            pct = max(0.0, (cpu - self._last_cpu) / (now - self._last_t) * 100.0)
        first = self._last_cpu is None
        self._last_cpu, self._last_t = cpu, now
        if first:  # the first reading only sets the baseline
            return None
        s = ResourceSample(time.time_ns(), pct, rss, n)
        self.samples.append(s)
        return s

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # never let sampling kill the run
                log.debug("resource sample failed", exc_info=True)

    def start(self) -> ResourceSampler:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="maestro-resources", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[ResourceSample]:
        """Stop sampling; takes a final sample so even short runs have one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.interval_s + 1)
        try:
            self.sample()
        except Exception:
            log.debug("final resource sample failed", exc_info=True)
        return self.samples


def summarise(samples: list[ResourceSample]) -> dict[str, float | int | None]:
    """Per-run mean/peak/min of CPU % and RSS."""
    if not samples:
        return {
            "cpu_mean": None, "cpu_peak": None, "cpu_min": None,
            "rss_mean_bytes": None, "rss_peak_bytes": None, "rss_min_bytes": None,
            "resource_samples": 0,
        }
    cpu = [s.cpu_percent for s in samples]
    rss = [s.rss_bytes for s in samples]
    return {
        "cpu_mean": sum(cpu) / len(cpu),
        "cpu_peak": max(cpu),
        "cpu_min": min(cpu),
        "rss_mean_bytes": sum(rss) / len(rss),
        "rss_peak_bytes": max(rss),
        "rss_min_bytes": min(rss),
        "resource_samples": len(samples),
    }
