"""needs_by_case: the recorded needs, or the same defaults as needs_or_default, for many cases at once."""

from portal.allocation import queries
from portal.cases.models import CaseStatus
from tests.allocation.builders import TODAY, make_waiting_case
from tests.cases.builders import make_case


def test_recorded_needs_and_defaults_for_many_cases_match_one_at_a_time(session):
    recorded = make_waiting_case(session, needs={"expected_hours": 31})
    bare = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    bare.parties[0].interpreter_language = "Polish"
    session.flush()

    found = queries.needs_by_case(session, [recorded, bare], today=TODAY)

    assert found[recorded.id].expected_hours == 31
    one = queries.needs_or_default(session, bare, today=TODAY)
    assert (found[bare.id].languages, found[bare.id].expected_start_on, found[bare.id].meeting_mask) == (
        ["Polish"], one.expected_start_on, one.meeting_mask)
    assert queries.needs_by_case(session, [], today=TODAY) == {}
