"""Demo vetting: volunteers whose checks are in every state (cleared, expiring in 30, 60 and 90 days,
lapsed, refused, submitted, not started, withdrawn, renewed), recorded through the real services so
every rule holds and every step is audited. Flask-free; called by `flask demo load`.

Names are invented; e-mail addresses are at example.org.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import account_services, settings
from portal.core.accounts import Role, User, find_user_by_email
from portal.core.clock import LONDON
from portal.volunteers.profiles.models import ExperienceLevel, Volunteer, VolunteerStatus
from portal.volunteers.vetting import services
from portal.volunteers.vetting.models import CheckKind, CheckStatus, CircumstanceKind, VettingCheck
from portal.volunteers.vetting.rules import add_months

DEMO_VETTING_SETTING = "volunteers.demo_vetting_loaded"
DEMO_COORDINATOR_EMAIL = "coordinator@example.org"
DEMO_VOLUNTEER_EMAIL = "volunteer@example.org"

C = CheckStatus
K = CheckKind


@dataclass(frozen=True)
class DemoVolunteer:
    email: str
    name: str
    status: VolunteerStatus
    story: str


DEMO_VETTING_VOLUNTEERS = (
    DemoVolunteer("vetting01@example.org", "Amara Okafor", VolunteerStatus.ACTIVE, "cleared, renewed every year"),
    DemoVolunteer("vetting02@example.org", "Rhys Pritchard", VolunteerStatus.ACTIVE, "expires in 3 weeks"),
    DemoVolunteer("vetting03@example.org", "Małgorzata Wiśniewska", VolunteerStatus.ACTIVE, "expires in 7 weeks"),
    DemoVolunteer("vetting04@example.org", "Declan O'Sullivan", VolunteerStatus.ACTIVE, "expires in 11 weeks"),
    DemoVolunteer("vetting05@example.org", "Chloé Martin-Hughes", VolunteerStatus.ACTIVE, "lapsed, renewal submitted"),
    DemoVolunteer("vetting06@example.org", "Tunde Adebayo", VolunteerStatus.PAUSED, "lapsed, nothing started"),
    DemoVolunteer("vetting07@example.org", "Harriet Ng", VolunteerStatus.VETTING, "police vetting refused"),
    DemoVolunteer("vetting08@example.org", "Ioan Rees-Davies", VolunteerStatus.VETTING, "submitted, waiting"),
    DemoVolunteer("vetting09@example.org", "Sinéad Ní Dhomhnaill", VolunteerStatus.VETTING, "not started"),
    DemoVolunteer("vetting10@example.org", "Farah Qureshi", VolunteerStatus.ACTIVE,
                  "security check and DBS on the Update Service"),
    DemoVolunteer("vetting11@example.org", "George Whitfield", VolunteerStatus.VETTING,
                  "withdrawn, then resubmitted; references missing"),
)


def _volunteer_for(session: Session, user: User, status: VolunteerStatus, now: dt.datetime) -> Volunteer:
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id, status=status, offered_at=now, status_changed_at=now, created_at=now)
        session.add(volunteer)
        session.flush()
    return volunteer


def _check(session: Session, volunteer: Volunteer, kind: CheckKind, status: CheckStatus, *, actor: User,
           now: dt.datetime, renews: VettingCheck | None = None, **values) -> VettingCheck:
    levels = {K.NPPV: "NPPV2", K.NSV: "SC", K.DBS: "ENHANCED_BARRED", K.REFERENCES: None}
    makers = {K.NPPV: "Essex Police Force Vetting Unit", K.NSV: "United Kingdom Security Vetting",
              K.DBS: "Disclosure and Barring Service", K.REFERENCES: None}
    values.setdefault("level", levels[kind])
    values.setdefault("decision_maker", makers[kind])
    details = services.CheckDetails(kind=kind, status=status, **values)
    return services.record_check(session, volunteer.id, details, actor=actor, now=now,
                                 renews_id=renews.id if renews else None)


def _nppv_history(session: Session, volunteer: Volunteer, first_cleared: dt.date, today: dt.date, *,
                  actor: User, now: dt.datetime, last4: str) -> VettingCheck:
    """Police vetting cleared on `first_cleared` and renewed on each anniversary up to today."""
    previous = None
    cleared = first_cleared
    while cleared <= today:
        previous = _check(session, volunteer, K.NPPV, C.CLEARED, actor=actor, now=now, renews=previous,
                          submitted_on=cleared - dt.timedelta(days=24), cleared_on=cleared, reference_last4=last4)
        cleared = add_months(cleared, 12) - dt.timedelta(days=10)  # renewed a little before each expiry
    return previous


def _references(session: Session, volunteer: Volunteer, cleared_on: dt.date, *, actor: User, now: dt.datetime):
    _check(session, volunteer, K.REFERENCES, C.CLEARED, actor=actor, now=now, cleared_on=cleared_on,
           notes="Two satisfactory references taken up at recruitment.")


def _lapse(check: VettingCheck, now: dt.datetime) -> None:
    # As the daily job would have done on the expiry day (without re-sending its e-mails in the demo).
    check.status = C.LAPSED
    check.lapsed_at = now


def _expiring_in(days: int, today: dt.date) -> dt.date:
    """The clearance date of a 12-month check that expires `days` from today."""
    return add_months(today + dt.timedelta(days=days), -12)


def load_demo_vetting(
    session: Session, *, now: dt.datetime, password_hash: str | None = None,
    coordinator: User | None = None, facilitators: Sequence[User] = (),
) -> list[Volunteer]:
    """Create the demo vetting volunteers (accounts with the volunteer role, volunteer records and
    checks) and give the demo volunteer (volunteer@example.org, if present) a record cleared since
    long before any demo case, so demo allocations stay valid. Idempotent: returns [] once loaded.
    Flushes, never commits. `password_hash` is given to the new accounts (the demo password).
    """
    if settings.get_setting(session, DEMO_VETTING_SETTING):
        return []
    today = now.astimezone(LONDON).date()
    actor = coordinator or find_user_by_email(session, DEMO_COORDINATOR_EMAIL)
    if actor is None:
        actor = account_services.create_user(
            session, email=DEMO_COORDINATOR_EMAIL, name="Siobhán O'Neill", roles=[Role.COORDINATOR],
            password_hash=password_hash, now=now,
        )
    users: dict[str, User] = {}
    for demo in DEMO_VETTING_VOLUNTEERS:
        user = find_user_by_email(session, demo.email) or account_services.create_user(
            session, email=demo.email, name=demo.name, roles=[Role.VOLUNTEER], password_hash=password_hash, now=now,
        )
        users[demo.email] = user
    created = [_volunteer_for(session, users[demo.email], demo.status, now) for demo in DEMO_VETTING_VOLUNTEERS]
    v = dict(zip((demo.email for demo in DEMO_VETTING_VOLUNTEERS), created, strict=True))
    years_ago = add_months(today, -36)
    story: dict[str, Callable[[Volunteer], None]] = {}

    def amara(volunteer):
        _nppv_history(session, volunteer, years_ago, today, actor=actor, now=now, last4="4Q7B")
        _references(session, volunteer, years_ago - dt.timedelta(days=30), actor=actor, now=now)

    def expiring(days: int, last4: str):
        def make(volunteer):
            _check(session, volunteer, K.NPPV, C.CLEARED, actor=actor, now=now,
                   submitted_on=_expiring_in(days, today) - dt.timedelta(days=21),
                   cleared_on=_expiring_in(days, today), reference_last4=last4)
            _references(session, volunteer, _expiring_in(days, today) - dt.timedelta(days=40), actor=actor, now=now)
        return make

    def lapsed_with_renewal(volunteer):
        old = _check(session, volunteer, K.NPPV, C.CLEARED, actor=actor, now=now,
                     cleared_on=_expiring_in(-12, today), submitted_on=_expiring_in(-12, today) - dt.timedelta(days=30),
                     reference_last4="91XZ")
        _lapse(old, now)
        _references(session, volunteer, _expiring_in(-12, today) - dt.timedelta(days=60), actor=actor, now=now)
        _check(session, volunteer, K.NPPV, C.SUBMITTED, actor=actor, now=now,
               submitted_on=today - dt.timedelta(days=5), notes="Renewal forms sent to the force vetting unit late.")

    def lapsed_alone(volunteer):
        old = _check(session, volunteer, K.NPPV, C.CLEARED, actor=actor, now=now,
                     cleared_on=_expiring_in(-40, today), reference_last4="0C3D")
        _lapse(old, now)
        _references(session, volunteer, _expiring_in(-40, today) - dt.timedelta(days=60), actor=actor, now=now)

    def refused(volunteer):
        _check(session, volunteer, K.NPPV, C.REFUSED, actor=actor, now=now,
               submitted_on=today - dt.timedelta(days=45), decided_on=today - dt.timedelta(days=8),
               notes="Refused by the force vetting unit; no reasons given. Coordinator to meet the volunteer.")
        _references(session, volunteer, today - dt.timedelta(days=60), actor=actor, now=now)

    def submitted(volunteer):
        _check(session, volunteer, K.NPPV, C.SUBMITTED, actor=actor, now=now,
               submitted_on=today - dt.timedelta(days=19))
        _references(session, volunteer, today - dt.timedelta(days=25), actor=actor, now=now)

    def not_started(volunteer):
        _check(session, volunteer, K.NPPV, C.NOT_STARTED, actor=actor, now=now,
               notes="Vetting forms sent to the volunteer.")

    def security_cleared(volunteer):
        _nppv_history(session, volunteer, today - dt.timedelta(days=500), today, actor=actor, now=now, last4="5T2M")
        _check(session, volunteer, K.NSV, C.CLEARED, actor=actor, now=now, cleared_on=add_months(today, -12),
               reference_last4="SC81")
        _check(session, volunteer, K.DBS, C.CLEARED, actor=actor, now=now, level="ENHANCED_BARRED",
               dbs_workforce="adult_and_child", cleared_on=add_months(today, -24),
               update_service=True, update_service_checked_on=today - dt.timedelta(days=90), reference_last4="2231")
        _references(session, volunteer, today - dt.timedelta(days=600), actor=actor, now=now)

    def withdrawn(volunteer):
        first = _check(session, volunteer, K.NPPV, C.SUBMITTED, actor=actor, now=now,
                       submitted_on=today - dt.timedelta(days=70))
        services.update_check(session, first.id, services.CheckDetails(
            kind=K.NPPV, status=C.WITHDRAWN, level="NPPV2", submitted_on=first.submitted_on,
            decided_on=today - dt.timedelta(days=50), notes="Forms returned incomplete; withdrawn and restarted.",
        ), actor=actor, now=now)
        _check(session, volunteer, K.NPPV, C.SUBMITTED, actor=actor, now=now,
               submitted_on=today - dt.timedelta(days=20))
        services.report_circumstances(session, volunteer.id, CircumstanceKind.NEW_ADDRESS,
                                      "Moved to 14 Lexden Road, Colchester CO3 3RP.",
                                      changed_on=today - dt.timedelta(days=3), actor=volunteer.user, now=now)

    story.update({
        "vetting01@example.org": amara, "vetting02@example.org": expiring(21, "8J1K"),
        "vetting03@example.org": expiring(50, "3N6P"), "vetting04@example.org": expiring(78, "7R2W"),
        "vetting05@example.org": lapsed_with_renewal, "vetting06@example.org": lapsed_alone,
        "vetting07@example.org": refused, "vetting08@example.org": submitted,
        "vetting09@example.org": not_started, "vetting10@example.org": security_cleared,
        "vetting11@example.org": withdrawn,
    })
    for email, make in story.items():
        make(v[email])
    main = find_user_by_email(session, DEMO_VOLUNTEER_EMAIL)
    active = list(facilitators) or ([main] if main is not None else [])
    for number, person in enumerate(active):
        volunteer = _volunteer_for(session, person, VolunteerStatus.ACTIVE, now)
        # The founding facilitators: trained for sensitive cases and holding as many as anyone may.
        volunteer.experience = ExperienceLevel.SPECIALIST
        volunteer.max_cases = 10
        # Cleared since long before the first demo case, renewed yearly; the next expiries are spread
        # from about six weeks ahead, so the dashboard has some coming up.
        first = add_months(_expiring_in(45 + 23 * number, today), -60)
        previous = None
        cleared = first
        while cleared <= today:
            previous = _check(session, volunteer, K.NPPV, C.CLEARED, actor=actor, now=now, renews=previous,
                              submitted_on=cleared - dt.timedelta(days=30), cleared_on=cleared, reference_last4="6D4F")
            cleared = add_months(cleared, 12)
        _references(session, volunteer, first - dt.timedelta(days=45), actor=actor, now=now)
        created.append(volunteer)
    settings.set_setting(session, DEMO_VETTING_SETTING, True)
    session.flush()
    return created
