"""Resource sampler: CPU and memory of the run process and its children, on its own thread.

Samples are stamped with ``time.time_ns()``, the same clock as span timestamps, so
resource curves line up with spans. Every sample covers the interval since the previous
one (``interval_s``); the first reading only sets the baseline.

CPU
    The CPU seconds the process tree spent in the interval divided by the interval's wall
    time (100 % = one full core). The tree's CPU seconds are the run process's own
    user+system time plus its reaped descendants' (``RUSAGE_CHILDREN``), plus the
    user+system time of every live descendant (and of the descendants those reaped), so
    a child that starts and exits between two samples is still counted, and a child that
    exits moves from "live" to "reaped" without its time being lost or counted twice. For
    the sampler's own process the times come from ``time.process_time`` and
    ``resource.getrusage`` (microsecond resolution); for other processes from
    ``/proc/<pid>/stat`` via psutil (clock ticks, 10 ms on Linux).

    * **Bounded.** A rate is clamped to ``cores x 100 %`` (the CPUs the run process may
      run on, ``cpu_affinity``): tick rounding over a short interval must not report more
      CPU than the machine has.
    * **No spike from a short last interval.** The final sample (taken by :meth:`stop`)
      usually closes an interval much shorter than ``interval_s``; a 1.7 ms interval that
      happens to contain one 10 ms clock tick read as 588 %. When the last interval is
      shorter than half of ``interval_s`` it is merged into the previous sample (its CPU
      seconds and wall time added, the later time stamp and the larger memory reading
      kept), so the run's last sample covers at least half an interval.
    * **Time-weighted.** :func:`summarise` weights each sample by the wall time it covers
      (``ResourceSample.interval_s``), so ``cpu_mean`` is the tree's CPU seconds over the
      sampled wall time x 100, whatever the lengths of the intervals.

Memory (``rss_bytes``)
    The resident set (RSS) of the run process plus the *unique* set size (USS: pages no
    other process maps) of each live descendant, where the OS reports it
    (``psutil.memory_full_info``; Linux, macOS, Windows), else the descendant's RSS.

    Why not the sum of RSS: a forked child shares its parent's pages copy-on-write, so
    summing RSS counts them twice (a run of ~151 MB peaked at ~300 MB while a short-lived
    fork was alive). The child's USS is what the fork really adds: 1.3 MB for a fork of a
    213 MB process in our measurement.

    Why not PSS (proportional set size): it divides every shared page among all the
    processes that map it, including processes outside the run. A run process is forked
    from maestro's forkserver and shares most of its pages with it and with the other
    runs alive at the time, so its PSS depends on how many runs happen to run in
    parallel (the same 213 MB process read 111 MB PSS with one fork alive). RSS of the
    run process keeps the paper's definition (resident memory of the run) and stays
    comparable across worker counts.

    Cost per sample (Linux, a 200 MB process with ~430 mappings): ``memory_info`` (RSS)
    0.01 ms, ``memory_full_info`` (USS/PSS, reads ``/proc/<pid>/smaps_rollup``) 2.2-2.4 ms,
    listing the descendants 0.9 ms. USS is therefore read only for descendants, which
    most runs do not have, and the run process itself costs 0.01 ms per sample.

Per run, :func:`summarise` gives min, time-weighted mean and peak of both.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from maestro import settings

try:  # Unix: microsecond CPU times of this process's reaped children
    import resource as _resource
except ImportError:  # pragma: no cover - Windows
    _resource = None  # type: ignore[assignment]

__all__ = ["ResourceSample", "ResourceSampler", "summarise", "MERGE_FRACTION"]

log = logging.getLogger(__name__)

MERGE_FRACTION = 0.5
"""A last interval shorter than this fraction of ``interval_s`` is merged into the previous
sample instead of becoming a sample of its own."""


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """One sample of the process tree."""

    time_ns: int
    """Sample time on the span clock (the end of the interval it covers)."""
    cpu_percent: float
    """CPU % over the interval since the previous sample (100 = one core), at most
    ``cores x 100``."""
    rss_bytes: int
    """Memory of the tree: RSS of the run process plus USS of its descendants."""
    num_processes: int
    """Processes in the tree."""
    interval_s: float = 0.0
    """Wall time the sample covers (its weight in :func:`summarise`); 0 when unknown."""


@dataclass(frozen=True, slots=True)
class _Reading:
    cpu_s: float
    """Cumulative CPU seconds of the tree (live and reaped)."""
    mem_bytes: int
    n: int
    at: float
    """The sampler's clock right after the run process's CPU time was read: a thread
    switch between the two must not shift CPU seconds into the wrong interval."""


def _cores(proc: psutil.Process) -> int:
    """CPUs the process may run on (its affinity), else the machine's logical CPUs."""
    try:
        return max(1, len(proc.cpu_affinity()))
    except (AttributeError, psutil.Error, OSError):
        return max(1, psutil.cpu_count() or os.cpu_count() or 1)


class ResourceSampler:
    """Samples a process tree every ``interval_s`` until stopped (see the module docstring)."""

    def __init__(self, pid: int | None = None, interval_s: float | None = None):
        interval_s = settings.SAMPLE_INTERVAL_S.get(interval_s)
        if interval_s <= 0:
            raise ValueError(f"resource sampling interval must be > 0, got {interval_s}")
        self.interval_s = interval_s
        self.pid = pid or os.getpid()
        self._proc = psutil.Process(self.pid)
        self._self = self.pid == os.getpid()
        self.cores = _cores(self._proc)
        """CPU % is clamped to ``cores x 100``."""
        self.samples: list[ResourceSample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_cpu: float | None = None
        self._last_t: float = 0.0
        self._last_cpu_s_of_sample: list[float] = []  # CPU seconds behind each sample (for merging)
        self._uss_ok = True
        self._clock: Callable[[], float] = time.perf_counter
        self._wall_ns: Callable[[], int] = time.time_ns

    # -- readings --------------------------------------------------------------------------
    def _root_cpu(self) -> float:
        if self._self:
            cpu = time.process_time()
            if _resource is not None:
                ru = _resource.getrusage(_resource.RUSAGE_CHILDREN)
                cpu += ru.ru_utime + ru.ru_stime
            else:  # pragma: no cover - Windows
                t = self._proc.cpu_times()
                cpu += t.children_user + t.children_system
            return cpu
        t = self._proc.cpu_times()
        return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)

    def _child_memory(self, p: psutil.Process) -> int:
        if self._uss_ok:
            try:
                return int(p.memory_full_info().uss)
            except psutil.AccessDenied:
                pass
            except (AttributeError, NotImplementedError):  # the OS has no USS: RSS from now on
                self._uss_ok = False
        return int(p.memory_info().rss)

    def _read(self) -> _Reading:
        """The tree's cumulative CPU seconds, its memory and its process count now."""
        with self._proc.oneshot():
            if not self._self and self._proc.status() == psutil.STATUS_ZOMBIE:
                # it exited: a zombie reports no memory, which is not a reading of the run
                raise psutil.ZombieProcess(self.pid)
            cpu = self._root_cpu()
            at = self._clock()
            mem = int(self._proc.memory_info().rss)
            if mem == 0:  # exiting: its memory is already gone, which is not a reading of the run
                raise psutil.ZombieProcess(self.pid)
        n = 1
        try:
            children = self._proc.children(recursive=True)
        except psutil.Error:
            children = []
        for p in children:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    c = t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
                    m = self._child_memory(p)
            except psutil.Error:  # exited between listing and reading: its parent's reaped time has it
                continue
            cpu += c
            mem += m
            n += 1
        return _Reading(cpu, mem, n, at)

    # -- sampling --------------------------------------------------------------------------
    def sample(self, *, final: bool = False) -> ResourceSample | None:
        """Take one sample now; the first call only sets the baseline (returns None).

        ``final=True`` (what :meth:`stop` does) merges an interval shorter than
        ``MERGE_FRACTION x interval_s`` into the previous sample, which it returns.
        """
        with self._lock:
            r = self._read()
            now = r.at
            if self._last_cpu is None:  # the first reading only sets the baseline
                self._last_cpu, self._last_t = r.cpu_s, now
                return None
            dt = now - self._last_t
            if dt <= 0:
                return None
            used = max(0.0, r.cpu_s - self._last_cpu)
            self._last_cpu, self._last_t = r.cpu_s, now
            if final and self.samples and dt < MERGE_FRACTION * self.interval_s:
                prev = self.samples[-1]
                prev_used = self._last_cpu_s_of_sample[-1]
                span = prev.interval_s + dt
                used += prev_used
                s = ResourceSample(self._wall_ns(), self._rate(used, span), max(prev.rss_bytes, r.mem_bytes),
                                   max(prev.num_processes, r.n), span)
                self.samples[-1] = s
                self._last_cpu_s_of_sample[-1] = used
                return s
            s = ResourceSample(self._wall_ns(), self._rate(used, dt), r.mem_bytes, r.n, dt)
            self.samples.append(s)
            self._last_cpu_s_of_sample.append(used)
            return s

    def _rate(self, cpu_s: float, wall_s: float) -> float:
        return min(cpu_s / wall_s * 100.0, self.cores * 100.0)

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
        """Stop sampling; takes a final sample so even short runs have one (a final
        interval shorter than half ``interval_s`` is merged into the previous sample)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.interval_s + 1)
        try:
            self.sample(final=True)
        except Exception:
            log.debug("final resource sample failed", exc_info=True)
        return self.samples


def _weights(samples: Sequence[ResourceSample]) -> list[float]:
    """Wall time each sample covers: its ``interval_s``, else the gap to the previous
    sample's time stamp (the first one gets the median gap); equal weights when nothing
    is known."""
    w = [s.interval_s if s.interval_s and s.interval_s > 0 else 0.0 for s in samples]
    if all(x > 0 for x in w):
        return w
    gaps = [(b.time_ns - a.time_ns) / 1e9 for a, b in zip(samples, samples[1:])]
    positive = sorted(g for g in gaps if g > 0)
    fill = positive[len(positive) // 2] if positive else 1.0
    guessed = [fill, *[g if g > 0 else fill for g in gaps]]
    return [x if x > 0 else g for x, g in zip(w, guessed)]


def summarise(samples: Sequence[ResourceSample]) -> dict[str, float | int | None]:
    """Per run: min, time-weighted mean and peak of CPU % and memory, and the sample count
    (the run columns ``cpu_mean``, ``cpu_peak``, ``cpu_min``, ``rss_mean_bytes``,
    ``rss_peak_bytes``, ``rss_min_bytes``, ``resource_samples``)."""
    if not samples:
        return {
            "cpu_mean": None, "cpu_peak": None, "cpu_min": None,
            "rss_mean_bytes": None, "rss_peak_bytes": None, "rss_min_bytes": None,
            "resource_samples": 0,
        }
    w = _weights(samples)
    total = sum(w)
    cpu = [s.cpu_percent for s in samples]
    rss = [s.rss_bytes for s in samples]
    return {
        "cpu_mean": sum(c * x for c, x in zip(cpu, w)) / total,
        "cpu_peak": max(cpu),
        "cpu_min": min(cpu),
        "rss_mean_bytes": sum(m * x for m, x in zip(rss, w)) / total,
        "rss_peak_bytes": max(rss),
        "rss_min_bytes": min(rss),
        "resource_samples": len(samples),
    }
