"""Reads of volunteer records: `get_*` raises NotFound, `find_*` returns None, `list_*` returns a list."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.core.accounts import User
from portal.core.errors import NotFound
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus


def get_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    """The volunteer record with this id; raises NotFound."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    return volunteer


def find_volunteer_for_user(session: Session, user_id: int) -> Volunteer | None:
    """The person's volunteer record, or None if they were never offered a place."""
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))


def list_volunteers(
    session: Session, *, statuses: tuple[VolunteerStatus, ...] = (), search: str | None = None
) -> list[Volunteer]:
    """Volunteer records in name order, optionally only in `statuses` and whose name or e-mail
    contains `search` (ignoring case)."""
    query = select(Volunteer).join(User, Volunteer.user_id == User.id).options(selectinload(Volunteer.user))
    if statuses:
        query = query.where(Volunteer.status.in_(statuses))
    if search and search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern)))
    return list(session.scalars(query.order_by(func.lower(User.name), Volunteer.id)))
