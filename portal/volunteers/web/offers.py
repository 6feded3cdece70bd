"""The offer: a coordinator sees what still stands in the way, then offers the applicant a place, which
makes them a volunteer in vetting. Each route: load → authorise → validate → call one service → commit
and respond.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.volunteers import queries as application_queries
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.profiles import permissions, services
from portal.volunteers.web import offer_forms as forms
from portal.volunteers.web.blueprint import bp, coordinator_panel
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem

coordinator_only = role_required(Role.COORDINATOR)
_SHOWN_STATUSES = frozenset({ApplicationStatus.INTERVIEWED, ApplicationStatus.OFFERED})


def _load(application_id: int) -> Application:
    application = application_queries.get_application(db.session, application_id)  # NotFound -> 404
    require(permissions.can_make_offer(current_user) and not application.is_draft)
    return application


@coordinator_panel(30, "volunteers/offers/_coordinator_panel.html")
def coordinator_offer_panel(application: Application):
    if application.status not in _SHOWN_STATUSES or not permissions.can_make_offer(current_user):
        return None
    offered = application.status == ApplicationStatus.OFFERED
    return {
        "application": application, "offered": offered,
        "volunteer": services.find_volunteer_for_application(db.session, application) if offered else None,
        "problems": [] if offered else services.offer_problems(db.session, application),
    }


@bp.route("/applications/<int:application_id>/offer", methods=["GET", "POST"])
@coordinator_only
def offer_make(application_id: int):
    application = _load(application_id)
    form = forms.OfferForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.make_offer(db.session, application.id, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            db.session.rollback()
            add_service_problem(form, form.submit, problem)
            application = _load(application_id)
            status = 409
        else:
            db.session.commit()
            flash(f"{application.display_name} has been offered a place and is now in vetting. "
                  "We have e-mailed them what happens next.", "success")
            return redirect(url_for("volunteers.application_detail", application_id=application.id))
    offered = application.status == ApplicationStatus.OFFERED
    return render_template(
        "volunteers/offers/offer.html", form=form, application=application, offered=offered,
        problems=[] if offered else services.offer_problems(db.session, application),
        title=f"Offer {application.full_name} a place",
    ), status
