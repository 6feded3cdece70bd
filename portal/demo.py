"""`flask demo load`: realistic UK demo data for every role, only ever in a demo database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import click
from faker import Faker
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from portal.cases.demo import load_demo_cases
from portal.core import account_services, clock, settings
from portal.core.accounts import Role, count_users, find_user_by_email
from portal.core.errors import RuleViolation
from portal.core.passwords import hash_password
from portal.extensions import db
from portal.volunteers.demo import load_demo_applications

DEMO_PASSWORD = "restorative-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    roles: tuple[Role, ...]


DEMO_ACCOUNTS = (
    DemoAccount("admin@example.org", "Priya Shah", (Role.ADMIN,)),
    DemoAccount("coordinator@example.org", "Siobhán O'Neill", (Role.COORDINATOR, Role.TRAINER)),
    DemoAccount("trainer@example.org", "Gareth Llewellyn-Jones", (Role.TRAINER,)),
    DemoAccount("volunteer@example.org", "Zoë Ní Bhriain", (Role.VOLUNTEER,)),
    DemoAccount("applicant@example.org", "Tomasz Nowak", (Role.APPLICANT,)),
)
EXTRA_VOLUNTEERS = 12


def ensure_demo_database(session: Session, *, environment: str) -> None:
    """Refuse unless this database may hold demo data: never in production, never over real data.

    A database is flagged as a demo database the first time demo data is loaded into it while empty.
    """
    if environment == "production":
        raise RuleViolation("Demo data is never loaded when PORTAL_ENV is production")
    if settings.get_setting(session, settings.DEMO_DATABASE, False):
        return
    if count_users(session):
        raise RuleViolation(
            "This database already holds accounts and is not flagged as a demo database; "
            "demo data is loaded only into an empty or demo database"
        )
    settings.set_setting(session, settings.DEMO_DATABASE, True)


def load(
    session: Session, *, environment: str, now: dt.datetime, seed: int = 2026, case_count: int = 300
) -> list[DemoAccount]:
    """Create the demo accounts (and later modules' demo data) if missing. Idempotent."""
    ensure_demo_database(session, environment=environment)
    password_hash = hash_password(DEMO_PASSWORD)
    created = []
    for account in DEMO_ACCOUNTS:
        if find_user_by_email(session, account.email) is None:
            account_services.create_user(
                session, email=account.email, name=account.name, roles=account.roles,
                password_hash=password_hash, now=now,
            )
            created.append(account)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    for number in range(1, EXTRA_VOLUNTEERS + 1):
        name = fake.name()
        email = f"volunteer{number:02d}@example.org"
        if find_user_by_email(session, email) is None:
            account_services.create_user(
                session, email=email, name=name, roles=[Role.VOLUNTEER],
                password_hash=password_hash, now=now,
            )
            created.append(DemoAccount(email, name, (Role.VOLUNTEER,)))
    # The main demo volunteer comes first: the case loader gives them the largest share of cases.
    volunteers = [find_user_by_email(session, "volunteer@example.org")] + [
        find_user_by_email(session, f"volunteer{number:02d}@example.org") for number in range(1, EXTRA_VOLUNTEERS + 1)
    ]
    load_demo_cases(
        session, coordinator=find_user_by_email(session, "coordinator@example.org"),
        volunteers=volunteers, now=now, seed=seed, count=case_count,
    )
    load_demo_applications(
        session, coordinator=find_user_by_email(session, "coordinator@example.org"), password_hash=password_hash,
        now=now, seed=seed,
    )
    return created


demo_cli = AppGroup("demo", help="Demo data for development and trying the portal out.")


@demo_cli.command("load")
def load_command() -> None:
    """Load demo data (safe to run again; refuses on a non-demo database)."""
    try:
        created = load(db.session, environment=current_app.config["ENV_NAME"], now=clock.now())
    except RuleViolation as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    click.echo(f"Demo data: {len(created)} new accounts." if created else "Demo data already loaded.")
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        roles = ", ".join(role.label for role in account.roles)
        click.echo(f"  {roles:<22} {account.email}")
    click.echo("  Volunteer              volunteer01@example.org … volunteer12@example.org")


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
