"""The allocation builders give what they promise (the other tests rely on it)."""

from portal.allocation.models import CaseNeeds
from portal.cases.models import CaseStatus
from portal.training.models import Enrolment, EnrolmentStatus
from portal.volunteers.vetting.queries import cleared_to_practise
from tests.allocation.builders import START, make_facilitator, make_waiting_case


def test_a_default_facilitator_is_active_cleared_and_trained(session):
    volunteer = make_facilitator(session, name="Siân O'Brien")
    assert volunteer.status.value == "active"
    assert cleared_to_practise(session, volunteer.user_id, START).cleared
    enrolment = session.query(Enrolment).filter_by(user_id=volunteer.user_id).one()
    assert enrolment.status is EnrolmentStatus.COMPLETED
    assert volunteer.availability_mask == 0b011_011_011_011_011


def test_a_waiting_case_has_needs(session):
    case = make_waiting_case(session, district="Dover")
    assert case.status is CaseStatus.AWAITING_ALLOCATION
    needs = session.get(CaseNeeds, case.id)
    assert needs.facilitators_needed == 2 and needs.expected_start_on == START
