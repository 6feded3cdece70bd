"""Reads of references: `get_*` raises NotFound, `find_*` returns None, `list_*` returns a list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import digest
from portal.core.errors import NotFound
from portal.volunteers.models import CLOSED_STATUSES
from portal.volunteers.references.errors import LinkState
from portal.volunteers.references.models import Reference, ReferenceLink


def get_reference(session: Session, application_id: int, reference_id: int) -> Reference:
    """The reference with this id on this application; raises NotFound (also when the ids do not match)."""
    reference = session.get(Reference, reference_id)
    if reference is None or reference.application_id != application_id:
        raise NotFound("Reference not found")
    return reference


def list_references(session: Session, application_id: int) -> list[Reference]:
    """The application's references (requested or recorded), by referee position."""
    return list(
        session.scalars(
            select(Reference).where(Reference.application_id == application_id).order_by(Reference.position)
        )
    )


def list_satisfactory_positions(session: Session, application_id: int) -> set[int]:
    """The referee positions whose reference was received and recorded satisfactory."""
    return {
        reference.position for reference in list_references(session, application_id)
        if reference.is_received and reference.is_satisfactory
    }


@dataclass(frozen=True)
class LinkLookup:
    """What a referee's token leads to: its `state`, and the reference when the token is known."""

    state: LinkState
    reference: Reference | None = None
    link: ReferenceLink | None = None


def find_link(session: Session, token: str, *, now: dt.datetime) -> LinkLookup:
    """Look a referee's token up by its digest and say whether the form may be used now.

    USED once the reference is in; EXPIRED when the link is past its date, was replaced by a send to a
    corrected address, or the application is closed; UNKNOWN for a token we never issued.
    """
    link = session.scalar(select(ReferenceLink).where(ReferenceLink.token_digest == digest(token or "")))
    if link is None:
        return LinkLookup(LinkState.UNKNOWN)
    reference = link.reference
    if reference.is_received:
        state = LinkState.USED
    elif link.revoked_at is not None or link.expires_at <= now or reference.application.status in CLOSED_STATUSES:
        state = LinkState.EXPIRED
    else:
        state = LinkState.VALID
    return LinkLookup(state, reference, link)
