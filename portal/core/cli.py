"""`flask users …` and `flask jobs …`: the first admin account and the periodic jobs."""

from __future__ import annotations

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
def run_jobs(only: str | None) -> None:
    """Deliver queued mail, run every registered job, then deliver what the jobs queued.

    Safe to run every few minutes from cron or a systemd timer, and on several machines at once.
    """
    now = clock.now()
    if only is None or only == "mail":
        report = outbox.deliver_queued(db.session, mailer.send, now=now)
        click.echo(f"mail: sent {report.sent}, retrying {report.retrying}, failed {report.failed}")
    for name, result in jobs.run_all(db.session, now=now, only=only).items():
        click.echo(f"{name}: {result}")
    if only is None:
        report = outbox.deliver_queued(db.session, mailer.send, now=now)
        if report.sent or report.retrying or report.failed:
            click.echo(f"mail: sent {report.sent}, retrying {report.retrying}, failed {report.failed}")


@jobs_cli.command("list")
def list_jobs() -> None:
    """List the registered jobs."""
    click.echo("mail: deliver queued e-mail")
    for job in jobs.registered():
        click.echo(f"{job.name}: {job.doc.splitlines()[0] if job.doc else ''}")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
