"""Accounts on a plain Session: passwords, roles, tokens, deactivation."""

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import account_services
from portal.core.accounts import AccountToken, Role, TokenPurpose, find_signed_in_user
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from portal.core.outbox import OutboxMessage
from portal.core.passwords import password_problems
from tests.builders import FIXED_NOW, PASSWORD, make_user

NOW = FIXED_NOW


def signed_in(session, login_id: str, key: str):
    return find_signed_in_user(session, login_id, key, now=NOW, lifetime=dt.timedelta(hours=12))


def link(token: str) -> str:
    return f"https://portal.example/reset/{token}"


def test_common_and_short_passwords_are_refused_with_a_reason():
    assert password_problems("short") == ["Password must be 10 characters or more"]
    assert "harder to guess" in password_problems("password123")[0]
    assert password_problems("Password1234")
    assert password_problems("kettle-orchard-lantern-42") == []


def test_password_that_is_the_persons_own_name_is_refused(session):
    with pytest.raises(ValidationFailed) as refused:
        account_services.create_user(
            session, email="mairead@example.org", name="Mairead Fitzgerald-Byrne",
            roles=[Role.VOLUNTEER], password="fitzgeraldbyrne", now=NOW,
        )
    assert refused.value.field == "password"


def test_names_keep_apostrophes_and_accents_and_emails_are_case_insensitive(session):
    user = account_services.create_user(
        session, email="  Zoe.NiBhriain@Example.org ", name="Zoë Ní Bhriain-O'Neill",
        roles=[Role.VOLUNTEER, Role.TRAINER], password=PASSWORD, now=NOW,
    )
    session.commit()
    assert user.email == "zoe.nibhriain@example.org"
    assert user.name == "Zoë Ní Bhriain-O'Neill"
    assert user.roles == {Role.VOLUNTEER, Role.TRAINER}
    assert user.primary_role is Role.TRAINER
    found = account_services.authenticate(session, "ZOE.nibhriain@example.ORG", PASSWORD, now=NOW)
    assert found is not None and found.id == user.id


def test_duplicate_email_is_refused(session):
    make_user(session, email="same@example.org")
    with pytest.raises(RuleViolation, match="already an account"):
        make_user(session, email="SAME@example.org")


def test_wrong_password_and_unknown_email_both_return_none_and_failure_is_audited(session):
    user = make_user(session)
    assert account_services.authenticate(session, user.email, "wrong-password-here", now=NOW) is None
    assert account_services.authenticate(session, "nobody@example.org", PASSWORD, now=NOW) is None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == user.id)).all()
    assert "auth.sign_in_failed" in actions


def test_deactivated_person_cannot_sign_in_and_old_login_id_stops_working(session):
    admin = make_user(session, roles=[Role.ADMIN])
    user = make_user(session)
    login_id = user.get_id()
    key = account_services.start_sign_in_session(session, user, now=NOW)
    assert signed_in(session, login_id, key) is user
    account_services.deactivate_user(session, user, actor=admin, now=NOW)
    assert account_services.authenticate(session, user.email, PASSWORD, now=NOW) is None
    assert signed_in(session, login_id, key) is None
    account_services.reactivate_user(session, user, actor=admin, now=NOW)
    assert signed_in(session, login_id, key) is None  # must sign in afresh
    assert account_services.authenticate(session, user.email, PASSWORD, now=NOW) is not None


def test_only_admins_manage_people_and_an_admin_cannot_lock_themselves_out(session):
    admin = make_user(session, roles=[Role.ADMIN])
    coordinator = make_user(session, roles=[Role.COORDINATOR])
    with pytest.raises(PermissionDenied):
        account_services.deactivate_user(session, admin, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation):
        account_services.deactivate_user(session, admin, actor=admin, now=NOW)
    with pytest.raises(RuleViolation):
        account_services.set_roles(session, admin, [Role.COORDINATOR], actor=admin, now=NOW)
    account_services.set_roles(session, coordinator, [Role.COORDINATOR, Role.TRAINER], actor=admin, now=NOW)
    assert coordinator.roles == {Role.COORDINATOR, Role.TRAINER}
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.roles_changed"))
    assert entry.details == {"added": ["trainer"], "removed": []}


def test_reset_link_is_single_use_expires_and_signs_out_other_browsers(session):
    user = make_user(session)
    old_login_id = user.get_id()
    key = account_services.start_sign_in_session(session, user, now=NOW)
    assert signed_in(session, old_login_id, key) is user
    sent: list[str] = []

    def capture(token: str) -> str:
        sent.append(token)
        return link(token)

    account_services.request_password_reset(
        session, user.email, link=capture, service_name="Portal", lifetime=dt.timedelta(hours=2), now=NOW
    )
    (token,) = sent
    message = session.scalar(select(OutboxMessage))
    assert link(token) in message.text_body and message.recipients == [user.email]
    # Only a digest is stored.
    assert session.scalar(select(AccountToken.token_digest)) != token

    account_services.complete_password_token(
        session, token, TokenPurpose.PASSWORD_RESET, "new-lantern-kettle-99", now=NOW
    )
    assert signed_in(session, old_login_id, key) is None
    assert account_services.authenticate(session, user.email, "new-lantern-kettle-99", now=NOW)
    with pytest.raises(RuleViolation, match="expired or has already been used"):
        account_services.complete_password_token(
            session, token, TokenPurpose.PASSWORD_RESET, "another-lantern-kettle-7", now=NOW
        )


def test_reset_link_expires_and_a_newer_link_replaces_an_older_one(session):
    user = make_user(session)
    sent: list[str] = []
    for minutes in (0, 5):
        account_services.request_password_reset(
            session, user.email, link=lambda t: sent.append(t) or t, service_name="Portal",
            lifetime=dt.timedelta(hours=2), now=NOW + dt.timedelta(minutes=minutes),
        )
    first, second = sent
    later = NOW + dt.timedelta(hours=1)
    assert account_services.find_valid_token(session, first, TokenPurpose.PASSWORD_RESET, now=later) is None
    assert account_services.find_valid_token(session, second, TokenPurpose.PASSWORD_RESET, now=later)
    too_late = NOW + dt.timedelta(hours=2, minutes=6)
    assert account_services.find_valid_token(session, second, TokenPurpose.PASSWORD_RESET, now=too_late) is None


def test_reset_for_unknown_email_queues_nothing(session):
    account_services.request_password_reset(
        session, "nobody@example.org", link=link, service_name="Portal",
        lifetime=dt.timedelta(hours=2), now=NOW,
    )
    assert session.scalar(select(OutboxMessage)) is None


def test_invitation_creates_account_without_password_and_link_sets_one(session):
    admin = make_user(session, roles=[Role.ADMIN])
    sent: list[str] = []
    user = account_services.invite_user(
        session, email="new.trainer@example.org", name="Ffion Hughes", roles=[Role.TRAINER],
        actor=admin, link=lambda t: sent.append(t) or link(t), service_name="Portal",
        lifetime=dt.timedelta(days=7), now=NOW,
    )
    assert user.password_hash is None
    assert account_services.authenticate(session, user.email, "", now=NOW) is None
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.template == "core/invitation"))
    assert "Trainer" in message.text_body and admin.name in message.text_body
    account_services.complete_password_token(
        session, sent[0], TokenPurpose.INVITATION, "bright-harbour-meadow-12", now=NOW
    )
    assert account_services.authenticate(session, user.email, "bright-harbour-meadow-12", now=NOW)


def test_a_sign_in_session_ends_when_signed_out_and_after_its_lifetime(session):
    user = make_user(session)
    login_id = user.get_id()
    key = account_services.start_sign_in_session(session, user, now=NOW)
    other = account_services.start_sign_in_session(session, user, now=NOW)
    lifetime = dt.timedelta(hours=12)
    assert find_signed_in_user(session, login_id, key, now=NOW + lifetime - dt.timedelta(seconds=1),
                               lifetime=lifetime) is user
    assert find_signed_in_user(session, login_id, key, now=NOW + lifetime, lifetime=lifetime) is None
    assert find_signed_in_user(session, login_id, None, now=NOW, lifetime=lifetime) is None
    assert find_signed_in_user(session, login_id, "made-up", now=NOW, lifetime=lifetime) is None
    account_services.end_sign_in_session(session, key, now=NOW)
    assert signed_in(session, login_id, key) is None
    assert signed_in(session, login_id, other) is user  # another browser carries on
    account_services.end_sign_in_session(session, key, now=NOW)  # twice is harmless
    account_services.end_sign_in_session(session, None, now=NOW)
