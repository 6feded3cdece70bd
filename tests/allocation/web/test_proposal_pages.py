"""A bulk proposal at more than a page: its POST runs the same statements for few or many cases (with
and without recorded needs), its review page shows 50 cases a page in each view with their counts,
deciding a case returns to the same view and page, and the page's statements do not grow."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.allocation.models import AllocationOffer, AllocationProposal, ProposalItem, ProposalItemStatus
from portal.cases.models import CaseStatus
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.allocation.builders import NOW, make_facilitator, make_waiting_case
from tests.builders import make_user
from tests.cases.builders import make_case
from tests.statements import page_statements, statements_of


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def post_statements(app, client, url: str) -> tuple[int, object]:
    return statements_of(app, lambda: client.post(url, data={}))


def add_world(app, *, volunteers: int, with_needs: int, without_needs: int) -> None:
    with app.app_context():
        for _ in range(volunteers):
            make_facilitator(db.session, max_cases=3)
        for _ in range(with_needs):
            make_waiting_case(db.session)
        for _ in range(without_needs):
            make_case(db.session, status=CaseStatus.AWAITING_ALLOCATION)
        db.session.commit()


@pytest.mark.parametrize("needs", ["recorded", "not recorded", "both"])
def test_the_bulk_proposal_post_runs_the_same_statements_for_few_or_many_cases(client, login_as, app, needs):
    login_as(Role.COORDINATOR)
    shares = {"recorded": (1, 0), "not recorded": (0, 1), "both": (1, 1)}[needs]

    add_world(app, volunteers=2, with_needs=2 * shares[0], without_needs=2 * shares[1])
    few, made = post_statements(app, client, "/allocation/proposals")
    add_world(app, volunteers=8, with_needs=10 * shares[0], without_needs=10 * shares[1])
    many, made_again = post_statements(app, client, "/allocation/proposals")

    assert made.status_code == made_again.status_code == 302
    assert many == few
    with app.app_context():
        considered = db.session.scalars(select(AllocationProposal.cases_considered).order_by(AllocationProposal.id))
        assert list(considered) == [2 * sum(shares), 12 * sum(shares)]


def make_proposal(app, items: int, *, unstaffed: int = 0) -> tuple[int, list[int], list[str]]:
    """A proposal of `items` waiting cases (lead and co-facilitator each), plus `unstaffed` waiting cases
    it has no item for; returns its id, the items' ids and the unstaffed cases' references."""
    with app.app_context():
        coordinator = make_user(db.session, roles=(Role.COORDINATOR,))
        lead, co = make_facilitator(db.session, max_cases=10), make_facilitator(db.session, max_cases=10)
        cases = [make_waiting_case(db.session) for _ in range(items)]
        left = [make_waiting_case(db.session) for _ in range(unstaffed)]
        proposal = AllocationProposal(created_at=NOW + dt.timedelta(minutes=1), created_by_id=coordinator.id,
                                      cases_considered=items + unstaffed, total_score=0.0)
        db.session.add(proposal)
        db.session.flush()
        rows = [ProposalItem(proposal_id=proposal.id, case_id=case.id, lead_user_id=lead.user_id,
                             co_user_id=co.user_id, score=100.0) for case in cases]
        db.session.add_all(rows)
        db.session.commit()
        return proposal.id, [row.id for row in rows], [case.reference for case in left]


def item_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-item="(\d+)"', html)]


def test_the_review_page_shows_fifty_cases_a_page_in_each_view_with_counts(client, login_as, app):
    proposal_id, ids, left = make_proposal(app, 60, unstaffed=3)
    with app.app_context():
        db.session.get(ProposalItem, ids[0]).status = ProposalItemStatus.DISCARDED
        db.session.commit()
    login_as(Role.COORDINATOR)
    url = f"/allocation/proposals/{proposal_id}"

    first, last = client.get(url).text, client.get(f"{url}?page=2").text
    assert item_ids(first) == ids[:50] and item_ids(last) == ids[50:]
    assert "Showing 1 to 50 of 60, page 1 of 2." in first
    assert f'href="{url}?page=2" rel="next"' in first
    for view, count in (("all", 60), ("proposed", 59), ("confirmed", 0), ("discarded", 1), ("unstaffed", 3)):
        assert re.search(rf'data-view-count="{view}"><a [^>]*>[^<]* \({count}\)</a>', first), view
    proposed = client.get(f"{url}?show=proposed&page=2").text
    assert item_ids(proposed) == ids[51:]
    assert f'href="{url}?show=proposed&amp;page=1" rel="prev"' in proposed
    assert item_ids(client.get(f"{url}?show=discarded").text) == [ids[0]]
    unstaffed = client.get(f"{url}?show=unstaffed").text
    assert re.findall(r'href="/allocation/cases/\d+">([^<]+)</a>', unstaffed.split("data-unstaffed")[1]) == left
    for hostile in ("show=everything", "show=%00", "page=-3", "page=99999999999999999999", "show=unstaffed&page=x"):
        assert client.get(f"{url}?{hostile}").status_code == 200


def test_deciding_a_case_returns_to_the_same_view_and_page(client, login_as, app):
    proposal_id, ids, _left = make_proposal(app, 55)
    login_as(Role.COORDINATOR)
    url = f"/allocation/proposals/{proposal_id}"
    page = client.get(f"{url}?show=proposed&page=2").text
    action = f"{url}/items/{ids[52]}/confirm?show=proposed&amp;page=2"
    assert f'action="{action}"' in page

    confirmed = client.post(action.replace("&amp;", "&"), data={})
    discarded = client.post(f"{url}/items/{ids[53]}/discard?page=2", data={})

    assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"{url}?show=proposed&page=2"
    assert discarded.status_code == 302 and discarded.headers["Location"] == f"{url}?page=2"
    with app.app_context():
        assert db.session.get(ProposalItem, ids[52]).status is ProposalItemStatus.CONFIRMED
        assert db.session.get(ProposalItem, ids[53]).status is ProposalItemStatus.DISCARDED
        offers = db.session.scalars(select(AllocationOffer).where(AllocationOffer.proposal_item_id == ids[52]))
        assert len(list(offers)) == 2
    # The confirmed case left "still to decide": page 2 now starts one case later.
    assert item_ids(client.get(f"{url}?show=proposed&page=2").text) == ids[50:52] + ids[54:]
    refused = client.post(f"{url}/items/{ids[52]}/discard?show=confirmed", data={})
    assert refused.status_code == 409 and "already confirmed" in refused.text
    assert item_ids(refused.text) == [ids[52]]  # the error is shown on the view it came from


def test_an_item_of_another_proposal_is_a_404(client, login_as, app):
    first_id, _ids, _left = make_proposal(app, 1)
    _second_id, other_ids, _left = make_proposal(app, 1)
    login_as(Role.COORDINATOR)

    assert client.post(f"/allocation/proposals/{first_id}/items/{other_ids[0]}/confirm", data={}).status_code == 404


def test_the_review_page_runs_the_same_statements_for_few_or_many_cases(client, login_as, app):
    small_id, _ids, _left = make_proposal(app, 3, unstaffed=1)
    large_id, _ids, _left = make_proposal(app, 70, unstaffed=4)
    login_as(Role.COORDINATOR)
    views = ["", "?page=2", "?show=proposed", "?show=unstaffed", "?show=discarded"]

    few = [page_statements(app, client, f"/allocation/proposals/{small_id}{view}")[0] for view in views]
    many = [page_statements(app, client, f"/allocation/proposals/{large_id}{view}")[0] for view in views]

    assert many == few
