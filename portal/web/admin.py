"""Admin pages: people (invite, roles, deactivate) and the audit log."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.core import account_services, audit, clock
from portal.core.accounts import Role, User
from portal.core.errors import NotFound, RuleViolation, ValidationFailed
from portal.extensions import db
from portal.web.decorators import role_required
from portal.web.forms import AuditFilterForm, ConfirmForm, PersonForm, RolesForm
from portal.web.input import int_arg
from portal.web.links import external_url

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


def _invitation_link(token: str) -> str:
    return external_url("auth.accept_invitation", token=token)


def _invitation_lifetime() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_DAYS"])


@bp.route("/people")
@role_required(Role.ADMIN)
def users():
    people = list(db.session.scalars(select(User).order_by(User.is_deactivated, User.name)))
    return render_template("admin/users.html", people=people, title="People")


@bp.route("/people/invite", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def invite():
    form = PersonForm()
    if form.validate_on_submit():
        try:
            user = account_services.invite_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                roles=[Role(value) for value in form.roles.data],
                actor=current_user,
                link=_invitation_link,
                service_name=current_app.config["SERVICE_NAME"],
                lifetime=_invitation_lifetime(),
                now=clock.now(),
            )
        except RuleViolation as problem:
            db.session.rollback()
            form.email.errors.extend(problem.reasons)
        else:
            db.session.commit()
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite.html", form=form, title="Invite someone")


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_detail(user_id: int):
    user = _get_user(user_id)
    form = RolesForm(data={"roles": [role.value for role in user.sorted_roles]})
    if form.validate_on_submit():
        try:
            account_services.set_roles(
                db.session, user, [Role(value) for value in form.roles.data],
                actor=current_user, now=clock.now(),
            )
        except ValidationFailed as problem:
            form.roles.errors.extend(problem.reasons)
        except RuleViolation as problem:
            db.session.rollback()
            form.roles.errors.extend(problem.reasons)
        else:
            db.session.commit()
            flash(f"Roles saved for {user.name}.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    entries = audit.list_entries(
        db.session, audit.AuditFilter(subject_type="users", subject_id=user.id), per_page=10
    ).entries
    return render_template(
        "admin/user.html", person=user, form=form, confirm=ConfirmForm(), entries=entries,
        title=user.name,
    )


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@role_required(Role.ADMIN)
def deactivate(user_id: int):
    user = _get_user(user_id)
    if ConfirmForm().validate_on_submit():
        account_services.deactivate_user(db.session, user, actor=current_user, now=clock.now())
        db.session.commit()
        flash(f"{user.name} can no longer sign in and has been signed out everywhere.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@role_required(Role.ADMIN)
def reactivate(user_id: int):
    user = _get_user(user_id)
    if ConfirmForm().validate_on_submit():
        account_services.reactivate_user(db.session, user, actor=current_user, now=clock.now())
        db.session.commit()
        flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/people/<int:user_id>/resend-invitation", methods=["POST"])
@role_required(Role.ADMIN)
def resend_invitation(user_id: int):
    user = _get_user(user_id)
    if ConfirmForm().validate_on_submit():
        account_services.send_invitation(
            db.session, user, actor=current_user, link=_invitation_link,
            service_name=current_app.config["SERVICE_NAME"], lifetime=_invitation_lifetime(),
            now=clock.now(),
        )
        db.session.commit()
        flash(f"A new invitation has been sent to {user.email}.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "Any action")] + [
        SelectChoice(action) for action in audit.list_actions(db.session)
    ]
    filters = audit.AuditFilter()
    if request.args and form.validate():
        filters = audit.AuditFilter(
            actor_email=form.actor.data or None,
            action=form.action.data or None,
            subject_type=form.subject_type.data or None,
            subject_id=form.subject_id.data,
            from_date=form.from_date.data,
            to_date=form.to_date.data,
        )
    page = int_arg("page", 1, minimum=1)
    result = audit.list_entries(
        db.session, filters, page=page, per_page=current_app.config["AUDIT_PAGE_SIZE"]
    )
    query = {key: value for key, value in request.args.items(multi=False) if key != "page"}
    return render_template("admin/audit.html", form=form, result=result, query=query, title="Audit log")
