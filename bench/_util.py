"""Small measuring helpers shared by the benchmarks: wall time and peak Python memory of one call."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[Any, float, float]:
    """Runs `fn` `repeat` times; returns its last result, the best wall time (s) and the peak traced
    memory (KiB) allocated during one call."""
    best = float("inf")
    result = None
    tracemalloc.start()
    for _ in range(repeat):
        tracemalloc.reset_peak()
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, best, peak / 2**10
