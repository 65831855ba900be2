"""What every benchmark script here shares: the import path, and the timers.

Each script starts with ``import harness`` (Python puts this folder first on the
path, so it is found). Importing it puts the repository first on ``sys.path`` and
this folder last: here lies engine.py, a benchmark, which would otherwise hide the
package ``engine``; workloads.py is still found after it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:] = [ROOT, *(p for p in sys.path
                       if os.path.abspath(p or os.curdir) not in (HERE, ROOT)), HERE]


def seconds(run: Callable[[], Any]) -> float:
    """Seconds one call of ``run`` takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """The median of ``repeats`` timed calls of ``run`` (each call a whole workload)."""
    return statistics.median(seconds(run) for _ in range(repeats))


def per_call(step: Callable[[], Any], calls: int, warmup: int = 1) -> float:
    """Mean seconds per call over ``calls`` calls, after ``warmup`` untimed ones.
    (A mean, not a minimum: collector pauses are part of the cost.)"""
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls
