"""The registry of periodic jobs run by `flask jobs run` (from cron or a systemd timer).

Each job is `job(session, *, now) -> str` and must be idempotent: running it twice, or on two machines
at once, does no work twice. Modules register their jobs in their own `handlers.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

Job = Callable[..., str]


@dataclass(frozen=True)
class RegisteredJob:
    name: str
    run: Job
    doc: str


_registry: dict[str, RegisteredJob] = {}


def register(name: str) -> Callable[[Job], Job]:
    """Decorator: register a module-level job function under `name` (re-registering replaces)."""

    def decorator(function: Job) -> Job:
        _registry[name] = RegisteredJob(name, function, (function.__doc__ or "").strip())
        return function

    return decorator


def registered() -> list[RegisteredJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


def run_all(session: Session, *, now: dt.datetime, only: str | None = None) -> dict[str, str]:
    """Run every registered job (or the one named `only`), each in its own transaction.

    A job that fails is rolled back and reported; the others still run.
    """
    results: dict[str, str] = {}
    for job in registered():
        if only and job.name != only:
            continue
        try:
            results[job.name] = job.run(session, now=now)
            session.commit()
        except Exception as error:  # noqa: BLE001 - one failing job must not stop the others
            session.rollback()
            results[job.name] = f"failed: {type(error).__name__}: {error}"
    return results
