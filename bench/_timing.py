"""Timing helpers for the bench scripts: call something repeatedly, print median and 95th percentile
against a target, and count the SQL statements a call runs. Server time only: everything runs in
this process (no network)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
    samples = samples_ms(call, runs=runs, warmup=warmup, check=check)
    timing = Timing(name, statistics.median(samples), percentile(samples, 0.95), target_ms)
    print(timing.line(), flush=True)
    return timing


def samples_ms(call: Callable[[], object], *, runs: int, warmup: int = 2,
               check: Callable[[object], None] | None = None) -> list[float]:
    """Call `call` `warmup` times untimed, then `runs` times timed; the timed calls in milliseconds.
    `check`, if given, is run on every result (outside the timing)."""
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
    return samples


class StatementCount:
    """How many statements were sent to the database while counting (see `counting_statements`)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args, **_kwargs) -> None:
        self.count += 1


@contextmanager
def counting_statements(engine: Engine) -> Iterator[StatementCount]:
    """Count every statement `engine` executes inside the block (a `before_cursor_execute` listener,
    removed on the way out): `with counting_statements(engine) as counted: ...; counted.count`."""
    counted = StatementCount()
    event.listen(engine, "before_cursor_execute", counted)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", counted)


def report(results: list, *, within: str = "within target") -> int:
    """Print how many `results` (each with `.name` and `.passed`) met their targets, naming those that
    did not; returns the exit status (1 if any did not)."""
    failed = [result.name for result in results if not result.passed]
    print(f"\n{len(results) - len(failed)} of {len(results)} {within}" +
          (f"; over: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
