"""`flask users …` and `flask jobs …`: the first admin account and the periodic jobs."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable

import click
from flask import Flask
from flask.cli import AppGroup

from portal.core import account_services, clock, jobs, outbox
from portal.core.accounts import Role
from portal.core.errors import DomainError
from portal.extensions import db
from portal.web import mailer

users_cli = AppGroup("users", help="Manage accounts.")
jobs_cli = AppGroup("jobs", help="Run the periodic jobs (mail delivery, reminders, expiries).")


@users_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create an admin account (the first account on a new installation)."""
    try:
        user = account_services.create_user(
            db.session, email=email, name=name, roles=[Role.ADMIN], password=password, now=clock.now()
        )
    except DomainError as problem:
        db.session.rollback()
        raise click.ClickException("; ".join(problem.reasons)) from problem
    db.session.commit()
    click.echo(f"Created admin {user.email}.")


@jobs_cli.command("run")
@click.option("--only", help="Run just this job.")
@click.option(
    "--mail-time-budget",
    type=click.FloatRange(min=0),
    default=outbox.TIME_BUDGET_SECONDS,
    show_default=True,
    envvar="PORTAL_MAIL_TIME_BUDGET",
    help="Stop sending mail this many seconds after the start; what is left waits for the next run.",
)
def run_jobs(only: str | None, mail_time_budget: float) -> None:
    """Deliver queued mail, run every registered job, then deliver what the jobs queued.

    Safe to run every few minutes from cron or a systemd timer, and on several machines at once.
    Mail stops after the time budget (240 seconds unless told), so runs 5 minutes apart never overlap.
    """
    now = clock.now()
    out_of_time = outbox.time_budget(mail_time_budget)
    if only is None or only == "mail":
        click.echo(_mail_line(_deliver_mail(now, out_of_time)))
    for name, result in jobs.run_all(db.session, now=now, only=only).items():
        click.echo(f"{name}: {result}")
    if only is None:
        report = _deliver_mail(now, out_of_time)
        if report.sent or report.retrying or report.failed or report.stopped:
            click.echo(_mail_line(report))


def _deliver_mail(now: dt.datetime, out_of_time: Callable[[], bool]) -> outbox.DeliveryReport:
    # SIGTERM (systemd stopping the unit, a shutdown) lets the message in flight finish and be marked
    # sent before the command exits, so even that one is not sent again by the next run.
    terminated = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: terminated.set()) if in_main_thread else None
    try:
        report = outbox.deliver_queued(
            db.session, mailer.connect, now=now, out_of_time=lambda: terminated.is_set() or out_of_time()
        )
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if terminated.is_set():
        click.echo(_mail_line(report, stopped_by="SIGTERM"))
        raise SystemExit(128 + signal.SIGTERM)
    return report


def _mail_line(report: outbox.DeliveryReport, *, stopped_by: str = "the time budget") -> str:
    line = f"mail: sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
    if report.stopped:
        line += f" (stopped by {stopped_by}: the next run sends the rest)"
    return line


@jobs_cli.command("list")
def list_jobs() -> None:
    """List the registered jobs."""
    click.echo("mail: deliver queued e-mail")
    for job in jobs.registered():
        click.echo(f"{job.name}: {job.doc.splitlines()[0] if job.doc else ''}")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
