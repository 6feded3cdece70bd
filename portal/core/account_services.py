"""Account use cases: sign-in and sign-out, sign-up, password reset, invitations, roles and deactivation.

Services flush and never commit. E-mail links are built by the caller's `link(token)` function, so
this module needs no Flask.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.core import audit, outbox
from portal.core.accounts import (
    AccountToken,
    Role,
    SignInSession,
    TokenPurpose,
    User,
    UserRole,
    digest,
    find_user_by_email,
    new_session_token,
    normalise_email,
)
from portal.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from portal.core.passwords import hash_password, needs_rehash, password_problems, verify_password

LinkBuilder = Callable[[str], str]

# Ended and expired sign-in sessions are kept this long (for the audit trail's sake), then deleted.
SIGN_IN_SESSION_KEPT = dt.timedelta(days=30)


def _check_password(password: str, user: User) -> None:
    problems = password_problems(password, user_inputs=[user.email, *user.name.split()])
    if problems:
        raise ValidationFailed(reasons=problems, field="password")


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    roles: Iterable[Role],
    password: str | None = None,
    password_hash: str | None = None,
    actor: User | None = None,
    now: dt.datetime,
) -> User:
    """Create an account. Raises RuleViolation if the e-mail address is taken.

    A password is checked against the policy; `password_hash` (for demo and test data) is not.
    """
    email = normalise_email(email)
    if not email or not name.strip():
        raise ValidationFailed("An account needs an e-mail address and a name")
    if find_user_by_email(session, email) is not None:
        raise RuleViolation(f"There is already an account for {email}")
    user = User(email=email, name=name.strip(), created_at=now)
    user.role_links = [UserRole(role=Role(role), granted_at=now) for role in set(roles)]
    if password is not None:
        _check_password(password, user)
        user.password_hash = hash_password(password)
    elif password_hash is not None:
        user.password_hash = password_hash
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", user, at=now, email=email, roles=sorted(user.roles))
    return user


def authenticate(session: Session, email: str, password: str, *, now: dt.datetime) -> User | None:
    """The active user with this e-mail and password, or None (never says which part was wrong)."""
    user = find_user_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        if user is not None:
            audit.record(session, None, "auth.sign_in_failed", user, at=now)
        return None
    if user.is_deactivated:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    audit.record(session, user, "auth.signed_in", user, at=now)
    return user


def start_sign_in_session(session: Session, user: User, *, now: dt.datetime) -> str:
    """Record a new signed-in browser for `user`; returns the key its cookie carries (stored as a digest).

    Also deletes this person's sessions that began more than SIGN_IN_SESSION_KEPT ago.
    """
    session.execute(
        delete(SignInSession).where(
            SignInSession.user_id == user.id, SignInSession.started_at < now - SIGN_IN_SESSION_KEPT
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(SignInSession(user_id=user.id, key_digest=digest(key), started_at=now))
    session.flush()
    return key


def end_sign_in_session(session: Session, key: str | None, *, now: dt.datetime) -> None:
    """End the signed-in session whose cookie carries `key`: a copy of that cookie no longer works.

    Harmless for an unknown, empty or already ended key.
    """
    if not key:
        return
    session.execute(
        update(SignInSession)
        .where(SignInSession.key_digest == digest(key), SignInSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def _issue_token(
    session: Session, user: User, purpose: TokenPurpose, *, now: dt.datetime, lifetime: dt.timedelta
) -> str:
    # A new link replaces any earlier unused one for the same purpose.
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_digest=digest(raw),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return raw


def find_valid_token(session: Session, raw: str, purpose: TokenPurpose, *, now: dt.datetime) -> AccountToken | None:
    """The unused, unexpired token of this purpose whose account is active, or None."""
    token = session.scalar(
        select(AccountToken).where(
            AccountToken.token_digest == digest(raw), AccountToken.purpose == purpose
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= now or token.user.is_deactivated:
        return None
    return token


def request_password_reset(
    session: Session, email: str, *, link: LinkBuilder, service_name: str, lifetime: dt.timedelta, now: dt.datetime
) -> None:
    """E-mail a single-use reset link if an active account has this address; otherwise do nothing.

    The caller shows the same message either way, so the page does not reveal who has an account.
    """
    user = find_user_by_email(session, email)
    if user is None or user.is_deactivated:
        return
    raw = _issue_token(session, user, TokenPurpose.PASSWORD_RESET, now=now, lifetime=lifetime)
    outbox.queue(
        session,
        to=user.email,
        subject=f"Reset your password for {service_name}",
        template="core/password_reset",
        context={
            "name": user.name,
            "link": link(raw),
            "hours": int(lifetime.total_seconds() // 3600),
            "service_name": service_name,
        },
        now=now,
    )
    audit.record(session, None, "auth.password_reset_requested", user, at=now)


def complete_password_token(
    session: Session, raw: str, purpose: TokenPurpose, password: str, *, now: dt.datetime
) -> User:
    """Set a new password with a reset or invitation token, which is then spent.

    Signs the person out of every other browser. Raises RuleViolation if the link is used, expired
    or unknown, and ValidationFailed if the password breaks the policy.
    """
    token = find_valid_token(session, raw, purpose, now=now)
    if token is None:
        raise RuleViolation("This link has expired or has already been used. Ask for a new one")
    user = token.user
    _check_password(password, user)
    # Claim the token with a guarded update so a double submission cannot spend it twice.
    claimed = session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise RuleViolation("This link has expired or has already been used. Ask for a new one")
    session.refresh(token)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    action = {
        TokenPurpose.PASSWORD_RESET: "auth.password_reset",
        TokenPurpose.INVITATION: "auth.invitation_accepted",
        TokenPurpose.SIGN_UP: "auth.sign_up_confirmed",
    }[TokenPurpose(purpose)]
    audit.record(session, user, action, user, at=now)
    return user


def change_password(session: Session, user: User, current: str, new: str, *, now: dt.datetime) -> None:
    """Change a signed-in person's password; signs out their other browsers."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed("Your current password is not right", field="current")
    _check_password(new, user)
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()
    audit.record(session, user, "auth.password_changed", user, at=now)


def invite_user(
    session: Session,
    *,
    email: str,
    name: str,
    roles: Iterable[Role],
    actor: User,
    link: LinkBuilder,
    service_name: str,
    lifetime: dt.timedelta,
    now: dt.datetime,
) -> User:
    """Create an account without a password and e-mail a link to set one. Admins only."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can invite people")
    roles = list(roles)
    if not roles:
        raise ValidationFailed("Choose at least one role")
    user = create_user(session, email=email, name=name, roles=roles, actor=actor, now=now)
    send_invitation(session, user, actor=actor, link=link, service_name=service_name, lifetime=lifetime, now=now)
    return user


def send_invitation(
    session: Session, user: User, *, actor: User, link: LinkBuilder, service_name: str,
    lifetime: dt.timedelta, now: dt.datetime,
) -> None:
    """(Re)send the set-password invitation; an earlier unused invitation link stops working."""
    raw = _issue_token(session, user, TokenPurpose.INVITATION, now=now, lifetime=lifetime)
    outbox.queue(
        session,
        to=user.email,
        subject=f"You have been invited to {service_name}",
        template="core/invitation",
        context={
            "name": user.name,
            "inviter": actor.name,
            "link": link(raw),
            "days": lifetime.days,
            "roles": [role.label for role in user.sorted_roles],
            "service_name": service_name,
        },
        now=now,
    )
    audit.record(session, actor, "user.invited", user, at=now)


def set_roles(session: Session, user: User, roles: Iterable[Role], *, actor: User, now: dt.datetime) -> None:
    """Replace a person's roles. An admin cannot remove their own admin role (no lock-out)."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can change roles")
    wanted = {Role(role) for role in roles}
    if not wanted:
        raise ValidationFailed("Choose at least one role")
    if user.id == actor.id and Role.ADMIN not in wanted:
        raise RuleViolation("You cannot remove your own admin role. Ask another admin")
    before = user.roles
    user.role_links = [link for link in user.role_links if link.role in wanted]
    for role in wanted - before:
        user.role_links.append(UserRole(role=role, granted_at=now))
    session.flush()
    audit.record(
        session, actor, "user.roles_changed", user, at=now,
        added=sorted(wanted - before), removed=sorted(before - wanted),
    )


def deactivate_user(session: Session, user: User, *, actor: User, now: dt.datetime) -> None:
    """Stop a person signing in; every browser they are signed in on is signed out at its next request."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can deactivate accounts")
    if user.id == actor.id:
        raise RuleViolation("You cannot deactivate your own account")
    if user.is_deactivated:
        return
    user.is_deactivated = True
    user.deactivated_at = now
    user.session_token = new_session_token()
    audit.record(session, actor, "user.deactivated", user, at=now)


def reactivate_user(session: Session, user: User, *, actor: User, now: dt.datetime) -> None:
    """Let a deactivated person sign in again."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can reactivate accounts")
    if not user.is_deactivated:
        return
    user.is_deactivated = False
    user.deactivated_at = None
    audit.record(session, actor, "user.reactivated", user, at=now)


def _is_pending_sign_up(user: User) -> bool:
    # An applicant who signed up but has not yet followed the link: they have no password yet.
    return user.password_hash is None and not user.is_deactivated and user.roles == {Role.APPLICANT}


def sign_up_applicant(
    session: Session,
    *,
    email: str,
    name: str,
    confirm_link: LinkBuilder,
    sign_in_link: str,
    reset_link: str,
    service_name: str,
    lifetime: dt.timedelta,
    now: dt.datetime,
) -> None:
    """Start an applicant account and e-mail the address, saying nothing on the page about who has one.

    A new address gets an applicant account without a password and a single-use link to confirm the
    address and choose one (a repeat request sends a fresh link). An address that already has an
    account gets an e-mail telling its owner how to sign in or reset their password, and nothing is
    created. Either way exactly one e-mail is queued, so the caller shows the same page.
    """
    email = normalise_email(email)
    if not email or not name.strip():
        raise ValidationFailed("An account needs an e-mail address and a name")
    existing = find_user_by_email(session, email)
    if existing is not None and not _is_pending_sign_up(existing):
        outbox.queue(
            session,
            to=existing.email,
            subject=f"You already have an account with {service_name}",
            template="core/sign_up_existing",
            context={"name": existing.name, "sign_in_link": sign_in_link, "reset_link": reset_link,
                     "service_name": service_name},
            now=now,
        )
        audit.record(session, None, "auth.sign_up_for_existing_account", existing, at=now)
        return
    user = existing or create_user(session, email=email, name=name, roles=[Role.APPLICANT], now=now)
    raw = _issue_token(session, user, TokenPurpose.SIGN_UP, now=now, lifetime=lifetime)
    outbox.queue(
        session,
        to=user.email,
        subject=f"Confirm your email address for {service_name}",
        template="core/sign_up_confirm",
        context={"name": user.name, "link": confirm_link(raw), "days": max(lifetime.days, 1),
                 "service_name": service_name},
        now=now,
    )
    audit.record(session, None, "auth.sign_up_requested", user, at=now)
