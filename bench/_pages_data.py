"""The page bench's national-size database, built from the other benches' loaders plus the tables
they do not cover, with the demo data on top so every kind of record has a real example.

`load(engine, url, scale)` fills an empty database (tables already created). At scale 1.0:

- bench/_allocation_data.py: 20,000 volunteers (availability, case limits, absences, conflicts,
  completed training) and 5,000 open cases, a fifth of them waiting (most with needs recorded);
- bench/cases.py: 100,000 more cases (about 4,000 of them waiting, with no needs recorded) with
  1,000,000 contact attempts; 25 of them led by the demo volunteer (volunteer@example.org); in all
  about 5,100 cases wait for allocation;
- bench/vetting.py's vetting checks for every volunteer (replacing the allocation loader's simpler ones);
- here: 100,000 expense claims (about 2.5 lines each, in payment batches when paid), 1,000,000 audit
  entries, 300 training cohorts of 24 (four days each; half finished with registers, half to come),
  100 named supervisors, one to three past supervision sessions (slot, booking, record) for every
  active volunteer and 2,000 upcoming slots, 30% of them booked;
- then `flask demo load`'s data (the demo accounts, 300 cases, applications, interviews, coursework,
  supervision, expenses; not its allocation part, which would record needs for every waiting case),
  the demo trainer on ten of the cohorts, and one bulk allocation proposal over every waiting case.

Everything is made for 23 November 2026 (`NOW`); the page bench pins the clock to it.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import _allocation_data as allocation_data
import cases as cases_bench
import vetting as vetting_bench
from _database import insert_rows, reset_sequences, timed_copy, vacuum_analyze
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal import demo
from portal.allocation import bulk
from portal.allocation.demo import DEMO_ALLOCATION_SETTING
from portal.config import TestConfig
from portal.core import account_services, settings
from portal.core.accounts import Role, find_user_by_email
from portal.core.passwords import hash_password
from portal.extensions import db
from portal.factory import create_app
from portal.supervision.models import SupervisionBooking, SupervisionRecord, SupervisionSlot, Supervisor
from portal.training.models import Attendance, Cohort, CohortDay, CohortTrainer, Course, Enrolment
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting.models import VettingCheck

NOW = allocation_data.NOW
TODAY = allocation_data.TODAY
PASSWORD = demo.DEMO_PASSWORD
RECEIPTS_DIR = str(Path(tempfile.gettempdir()) / "bench-pages-receipts")
FULL = {"volunteers": 20_000, "open_cases": 5_000, "cases": 100_000, "claims": 100_000, "audit": 1_000_000,
        "cohorts": 300, "supervisors": 100, "upcoming_slots": 2_000}
COHORT_SIZE = 24
CLAIM_STATUSES = {"paid": 80, "in_batch": 3, "approved": 3, "submitted": 5, "queried": 1, "rejected": 3,
                  "withdrawn": 2, "draft": 3}
AUDIT_ACTIONS = ["case.created", "case.status_changed", "contact_attempt.recorded", "user.signed_in",
                 "vetting_check.updated", "expense_claim.submitted", "expense_claim.approved",
                 "supervision.booked", "training.attendance_recorded", "allocation.offered"]


def sizes(scale: float) -> dict[str, int]:
    """How many of each thing to load at `scale` (1.0 is national size); never fewer than a handful."""
    return {key: max(10, int(full * scale)) for key, full in FULL.items()} | {
        "volunteers": max(100, int(FULL["volunteers"] * scale)),
        "open_cases": max(100, int(FULL["open_cases"] * scale)),
        "cases": max(100, int(FULL["cases"] * scale)),
    }


def _volunteers(engine: Engine) -> list[tuple[int, int, VolunteerStatus]]:
    with engine.connect() as connection:
        return [(row.id, row.user_id, VolunteerStatus(row.status)) for row in connection.execute(
            text("SELECT id, user_id, status FROM volunteers ORDER BY id"))]


def _vetting(engine: Engine, volunteers: list[tuple[int, int, VolunteerStatus]]) -> None:
    rng = random.Random(2027)
    checks = [check for number, _user, status in volunteers
              for check in vetting_bench.volunteer_checks(rng, number, status)]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM vetting_checks"))
        insert_rows(connection, VettingCheck, checks)


def _claims(engine: Engine, count: int, claimants: list[int], approver_id: int) -> None:
    """`count` claims with 1-4 lines and their events; paid and in-batch claims in batches of 500."""
    rng = random.Random(2028)
    statuses = rng.choices(list(CLAIM_STATUSES), weights=list(CLAIM_STATUSES.values()), k=count)
    numbers: dict[int, int] = {}
    claims, lines, events, batches = [], [], [], []
    batch_fill = {"paid": 500, "in_batch": 500}
    batch_of: dict[str, int] = {}
    categories = ["public_transport", "parking", "subsistence", "phone_postage"]
    for claim_id, status in enumerate(statuses, start=1):
        created = NOW - dt.timedelta(days=rng.randint(1, 1400) if status == "paid" else rng.randint(1, 60))
        numbers[created.year] = number = numbers.get(created.year, 0) + 1
        submitted = None if status == "draft" else created + dt.timedelta(hours=2)
        decided = created + dt.timedelta(days=3) if status in ("paid", "in_batch", "approved", "rejected") else None
        batch_id = paid_on = None
        if status in batch_fill:
            if batch_fill[status] >= 500:
                batches.append((len(batches) + 1, f"PAY-{created.year}-{len(batches) + 1:05d}",
                                "paid" if status == "paid" else "locked", approver_id, created, created))
                batch_of[status], batch_fill[status] = len(batches), 0
            batch_fill[status] += 1
            batch_id = batch_of[status]
            paid_on = (created + dt.timedelta(days=10)).date() if status == "paid" else None
        claims.append((claim_id, f"EXP-{created.year}-{number:05d}", rng.choice(claimants), status, 1, created,
                       created, submitted, decided, approver_id if decided else None, batch_id, paid_on))
        decision = {"paid": "approved", "in_batch": "approved", "approved": "approved",
                    "rejected": "rejected"}.get(status, "pending")
        for line_number in range(rng.randint(1, 4)):
            spent = (created - dt.timedelta(days=line_number + 1)).date()
            if line_number == 0:
                miles = rng.randint(3, 60)
                lines.append((claim_id, spent, "mileage", "Home to case meeting and back", miles * 45, 0, decision,
                              created, created, "Chelmsford", "Colchester", miles, "car_van",
                              spent.year if spent.month > 4 else spent.year - 1, miles, 45))
            else:
                lines.append((claim_id, spent, rng.choice(categories), "Bench expense", rng.randint(150, 2500), 0,
                              decision, created, created, None, None, None, None, None, None, None))
        if submitted:
            events.append((claim_id, submitted, None, "draft", status if status == "submitted" else "submitted"))
        if decided:
            events.append((claim_id, decided, approver_id, "submitted", status))
    timed_copy(engine, "expense_payment_batches", ["id", "reference", "status", "created_by_id", "created_at",
                                                   "locked_at"], batches)
    timed_copy(engine, "expense_claims", ["id", "reference", "claimant_id", "status", "version", "created_at",
                                          "updated_at", "submitted_at", "decided_at", "decided_by_id", "batch_id",
                                          "paid_on"], claims)
    timed_copy(engine, "expense_lines", ["claim_id", "spent_on", "category", "description", "amount_pence",
                                         "passengers", "decision", "created_at", "updated_at", "from_place",
                                         "to_place", "miles", "vehicle", "tax_year", "miles_at_rate",
                                         "pence_per_mile"], lines)
    timed_copy(engine, "expense_claim_events", ["claim_id", "at", "actor_id", "from_status", "to_status"], events)
    with engine.begin() as connection:
        for table, counters in (("expense_claim_reference_counters", numbers),
                                ("expense_batch_reference_counters", {NOW.year: len(batches)})):
            for year, last in counters.items():
                connection.execute(text(f"INSERT INTO {table} (year, last_number) VALUES (:y, :n)"),
                                   {"y": year, "n": last})


def _audit(engine: Engine, count: int, actors: list[int]) -> None:
    def rows() -> Iterator[tuple]:
        rng = random.Random(2029)
        span = 5 * 365 * 24 * 3600
        for number in range(count):
            action = AUDIT_ACTIONS[number % len(AUDIT_ACTIONS)]
            yield (NOW - dt.timedelta(seconds=span * (count - number) // count), rng.choice(actors), action,
                   action.split(".")[0], rng.randint(1, 100_000), "{}")

    timed_copy(engine, "audit_entries", ["at", "actor_id", "action", "subject_type", "subject_id", "details"], rows())


def _training(engine: Engine, cohorts: int, user_ids: list[int], trainer_id: int) -> None:
    """`cohorts` cohorts of a new course, each of COHORT_SIZE volunteers over four days: the first half
    finished (completed, registers taken), the rest still to come (enrolled)."""
    rng = random.Random(2030)
    with engine.connect() as connection:
        first = connection.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM training_cohorts"))
        course_id = connection.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM training_courses"))
    cohort_rows, day_rows, links, enrolments, marks = [], [], [], [], []
    day_id = enrolment_id = 0
    for index in range(cohorts):
        cohort_id = first + index
        past = index < cohorts // 2
        start = TODAY + dt.timedelta(days=(index - cohorts // 2) * 7 + (0 if past else 14))
        cohort_rows.append(dict(id=cohort_id, course_id=course_id, name=f"Bench cohort {index + 1}",
                                capacity=COHORT_SIZE, venue_name="Chelmsford Community Centre", created_at=NOW))
        links.append(dict(cohort_id=cohort_id, user_id=trainer_id))
        days = []
        for day_number in range(1, 5):
            day_id += 1
            starts = dt.datetime.combine(start + dt.timedelta(days=day_number - 1), dt.time(9, 30), tzinfo=dt.UTC)
            day_rows.append(dict(id=day_id, cohort_id=cohort_id, day_number=day_number, starts_at=starts,
                                 ends_at=starts + dt.timedelta(hours=7)))
            days.append(day_id)
        for user_id in rng.sample(user_ids, COHORT_SIZE):
            enrolment_id += 1
            enrolments.append(dict(
                id=enrolment_id, cohort_id=cohort_id, user_id=user_id,
                status="completed" if past else "enrolled", enrolled_at=NOW - dt.timedelta(days=60),
                completed_on=start + dt.timedelta(days=4) if past else None, created_at=NOW,
            ))
            if past:
                marks.extend(dict(enrolment_id=enrolment_id, cohort_day_id=day, mark="present", recorded_at=NOW)
                             for day in days)
    with engine.begin() as connection:
        offset = connection.scalar(text("SELECT coalesce(max(id), 0) FROM training_enrolments"))
        for row in enrolments:
            row["id"] += offset
        for row in marks:
            row["enrolment_id"] += offset
        insert_rows(connection, Course, [dict(id=course_id, title="Bench facilitator course")])
        insert_rows(connection, Cohort, cohort_rows)
        insert_rows(connection, CohortDay, day_rows)
        insert_rows(connection, CohortTrainer, links)
        insert_rows(connection, Enrolment, enrolments)
        insert_rows(connection, Attendance, marks)
        reset_sequences(connection, ("training_courses", "training_cohorts", "training_cohort_days",
                                     "training_enrolments", "training_attendances"))


def _supervision(engine: Engine, volunteers: list[tuple[int, int, VolunteerStatus]], supervisors: int,
                 upcoming: int, coordinator_id: int) -> None:
    rng = random.Random(2031)
    active = [user for _number, user, status in volunteers if status is VolunteerStatus.ACTIVE]
    named = active[:supervisors]
    slots, bookings, records = [], [], []

    def slot(starts: dt.datetime, supervisor: int) -> int:
        slots.append(dict(id=len(slots) + 1, kind="individual", mode="online", starts_at=starts,
                          ends_at=starts + dt.timedelta(hours=1), capacity=1, supervisor_id=supervisor,
                          online_link="https://meet.example.org/bench", created_by_id=coordinator_id,
                          created_at=starts - dt.timedelta(days=20), updated_at=starts - dt.timedelta(days=20)))
        return len(slots)

    def book(slot_id: int, user_id: int, at: dt.datetime) -> int:
        bookings.append(dict(id=len(bookings) + 1, slot_id=slot_id, user_id=user_id, booked_by_id=user_id,
                             booked_at=at, scheduled_at=at, updated_at=at))
        return len(bookings)

    for user_id in active[supervisors:]:
        for _ in range(rng.randint(1, 3)):
            held = TODAY - dt.timedelta(days=rng.randint(1, 330))
            starts = dt.datetime.combine(held, dt.time(rng.randint(9, 18)), tzinfo=dt.UTC)
            supervisor = rng.choice(named)
            booking_id = book(slot(starts, supervisor), user_id, starts - dt.timedelta(days=10))
            records.append(dict(booking_id=booking_id, user_id=user_id, supervisor_id=supervisor, held_on=held,
                                attendance="attended", actions="Keep notes of each contact attempt",
                                next_due_on=held + dt.timedelta(days=91), recorded_by_id=supervisor,
                                recorded_at=starts + dt.timedelta(hours=2), updated_at=starts + dt.timedelta(hours=2)))
    for _ in range(upcoming):
        starts = dt.datetime.combine(TODAY + dt.timedelta(days=rng.randint(1, 56)), dt.time(rng.randint(9, 18)),
                                     tzinfo=dt.UTC)
        slot_id = slot(starts, rng.choice(named))
        if rng.random() < 0.3:
            book(slot_id, rng.choice(active[supervisors:]), NOW)
    with engine.begin() as connection:
        insert_rows(connection, Supervisor, [dict(user_id=user_id, named_by_id=coordinator_id, named_at=NOW)
                                             for user_id in named])
        insert_rows(connection, SupervisionSlot, slots)
        insert_rows(connection, SupervisionBooking, bookings)
        insert_rows(connection, SupervisionRecord, records)
        reset_sequences(connection, ("supervision_supervisors", "supervision_slots", "supervision_bookings",
                                     "supervision_records"))


def _demo_and_proposal(url: str) -> None:
    """The demo data on top (see the module docstring), the demo trainer on ten bench cohorts, and
    one bulk proposal by the demo coordinator."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, EXPENSES_RECEIPT_DIR=RECEIPTS_DIR)
    with app.app_context():
        session = db.session
        settings.set_setting(session, settings.DEMO_DATABASE, True)
        settings.set_setting(session, DEMO_ALLOCATION_SETTING, True)
        begun = time.perf_counter()
        demo.load(session, environment="bench", now=NOW, receipts_dir=RECEIPTS_DIR)
        session.commit()
        print(f"  demo data in {time.perf_counter() - begun:.1f} s", flush=True)
        trainer = find_user_by_email(session, "trainer@example.org")
        # The last ten bench cohorts: still to come, each with a full enrolment.
        for cohort_id in session.scalars(select(Cohort.id).where(Cohort.name.like("Bench cohort %"))
                                         .order_by(Cohort.id.desc()).limit(10)):
            session.add(CohortTrainer(cohort_id=cohort_id, user_id=trainer.id))
        session.commit()
        begun = time.perf_counter()
        coordinator = find_user_by_email(session, "coordinator@example.org")
        proposal = bulk.propose(session, actor=coordinator, now=NOW)
        session.commit()
        print(f"  bulk proposal {proposal.id} over {proposal.cases_considered:,} waiting cases"
              f" in {time.perf_counter() - begun:.1f} s", flush=True)


def load(engine: Engine, url: str, scale: float) -> None:
    """Fill the empty bench database at `scale` (see the module docstring)."""
    size = sizes(scale)
    allocation_data.load(engine, volunteers=size["volunteers"], cases=size["open_cases"])
    # The demo volunteer exists before the case loader runs, so they lead 25 of its cases too.
    with Session(engine) as session:
        facilitator = account_services.create_user(
            session, email="volunteer@example.org", name=demo.DEMO_ACCOUNTS[3].name, roles=[Role.VOLUNTEER],
            password_hash=hash_password(PASSWORD), now=NOW)
        facilitator_id = facilitator.id
        session.commit()
    cases_bench.load(engine, size["cases"], allocation_data.COORDINATOR_ID, facilitator_id,
                     first_id=size["open_cases"] + 1, numbers={2026: size["open_cases"]})
    volunteers = _volunteers(engine)
    _vetting(engine, volunteers)
    claimants = [user for _number, user, status in volunteers if status is VolunteerStatus.ACTIVE]
    _claims(engine, size["claims"], claimants, allocation_data.COORDINATOR_ID)
    _audit(engine, size["audit"], [allocation_data.COORDINATOR_ID, *claimants[:500]])
    trainees = [user for _number, user, status in volunteers if status is not VolunteerStatus.LEFT]
    _training(engine, size["cohorts"], trainees, allocation_data.COORDINATOR_ID)
    _supervision(engine, volunteers, size["supervisors"], size["upcoming_slots"], allocation_data.COORDINATOR_ID)
    with engine.begin() as connection:
        reset_sequences(connection, ("users", "expense_payment_batches", "expense_claims", "expense_lines",
                                     "expense_claim_events", "audit_entries"))
    _demo_and_proposal(url)
    vacuum_analyze(engine)
