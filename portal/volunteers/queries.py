"""Reads of volunteer applications: `get_*` raises NotFound, `find_*` returns None, `list_*` a list."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.core.clock import london_to_utc
from portal.core.errors import NotFound
from portal.core.paging import PageWindow
from portal.volunteers.models import Application, ApplicationNote, ApplicationStatus


def get_application(session: Session, application_id: int) -> Application:
    """The application with this id; raises NotFound."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("Application not found")
    return application


def find_application_by_reference(session: Session, reference: str) -> Application | None:
    return session.scalar(select(Application).where(Application.reference == reference.strip().upper()))


def find_current_application(session: Session, user_id: int) -> Application | None:
    """The person's most recent application (draft, in progress or closed), or None."""
    return session.scalar(
        select(Application).where(Application.user_id == user_id).order_by(Application.created_at.desc(),
                                                                            Application.id.desc())
    )


def _name_key(name: str | None) -> str:
    # Compared in Python: SQLite's lower() leaves accented capitals (Á) alone.
    return " ".join((name or "").casefold().split())


def _duplicates_among(session: Session, applications: list[Application]) -> dict[int, list[Application]]:
    """For each application, the other non-draft applications with its e-mail, or its name and date
    of birth (one query: candidates share an e-mail or a date of birth; names are compared here)."""
    emails = {a.email.lower() for a in applications if a.email}
    births = {a.date_of_birth for a in applications if a.date_of_birth and a.full_name}
    conditions = []
    if emails:
        conditions.append(func.lower(Application.email).in_(emails))
    if births:
        conditions.append(Application.date_of_birth.in_(births))
    if not conditions:
        return {application.id: [] for application in applications}
    candidates = list(
        session.scalars(
            select(Application)
            .where(or_(*conditions), Application.status != ApplicationStatus.DRAFT)
            .order_by(Application.submitted_at, Application.id)
        )
    )
    found: dict[int, list[Application]] = {}
    for application in applications:
        email = (application.email or "").lower()
        name = _name_key(application.full_name)
        found[application.id] = [
            other for other in candidates
            if other.id != application.id
            and (
                (email and (other.email or "").lower() == email)
                or (name and other.date_of_birth == application.date_of_birth and _name_key(other.full_name) == name)
            )
        ]
    return found


def list_possible_duplicates(session: Session, application: Application) -> list[Application]:
    """Other submitted applications with the same e-mail address, or the same name (ignoring case)
    and date of birth, oldest first. Drafts are not counted: they may never be sent."""
    return _duplicates_among(session, [application])[application.id]


def list_duplicate_flags(session: Session, applications: list[Application]) -> set[int]:
    """The ids among `applications` that have a possible duplicate, in one query (for the queue)."""
    if not applications:
        return set()
    return {application_id for application_id, others in _duplicates_among(session, applications).items() if others}


SORTS = {
    "submitted": Application.submitted_at,
    "name": func.lower(Application.full_name),
    "reference": Application.reference,
    "status": Application.status,
    "updated": Application.updated_at,
}


@dataclass(frozen=True)
class ApplicationFilter:
    """The coordinator's queue filters; every field is optional. Dates are Europe/London days,
    `weekday` and `period` together ask for one availability slot (either alone matches any)."""

    statuses: tuple[ApplicationStatus, ...] = ()
    district: str | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    weekday: str | None = None
    period: str | None = None
    include_drafts: bool = False


@dataclass(frozen=True)
class ApplicationPage:
    applications: list[Application]
    window: PageWindow

    @property
    def page(self) -> int:
        return self.window.page

    @property
    def pages(self) -> int:
        return self.window.pages

    @property
    def total(self) -> int:
        return self.window.total


def _json_text_contains(column, value: str):
    # Portable across SQLite and PostgreSQL: search the stored JSON text for the encoded value.
    return cast(column, String).contains(json.dumps(value), autoescape=True)


def list_applications(
    session: Session, filters: ApplicationFilter = ApplicationFilter(), *, sort: str = "submitted",
    descending: bool = True, page: int = 1, per_page: int = 25,
) -> ApplicationPage:
    """One page of applications for the coordinator's queue, filtered and sorted, in two queries
    whatever the page size (a count and the page; no relationships are loaded)."""
    query = select(Application)
    if filters.statuses:
        query = query.where(Application.status.in_(filters.statuses))
    elif not filters.include_drafts:
        query = query.where(Application.status != ApplicationStatus.DRAFT)
    if filters.district:
        query = query.where(_json_text_contains(Application.districts, filters.district))
    if filters.submitted_from:
        query = query.where(Application.submitted_at >= london_to_utc(filters.submitted_from, dt.time()))
    if filters.submitted_to:
        end = london_to_utc(filters.submitted_to + dt.timedelta(days=1), dt.time())
        query = query.where(Application.submitted_at < end)
    if filters.weekday and filters.period:
        query = query.where(
            Application.availability[filters.weekday].as_string().contains(json.dumps(filters.period))
        )
    elif filters.weekday:
        query = query.where(_json_text_contains(Application.availability, filters.weekday))
    elif filters.period:
        query = query.where(_json_text_contains(Application.availability, filters.period))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    window = PageWindow.of(total, page, per_page)
    key = SORTS.get(sort, SORTS["submitted"])
    order = key.desc() if descending else key.asc()
    tiebreak = Application.id.desc() if descending else Application.id.asc()
    applications = list(
        session.scalars(query.order_by(order.nulls_last(), tiebreak).limit(window.per_page).offset(window.offset))
    )
    return ApplicationPage(applications=applications, window=window)


def count_applications(session: Session, statuses: tuple[ApplicationStatus, ...]) -> int:
    """How many applications are in any of `statuses` (one aggregate statement)."""
    return session.scalar(select(func.count(Application.id)).where(Application.status.in_(statuses))) or 0


def list_application_notes(session: Session, application_id: int) -> list[ApplicationNote]:
    """The coordinators' notes on an application, newest first, with their authors (one statement)."""
    return list(
        session.scalars(
            select(ApplicationNote)
            .where(ApplicationNote.application_id == application_id)
            .options(joinedload(ApplicationNote.author))
            .order_by(ApplicationNote.written_at.desc(), ApplicationNote.id.desc())
        )
    )
