"""Facilitators' case offers: their list, and one offer with only what they need to decide (district,
rough timing, type of offence, role, respond-by; never names, summary or parties), to accept or
decline. Someone else's offer is a 404, like one that does not exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.allocation import permissions, queries, services
from portal.allocation.models import LIVE_OFFER_STATUSES, AllocationOffer, CaseNeeds, OfferStatus
from portal.allocation.web import forms
from portal.allocation.web.blueprint import bp
from portal.cases.models import AllocationRole, Case
from portal.core import clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.core.paging import PageWindow
from portal.extensions import db
from portal.web.decorators import require, role_required
from portal.web.forms import add_service_problem
from portal.web.pagination import page_arg, pagination

volunteers_only = role_required(Role.VOLUNTEER)


@dataclass(frozen=True)
class OfferSummary:
    """What a facilitator sees of an offered case: enough to decide, nothing that identifies anyone."""

    district: str
    offence: str
    role: str
    starts: str          # "December 2026"
    weeks: int
    hours: int
    is_complex: bool


def summarise(offer: AllocationOffer, needs: CaseNeeds | None = None) -> OfferSummary:
    needs = needs or queries.needs_or_default(db.session, offer.case, today=clock.today())
    days = (needs.expected_end_on - needs.expected_start_on).days + 1
    role = "Lead facilitator" if offer.role is AllocationRole.LEAD else "Co-facilitator"
    offence = offer.case.offence_category.label
    return OfferSummary(
        district=offer.case.district, offence=offence[:1].upper() + offence[1:], role=role,
        starts=f"{needs.expected_start_on:%B %Y}", weeks=max(1, math.ceil(days / 7)), hours=needs.expected_hours,
        is_complex=bool(needs.is_complex),
    )


def load_own_offer(offer_id: int) -> AllocationOffer:
    found = db.session.get(AllocationOffer, offer_id)
    if found is None:
        abort(404)
    require(permissions.can_view_offer(current_user, found))  # someone else's offer: 404, revealing nothing
    return found


OFFERS_PAGE_SIZE = 50


@bp.route("/offers")
@volunteers_only
def my_offers():
    """The volunteer's offers, those waiting for an answer first, a page at a time: five statements
    (the count, the page, its cases, their parties, their recorded needs) however many offers."""
    mine = AllocationOffer.user_id == current_user.id
    total = db.session.scalar(select(func.count()).select_from(AllocationOffer).where(mine)) or 0
    window = PageWindow.of(total, page_arg(), OFFERS_PAGE_SIZE)
    live_first = sql_case((AllocationOffer.status.in_(LIVE_OFFER_STATUSES), 0), else_=1)
    offers = list(db.session.scalars(
        select(AllocationOffer).where(mine)
        .options(selectinload(AllocationOffer.case).selectinload(Case.parties))
        .order_by(live_first, AllocationOffer.offered_at.desc(), AllocationOffer.id.desc())
        .limit(window.per_page).offset(window.offset)
    ))
    needs = queries.needs_by_case(db.session, {offer.case_id: offer.case for offer in offers}.values(),
                                  today=clock.today())
    return render_template("allocation/my_offers.html", title="Case offers", offers=offers,
                           summaries={offer.id: summarise(offer, needs[offer.case_id]) for offer in offers},
                           now=clock.now(), window=window,
                           pagination=pagination(window, "allocation.my_offers", {}, label="Pages of case offers"))


def _render_offer(offer: AllocationOffer, *, decline_form=None, problems: list[str] | None = None,
                  status: int = 200):
    """The offer page; `problems` are an acceptance the service refused, `decline_form` a refused decline."""
    failed = bool(problems) or bool(decline_form is not None and decline_form.errors)
    return render_template(
        "allocation/offer.html", title="Error: Case offer" if problems else "Case offer", offer=offer,
        summary=summarise(offer), decline_form=decline_form or forms.DeclineForm(),
        form=decline_form if failed and not problems else None, problems=problems or [],
        can_answer=permissions.can_answer_offer(current_user, offer),
    ), status


@bp.route("/offers/<int:offer_id>")
@volunteers_only
def offer(offer_id: int):
    return _render_offer(load_own_offer(offer_id))


@bp.route("/offers/<int:offer_id>/accept", methods=["POST"])
@volunteers_only
def accept(offer_id: int):
    offer = load_own_offer(offer_id)
    if not forms.AcceptForm().validate_on_submit():
        return redirect(url_for("allocation.offer", offer_id=offer.id))
    if offer.status is OfferStatus.ACCEPTED or offer.status is OfferStatus.ALLOCATED:
        return redirect(url_for("allocation.offer", offer_id=offer.id))  # a second click changes nothing
    try:
        services.accept_offer(db.session, offer.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        db.session.rollback()
        return _render_offer(load_own_offer(offer_id), problems=problem.reasons or [str(problem)], status=409)
    db.session.commit()
    if offer.status is OfferStatus.ALLOCATED:
        flash("You have accepted the case. It is now in your cases.", "success")
    else:
        flash("You have accepted the case. We will tell you when your co-facilitator has accepted too.", "success")
    return redirect(url_for("allocation.offer", offer_id=offer.id))


@bp.route("/offers/<int:offer_id>/decline", methods=["POST"])
@volunteers_only
def decline(offer_id: int):
    offer = load_own_offer(offer_id)
    form = forms.DeclineForm()
    if offer.status is OfferStatus.DECLINED and form.is_submitted():
        return redirect(url_for("allocation.my_offers"))  # a second click changes nothing
    if form.validate_on_submit():
        try:
            services.decline_offer(db.session, offer.id, form.reason.data or None, actor=current_user,
                                   now=clock.now())
        except RuleViolation as problem:
            db.session.rollback()
            add_service_problem(form, form.reason, problem)
            return _render_offer(load_own_offer(offer_id), decline_form=form, status=409)
        db.session.commit()
        flash("You have declined the case. Thank you for letting us know.", "success")
        return redirect(url_for("allocation.my_offers"))
    return _render_offer(offer, decline_form=form, status=400)
