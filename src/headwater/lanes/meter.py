"""Measure CPU seconds and peak memory per step, even when steps run side by side.

The engine works on its own threads, so per-thread clocks miss most of the work. A sampler reads
the process's CPU time and resident memory every ``interval`` seconds and splits each interval's
CPU evenly among the steps active in it; a step's peak memory is the process peak while it ran.
With one step at a time the figures are exact up to one interval.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Usage:
    cpu_seconds: float = 0.0
    peak_memory_bytes: int = 0


class ResourceMeter:
    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._lock = threading.Lock()
        self._active: dict[str, Usage] = {}
        self._done: dict[str, Usage] = {}
        self._last_cpu = self._cpu()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _cpu(self) -> float:
        t = self._proc.cpu_times()
        return t.user + t.system

    def __enter__(self) -> ResourceMeter:
        self._thread = threading.Thread(target=self._loop, name="headwater-meter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        cpu = self._cpu()
        rss = self._proc.memory_info().rss
        with self._lock:
            delta, self._last_cpu = cpu - self._last_cpu, cpu
            if self._active:
                share = delta / len(self._active)
                for usage in self._active.values():
                    usage.cpu_seconds += share
                    usage.peak_memory_bytes = max(usage.peak_memory_bytes, rss)

    def begin(self, key: str) -> None:
        self._sample()
        with self._lock:
            self._active[key] = Usage(peak_memory_bytes=self._proc.memory_info().rss)

    def end(self, key: str) -> Usage:
        self._sample()
        with self._lock:
            return self._active.pop(key, Usage())
