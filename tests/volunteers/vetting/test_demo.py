"""Demo vetting data: every state, some expiring soon, loaded once."""

from portal.core.accounts import Role
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.demo import load_demo_vetting
from portal.volunteers.vetting.models import CheckStatus, VettingCheck
from tests.builders import make_user
from tests.volunteers.vetting.builders import NOW, TODAY


def test_demo_vetting_has_every_state_and_some_expiring_soon_and_loads_once(session):
    make_user(session, roles=(Role.COORDINATOR,), email="coordinator@example.org")
    main = make_user(session, roles=(Role.VOLUNTEER,), email="volunteer@example.org")

    volunteers = load_demo_vetting(session, now=NOW)

    assert len(volunteers) == 12
    statuses = {check.status for check in session.query(VettingCheck)}
    assert statuses == set(CheckStatus)
    board = queries.vetting_dashboard(session, TODAY)
    assert board.expiring_30 and board.expiring_60 and board.expiring_90
    assert board.lapsed and board.missing and board.waiting
    assert queries.cleared_to_practise(session, main.id, TODAY).cleared
    # Cleared since long before any demo case could have been allocated.
    assert queries.cleared_to_practise(session, main.id, TODAY.replace(year=TODAY.year - 2)).cleared
    assert load_demo_vetting(session, now=NOW) == []
