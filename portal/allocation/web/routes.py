"""Coordinators' allocation pages: cases awaiting allocation, one case's needs, suggestions, search
and offers, bulk proposals, and (for admins) the ranking weights. Each route: load → authorise →
validate → call one service → commit and respond. Every view of a case's allocation page is
audited, because it shows conflicts of interest and vetting reasons.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from portal.allocation import bulk, permissions, proposals, queries, ranking, scoring, services, waiting
from portal.allocation.models import (
    LIVE_OFFER_STATUSES,
    AllocationOffer,
    AllocationProposal,
    OfferStatus,
    ProposalItem,
    ProposalStatus,
)
from portal.allocation.web import forms
from portal.allocation.web.blueprint import bp
from portal.cases import queries as case_queries
from portal.cases.models import AllocationRole, Case
from portal.core import audit, clock
from portal.core.accounts import Role
from portal.core.errors import RuleViolation
from portal.extensions import db
from portal.volunteers.profiles import availability
from portal.volunteers.profiles import queries as volunteer_queries
from portal.web.decorators import role_required
from portal.web.forms import add_service_problem
from portal.web.input import int_arg
from portal.web.pagination import page_arg, pagination

coordinators_only = role_required(Role.COORDINATOR)
admins_only = role_required(Role.ADMIN)
SEARCH_LIMIT = 20

# Where a service's field names differ from the form's: the meeting pattern is a grid of day fields.
FIELD_ALIASES = {"pattern": "monday", "meeting_mask": "monday", "weights": "weight_availability"}


def put_errors(form, problem: RuleViolation, fallback: str) -> None:
    """Put a service's messages on the matching fields, so the page's error summary lists them."""
    db.session.rollback()
    errors = getattr(problem, "errors", None)
    if errors:
        for name, messages in errors.items():
            field = _field(form, name, fallback)
            field.errors = [*field.errors, *messages]
        form._errors = None
        return
    add_service_problem(form, _field(form, getattr(problem, "field", None) or fallback, fallback), problem)


def _field(form, name: str, fallback: str):
    name = FIELD_ALIASES.get(name, name)
    return form._fields.get(name) or form._fields.get(f"weight_{name}") or form._fields[fallback]


def site_url() -> str:
    """The portal's address, for links in e-mails (PORTAL_BASE_URL)."""
    return current_app.config["BASE_URL"].rstrip("/")


def pattern_text(mask: int) -> str:
    return availability.describe(mask)


# ---------------------------------------------------------------------------------------------
# Cases awaiting allocation


WAITING_PAGE_SIZE = 50
PROPOSALS_SHOWN = 5


def _waiting_filter(form: forms.WaitingFilterForm) -> waiting.WaitingFilter:
    """The filters the form asks for; none when it is empty or invalid (its errors are then shown)."""
    if not request.args or not form.validate():
        return waiting.WaitingFilter()
    return waiting.WaitingFilter(
        district=form.district.data or None, waited_days=form.waited.data, overdue=bool(form.overdue.data),
        sensitive=form.yes_no(form.sensitive.data), needs_recorded=form.yes_no(form.needs.data),
        offered=form.yes_no(form.offered.data),
    )


def _open_proposals() -> tuple[list[AllocationProposal], int]:
    """The newest open proposals (at most PROPOSALS_SHOWN) and how many are open, in one statement."""
    rows = db.session.execute(
        select(AllocationProposal, func.count().over())
        .where(AllocationProposal.status == ProposalStatus.OPEN)
        .order_by(AllocationProposal.created_at.desc(), AllocationProposal.id.desc()).limit(PROPOSALS_SHOWN)
    ).all()
    return [proposal for proposal, _count in rows], (rows[0][1] if rows else 0)


@bp.route("/")
@coordinators_only
def index():
    """Every case awaiting allocation, offered or not (the bulk proposal leaves out those with live
    offers), a page at a time. A fixed number of statements, however many cases wait."""
    today = clock.today()
    form = forms.WaitingFilterForm(request.args)
    districts = waiting.waiting_districts(db.session)
    form.district.choices = [SelectChoice("", "Any district")] + [
        SelectChoice(name, f"{name} ({count})") for name, count in districts
    ]
    filters = _waiting_filter(form)
    result = waiting.waiting_page(db.session, filters, today=today, page=page_arg(), per_page=WAITING_PAGE_SIZE)
    query = {key: value for key, value in request.args.items(multi=False) if key in form._fields and key != "submit"}
    if not filters.narrowed:
        query = {}  # invalid filters are not carried to other pages
    proposals, open_proposals = _open_proposals()
    return render_template(
        "allocation/index.html", title="Cases awaiting allocation", filter_form=form, filters=filters, query=query,
        result=result, summary=waiting.waiting_summary(db.session, today=today), today=today,
        proposals=proposals, open_proposals=open_proposals,
        pagination=pagination(result.window, "allocation.index", query, label="Pages of waiting cases"),
    )


# ---------------------------------------------------------------------------------------------
# One case: needs, suggestions, search and offers


def _render_case(case: Case, *, offer_form: forms.OfferForm | None = None, refused: list[str] | None = None,
                 status: int = 200):
    now, today = clock.now(), clock.today()
    needs = queries.find_case_needs(db.session, case.id)
    result = ranking.rank_candidates(db.session, case, today=today, limit=10)
    search = forms.SearchForm(request.args)
    matches, chosen, explanation = [], None, None
    query_text = (search.q.data or "").strip() if search.validate() else ""
    if query_text:
        matches = volunteer_queries.list_volunteers(db.session, search=query_text)[:SEARCH_LIMIT]
        if len(matches) == 1:
            chosen = matches[0]
    chosen_id = int_arg("user_id", minimum=1)
    if chosen_id is not None:
        chosen = volunteer_queries.find_volunteer_for_user(db.session, chosen_id)
    if chosen is not None:
        explanation = ranking.explain(db.session, case, chosen.user_id, today=today)
    offers = list(db.session.scalars(
        select(AllocationOffer).where(AllocationOffer.case_id == case.id)
        .options(selectinload(AllocationOffer.user))
        .order_by(AllocationOffer.offered_at.desc(), AllocationOffer.id.desc())
    ))
    suggested = {candidate.user_id for candidate in result.candidates}
    audit.record(db.session, current_user, "allocation.page_viewed", case, at=now, reference=case.reference,
                 searched=bool(query_text), explained_user_id=chosen.user_id if chosen else None)
    title = f"Allocate case {case.reference}"
    # Rendered before the commit (which records the view): committing expires every loaded row,
    # and the page would then reload each volunteer it shows one by one.
    page = render_template(
        "allocation/case.html", title=f"Error: {title}" if refused else title, heading=title, case=case, needs=needs,
        ranking=result, parts=scoring.PARTS, short_labels=scoring.SHORT_LABELS,
        weights=scoring.get_weights(db.session), search=search, query_text=query_text, matches=matches, chosen=chosen,
        explanation=explanation, suggested=suggested, offers=offers, offer_form=offer_form or forms.OfferForm(),
        refused=refused or [], pattern_text=pattern_text, live_statuses=LIVE_OFFER_STATUSES,
        roles=AllocationRole, can_withdraw=permissions.can_withdraw_offer,
    )
    db.session.commit()
    return page, status


@bp.route("/cases/<int:case_id>")
@coordinators_only
def case(case_id: int):
    return _render_case(case_queries.get_case(db.session, case_id))


@bp.route("/cases/<int:case_id>/needs", methods=["GET", "POST"])
@coordinators_only
def needs(case_id: int):
    case = case_queries.get_case(db.session, case_id)
    form = forms.NeedsForm()
    if not form.is_submitted():
        current = queries.needs_or_default(db.session, case, today=clock.today())
        form.set_pattern(availability.from_mask(current.meeting_mask))
        form.languages.data = ", ".join(current.languages or [])
        form.is_complex.data = bool(current.is_complex)
        form.expected_hours.data = current.expected_hours
        form.facilitators_needed.data = current.facilitators_needed
        form.expected_start_on.data, form.expected_end_on.data = current.expected_start_on, current.expected_end_on
    status = 200
    if form.validate_on_submit():
        details = services.NeedsDetails(
            pattern=form.pattern(), languages=form.language_list(), is_complex=form.is_complex.data,
            expected_hours=form.expected_hours.data, facilitators_needed=form.facilitators_needed.data,
            expected_start_on=form.expected_start_on.data, expected_end_on=form.expected_end_on.data,
        )
        try:
            services.set_case_needs(db.session, case.id, details, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "monday")
            case = case_queries.get_case(db.session, case_id)
            status = 400
        else:
            db.session.commit()
            flash(f"Needs saved for {case.reference}", "success")
            return redirect(url_for("allocation.case", case_id=case.id))
    elif form.is_submitted():
        status = 400
    return render_template("allocation/needs.html", title=f"What case {case.reference} needs", form=form,
                           case=case), status


@bp.route("/cases/<int:case_id>/offers", methods=["POST"])
@coordinators_only
def make_offer(case_id: int):
    case = case_queries.get_case(db.session, case_id)
    form = forms.OfferForm()
    people = []
    if form.validate_on_submit():
        if form.lead_id.data:
            people.append((form.lead_id.data, AllocationRole.LEAD))
        if form.co_id.data:
            people.append((form.co_id.data, AllocationRole.CO_FACILITATOR))
    if not people:
        return _render_case(case, refused=["Choose who to offer the case to"], status=400)
    try:
        made = services.offer_case(db.session, case.id, people, actor=current_user, now=clock.now(),
                                   site_url=site_url())
    except RuleViolation as problem:  # OfferRefused carries every reason, for each person
        db.session.rollback()
        case = case_queries.get_case(db.session, case_id)
        return _render_case(case, refused=problem.reasons or [str(problem)], status=409)
    db.session.commit()
    names = " and ".join(item.user.name for item in made) if made else "the facilitator"
    flash(f"Case {case.reference} offered to {names}. They have been e-mailed.", "success")
    return redirect(url_for("allocation.case", case_id=case.id))


@bp.route("/offers/<int:offer_id>/withdraw", methods=["GET", "POST"])
@coordinators_only
def withdraw(offer_id: int):
    item = _get_offer(offer_id)
    form = forms.WithdrawForm()
    if form.is_submitted() and item.status is OfferStatus.WITHDRAWN:
        return redirect(url_for("allocation.case", case_id=item.case_id))  # a second click changes nothing
    status = 200
    if form.validate_on_submit():
        try:
            services.withdraw_offer(db.session, item.id, form.reason.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "reason")
            item = _get_offer(offer_id)
            status = 409
        else:
            db.session.commit()
            flash(f"Offer to {item.user.name} withdrawn. They have been told.", "success")
            return redirect(url_for("allocation.case", case_id=item.case_id))
    elif form.is_submitted():
        status = 400
    return render_template("allocation/withdraw.html", title="Withdraw the offer", form=form, offer=item), status


def _get_offer(offer_id: int) -> AllocationOffer:
    found = db.session.get(AllocationOffer, offer_id)
    if found is None:
        abort(404)
    return found


# ---------------------------------------------------------------------------------------------
# Bulk proposals


@bp.route("/proposals", methods=["POST"])
@coordinators_only
def propose():
    form = forms.ButtonForm()
    if not form.validate_on_submit():
        return redirect(url_for("allocation.index"))
    proposal = bulk.propose(db.session, actor=current_user, now=clock.now())
    db.session.commit()
    flash(f"Proposal made for {proposal.cases_considered} cases awaiting allocation", "success")
    return redirect(url_for("allocation.proposal", proposal_id=proposal.id))


PROPOSAL_PAGE_SIZE = 50
VIEW_LABELS = {
    proposals.ProposalView.ALL: "Every proposed case", proposals.ProposalView.PROPOSED: "Still to decide",
    proposals.ProposalView.CONFIRMED: "Confirmed", proposals.ProposalView.DISCARDED: "Discarded",
    proposals.ProposalView.UNSTAFFED: "Cases it could not staff",
}


def _shown() -> tuple[proposals.ProposalView, int]:
    """The view and page of a proposal that the query string asks for (the review page's, and the
    decision buttons' so that deciding returns to the same place)."""
    return proposals.ProposalView.read(request.args.get("show")), page_arg()


def _view_args(show: proposals.ProposalView, page: int = 1) -> dict:
    """The query string of a view and page of a proposal (empty for the first page of every case)."""
    args = {} if show is proposals.ProposalView.ALL else {"show": show.value}
    return args | ({"page": page} if page > 1 else {})


def _render_proposal(proposal: AllocationProposal, *, problems: list[str] | None = None, status: int = 200):
    """The review page: one view of the proposal a page at a time, with each view's count. A fixed
    number of statements, however many cases the proposal holds."""
    show, page = _shown()
    counts = proposals.view_counts(db.session, proposal)
    if show is proposals.ProposalView.UNSTAFFED:
        result = proposals.unstaffed_page(db.session, proposal, total=counts[show], page=page,
                                          per_page=PROPOSAL_PAGE_SIZE)
    else:
        result = proposals.items_page(db.session, proposal, status=show.status, total=counts[show], page=page,
                                      per_page=PROPOSAL_PAGE_SIZE)
    title = f"Proposal of {clock.to_london(proposal.created_at):%-d %B %Y}"
    return render_template(
        "allocation/proposal.html", title=f"Error: {title}" if problems else title, heading=title,
        proposal=proposal, show=show, views=[(view, VIEW_LABELS[view], counts[view]) for view in VIEW_LABELS],
        view_label=VIEW_LABELS[show], result=result, here=_view_args(show, result.window.page),
        pagination=pagination(result.window, "allocation.proposal", _view_args(show), label="Pages of the proposal",
                              proposal_id=proposal.id),
        button=forms.ButtonForm(), problems=problems or [],
    ), status


def _get_proposal(proposal_id: int) -> AllocationProposal:
    found = db.session.get(AllocationProposal, proposal_id)
    if found is None:
        abort(404)
    return found


@bp.route("/proposals/<int:proposal_id>")
@coordinators_only
def proposal(proposal_id: int):
    return _render_proposal(_get_proposal(proposal_id))


@bp.route("/proposals/<int:proposal_id>/items/<int:item_id>/<any(confirm, discard):decision>", methods=["POST"])
@coordinators_only
def decide_item(proposal_id: int, item_id: int, decision: str):
    """Confirm or discard one case of the proposal, then back to the same view and page of it."""
    found = _get_proposal(proposal_id)
    item = db.session.scalar(
        select(ProposalItem).where(ProposalItem.id == item_id, ProposalItem.proposal_id == found.id)
    )
    if item is None:
        abort(404)
    form = forms.ButtonForm()
    if form.validate_on_submit():
        reference = item.case.reference
        try:
            if decision == "confirm":
                services.confirm_proposal_item(db.session, item.id, actor=current_user, now=clock.now(),
                                               site_url=site_url())
            else:
                services.discard_proposal_item(db.session, item.id, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            db.session.rollback()
            return _render_proposal(_get_proposal(proposal_id), problems=problem.reasons or [str(problem)],
                                    status=409)
        db.session.commit()
        done = "offered to the proposed facilitators" if decision == "confirm" else "taken out of the proposal"
        flash(f"Case {reference} {done}", "success")
    return redirect(url_for("allocation.proposal", proposal_id=proposal_id, **_view_args(*_shown())))


# ---------------------------------------------------------------------------------------------
# Settings (admins)


@bp.route("/settings", methods=["GET", "POST"])
@admins_only
def settings():
    form = forms.SettingsForm()
    if not form.is_submitted():
        for name, value in scoring.get_weights(db.session).items():
            form._fields[f"weight_{name}"].data = value
        form.offer_hours.data = scoring.get_offer_hours(db.session)
    status = 200
    if form.validate_on_submit():
        try:
            services.set_weights(db.session, form.weights(), form.offer_hours.data, actor=current_user,
                                 now=clock.now())
        except RuleViolation as problem:
            put_errors(form, problem, "weight_availability")
            status = 400
        else:
            db.session.commit()
            flash("Allocation settings saved", "success")
            return redirect(url_for("allocation.settings"))
    elif form.is_submitted():
        status = 400
    return render_template("allocation/settings.html", title="Allocation settings", form=form,
                           parts=scoring.PARTS), status
