"""Admin pages: people (a filtered list 50 a page; invite, roles, deactivate) and the audit log (newest
first, paged by keyset with "Newer" / "Older" links and no total, so a page costs the same at any depth)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from portal.core import account_queries, account_services, audit, clock
from portal.core.accounts import ROLE_ORDER, Role, User
from portal.core.audit_actions import ACTIONS
from portal.core.errors import NotFound, RuleViolation, ValidationFailed
from portal.core.search import SEARCH_MAX_LENGTH
from portal.extensions import db
from portal.web.baseform import PortalForm
from portal.web.decorators import role_required
from portal.web.forms import AuditFilterForm, ConfirmForm, PersonForm, RolesForm
from portal.web.input import int_arg
from portal.web.links import external_url
from portal.web.pagination import page_arg, pagination

bp = Blueprint("admin", __name__, url_prefix="/admin")

PEOPLE_PAGE_SIZE = 50
CURSORS = ("before", "after", "page")


class PeopleFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    search = StringField("Name or email address contains", widget=GovTextInput(),
                         validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)])
    role = SelectField("Role", widget=GovSelect(), validators=[Optional()],
                       choices=[SelectChoice("", "Any role")] + [SelectChoice(r.value, r.label) for r in ROLE_ORDER])
    submit = SubmitField("Filter", widget=GovSubmitInput())


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
    form = PeopleFilterForm(request.args)
    filters = account_queries.PeopleFilter()
    if request.args and form.validate():
        filters = account_queries.PeopleFilter(
            search=form.search.data or None, role=Role(form.role.data) if form.role.data else None
        )
    result = account_queries.list_people(db.session, filters, page=page_arg(), per_page=PEOPLE_PAGE_SIZE)
    query = _filters_in(request.args)
    return render_template(
        "admin/users.html", form=form, result=result, filtering=bool(query),
        pagination=pagination(result.window, "admin.users", query, label="People pages"), title="People",
    )


def _filters_in(args) -> dict[str, list[str]]:
    """The query string's filters without paging, every value of each (a date is three), for links
    that keep them."""
    return {key: values for key in args if key not in CURSORS and any(values := args.getlist(key))}


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
    entries = audit.list_slice(
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
    form.action.choices = [SelectChoice("", "Any action")] + [SelectChoice(action) for action in ACTIONS]
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
    result = audit.list_slice(
        db.session, filters, before=int_arg("before", minimum=1), after=int_arg("after", minimum=1),
        per_page=current_app.config["AUDIT_PAGE_SIZE"],
    )
    query = _filters_in(request.args)
    return render_template(
        "admin/audit.html", form=form, result=result, filtering=bool(query),
        pagination=_newer_older(result, query), title="Audit log",
    )


def _newer_older(result: audit.AuditSlice, query: dict[str, list[str]]) -> dict | None:
    """govukPagination's parameters for the log: "Newer entries" and "Older entries" links carrying the
    filters and an entry's id (the log is paged by keyset, so there are no page numbers); None if neither."""
    links: dict = {}
    if result.newer is not None:
        links["previous"] = {"href": url_for("admin.audit_log", **query, after=result.newer), "text": "Newer entries"}
    if result.older is not None:
        links["next"] = {"href": url_for("admin.audit_log", **query, before=result.older), "text": "Older entries"}
    return {**links, "landmarkLabel": "Audit log pages"} if links else None
