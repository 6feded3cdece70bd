"""Timing helpers for the bench scripts: call something repeatedly, print median and 95th percentile
against a target. Server time only: everything runs in this process (no network)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

TARGET_MS = 100.0


@dataclass(frozen=True)
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    target_ms: float

    @property
    def passed(self) -> bool:
        return self.p95_ms <= self.target_ms

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{self.name}: median {self.median_ms:.1f} ms, p95 {self.p95_ms:.1f} ms"
                f" (target {self.target_ms:.0f} ms) {verdict}")


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction 0.95 for the 95th) of non-empty `samples`."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def measure(
    name: str,
    call: Callable[[], object],
    *,
    runs: int = 30,
    warmup: int = 2,
    target_ms: float = TARGET_MS,
    check: Callable[[object], None] | None = None,
) -> Timing:
    """Call `call` `warmup` times untimed, then `runs` times timed; print and return the result.
    `check`, if given, is run on every result (outside the timing) to catch a broken page."""
    for _ in range(warmup):
        result = call()
        if check:
            check(result)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
        if check:
            check(result)
    timing = Timing(name, statistics.median(samples), percentile(samples, 0.95), target_ms)
    print(timing.line(), flush=True)
    return timing
