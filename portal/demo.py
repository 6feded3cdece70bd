"""`flask demo load`: realistic UK demo data for every role, only ever in a demo database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import click
from faker import Faker
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from portal.allocation.demo import load_demo_allocation
from portal.cases.demo import load_demo_cases
from portal.core import account_services, clock, settings
from portal.core.accounts import Role, count_users, find_user_by_email
from portal.core.errors import RuleViolation
from portal.core.passwords import hash_password
from portal.expenses.demo import load_demo_expenses
from portal.extensions import db
from portal.supervision.demo import load_demo_supervision
from portal.training.coursework.services import load_demo_coursework
from portal.training.demo import complete_demo_enrolments, load_demo_training
from portal.volunteers.demo import load_demo_applications
from portal.volunteers.vetting.demo import load_demo_vetting

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
TRAINEES = 12


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
    session: Session, *, environment: str, now: dt.datetime, seed: int = 2026, case_count: int = 300,
    receipts_dir: str | None = None,
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
    # Trainees: offered a place, vetting under way, on the course.
    for number in range(1, TRAINEES + 1):
        email = f"trainee{number:02d}@example.org"
        if find_user_by_email(session, email) is None:
            name = fake.name()
            account_services.create_user(
                session, email=email, name=name, roles=[Role.VOLUNTEER], password_hash=password_hash, now=now,
            )
            created.append(DemoAccount(email, name, (Role.VOLUNTEER,)))
    trainees = [find_user_by_email(session, f"trainee{number:02d}@example.org") for number in range(1, TRAINEES + 1)]
    coordinator = find_user_by_email(session, "coordinator@example.org")
    trainers = [find_user_by_email(session, "trainer@example.org"), coordinator]
    # Vetting first: the facilitators are active, trained and cleared since long before any demo case.
    load_demo_vetting(session, now=now, password_hash=password_hash, coordinator=coordinator,
                      facilitators=volunteers)
    load_demo_cases(session, coordinator=coordinator, volunteers=volunteers, now=now, seed=seed, count=case_count)
    load_demo_applications(session, coordinator=coordinator, password_hash=password_hash, now=now, seed=seed)
    load_demo_training(session, coordinator=coordinator, trainers=trainers, volunteers=trainees, now=now)
    load_demo_coursework(session, now=now)
    complete_demo_enrolments(session, coordinator=coordinator, now=now)
    load_demo_supervision(session, coordinator=coordinator, volunteers=volunteers, now=now)
    load_demo_expenses(session, coordinator=coordinator, volunteers=volunteers, now=now, receipts_dir=receipts_dir)
    # Allocation last: it reads everyone's vetting, training, supervision and cases.
    load_demo_allocation(session, now=now, password_hash=password_hash)
    return created


demo_cli = AppGroup("demo", help="Demo data for development and trying the portal out.")


@demo_cli.command("load")
def load_command() -> None:
    """Load demo data (safe to run again; refuses on a non-demo database)."""
    try:
        created = load(db.session, environment=current_app.config["ENV_NAME"], now=clock.now(),
                       receipts_dir=current_app.config.get("EXPENSES_RECEIPT_DIR"))
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
    click.echo("  Volunteer (vetting)    vetting01@example.org … vetting11@example.org")
    click.echo("  Volunteer (training)   trainee01@example.org … trainee12@example.org")
    click.echo("  Volunteer (new)        facilitator01@example.org … facilitator08@example.org")
    click.echo("  Applicant              applicant01@example.org … applicant21@example.org")


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
