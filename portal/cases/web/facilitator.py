"""Case pages for volunteer facilitators: "my cases" and the facilitator's view of one case.

A facilitator sees a case only while they hold a current allocation on it, and then only what the
role needs (rj-domain.md §4.6): `queries.get_case_for_facilitator` builds that view field by field,
so police intelligence, restricted and coordinator-only notes, and other parties' contact details
never reach these templates. Anything else (never allocated, de-allocated, case closed, a guessed
id) is the same 404 as a case that does not exist. Every view of a case page is audited.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.cases import permissions, queries, services
from portal.cases.models import Case, PartyRole
from portal.cases.web.blueprint import bp
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.web.decorators import role_required


@bp.route("/mine")
@role_required(Role.VOLUNTEER)
def my_cases():
    cases = queries.list_my_cases(db.session, current_user, on=clock.today())
    return render_template("cases/facilitator/my_cases.html", cases=cases, title="My cases")


@bp.route("/mine/<int:case_id>")
@role_required(Role.VOLUNTEER)
def my_case(case_id: int):
    now = clock.now()
    # NotFound (no such case, or no current allocation on it) becomes the ordinary 404 page.
    view = queries.get_case_for_facilitator(db.session, case_id, current_user, on=clock.today())
    case = db.session.get(Case, view.case_id)  # already in the identity map: no further SQL
    services.record_case_viewed(
        db.session, case, current_user, restricted=permissions.can_see_restricted(current_user), now=now
    )
    db.session.commit()
    names = {party.id: party.name for party in view.parties}
    supported = {
        party.id: names.get(party.supports_party_id) for party in view.parties if party.supports_party_id
    }
    return render_template(
        "cases/facilitator/case.html",
        case=view,
        party_names=names,
        supported=supported,
        principal_roles=(PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE),
        title=f"Case {view.reference}",
    )
