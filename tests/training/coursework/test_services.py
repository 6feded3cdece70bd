"""Coursework rules on a plain Session: assignments and rubric versions, extensions, submission and receipts,
allocation, the marking lock, marking, moderation sampling, release, resubmission, conflicts, practicals."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.training import services as training_services
from portal.training.coursework import handlers, permissions, queries, services
from portal.training.coursework.errors import (
    AssignmentInvalid,
    MarkingLocked,
    MarkingRefused,
    PracticalInvalid,
    SubmissionRefused,
    UploadRejected,
)
from portal.training.coursework.models import MarkingStatus, Outcome
from portal.training.coursework.storage import FileStore
from tests.training.builders import COMPETENCIES, NOW, enrol, make_cohort, make_trainer
from tests.training.coursework.builders import DUE, LATER, RUBRIC, Setting, docx_bytes, pdf_bytes

M = MarkingStatus
assert handlers.coursework_and_practical_passed  # importing the handlers connects the completion receiver
LEVELS = {"Reflection": "Meets", "Use of theory": "Exceeds"}


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "uploads")


@pytest.fixture
def setting(session) -> Setting:
    return Setting(session)


def _actions(session, subject_id: int | None = None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    return list(session.scalars(query))


def _mail(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


# ---------------------------------------------------------------------------------------------
# Assignments and rubrics


def test_assignment_is_created_with_rubric_version_one_and_audited(session, setting):
    assignment = setting.assignment
    assert assignment.rubric.number == 1
    assert [c["name"] for c in assignment.rubric.criteria] == ["Reflection", "Use of theory"]
    assert assignment.rubric.criteria[0]["levels"] == ["Not yet", "Meets", "Exceeds"]
    assert "coursework.assignment_created" in _actions(session)


def test_rubric_lines_without_levels_are_refused_with_the_line_number():
    with pytest.raises(AssignmentInvalid) as refused:
        services.parse_rubric("Reflection: Not yet | Meets\nTheory\nDepth: Only one")
    assert refused.value.errors["rubric"] == [
        "Rubric line 2: write the criterion, a colon, then its levels, like ‘Reflection: Not yet | Meets | Exceeds’",
        "Rubric line 3: give ‘Depth’ at least two levels separated by |",
    ]


def test_deadline_in_the_past_and_missing_title_are_refused(session, setting):
    with pytest.raises(AssignmentInvalid) as refused:
        services.create_assignment(
            session, setting.cohort.id,
            services.AssignmentDetails(title=" ", instructions="", due_at=NOW - dt.timedelta(days=1)),
            actor=setting.coordinator, now=NOW)
    assert set(refused.value.errors) == {"title", "due_on"}


def test_trainer_of_another_cohort_cannot_set_coursework(session, setting):
    outsider = make_trainer(session)
    with pytest.raises(PermissionDenied):
        services.create_assignment(session, setting.cohort.id,
                                   services.AssignmentDetails(title="Essay", instructions="", due_at=DUE),
                                   actor=outsider, now=NOW)


def test_rubric_changed_before_marking_is_corrected_in_place(session, setting):
    details = services.AssignmentDetails(title="Reflective essay", instructions="", due_at=DUE,
                                         rubric="Reflection: No | Yes")
    services.update_assignment(session, setting.assignment.id, details, actor=setting.trainer, now=NOW)
    assert [v.number for v in setting.assignment.rubric_versions] == [1]
    assert setting.assignment.rubric.criteria == [{"name": "Reflection", "levels": ["No", "Yes"]}]


def test_rubric_changed_after_marking_started_makes_a_new_version_and_marks_keep_theirs(session, setting, store):
    marked = setting.mark(store)
    first_version = marked.rubric_version_id
    details = services.AssignmentDetails(title="Reflective essay", instructions="", due_at=DUE,
                                         rubric=RUBRIC + "\nSafeguarding: Not yet | Meets")
    services.update_assignment(session, setting.assignment.id, details, actor=setting.trainer, now=NOW)
    assert [v.number for v in setting.assignment.rubric_versions] == [1, 2]
    assert marked.rubric_version_id == first_version
    assert marked.rubric_version.number == 1
    later = setting.submit(store, 1)
    services.start_marking(session, later.id, actor=setting.second, now=NOW)
    assert later.rubric_version.number == 2


# ---------------------------------------------------------------------------------------------
# Submission


def test_upload_is_stored_under_a_random_id_with_a_receipt_and_an_email(session, setting, store):
    data = pdf_bytes()
    attempt = setting.submit(store, file_name="My essay (final).pdf", file_data=data, text="")
    assert attempt.status is M.SUBMITTED
    assert attempt.submitted_at == NOW
    assert attempt.file_name == "My essay _final.pdf"
    assert attempt.file_size == len(data)
    assert len(attempt.sha256) == 64
    assert attempt.file_id not in attempt.file_name and len(attempt.file_id) == 32
    assert store.read(attempt.file_id) == data
    assert "essay" not in str(store.path(attempt.file_id))
    [receipt] = _mail(session, "training/coursework_received")
    assert attempt.sha256 in receipt.text_body and "My essay _final.pdf" in receipt.text_body
    assert "coursework.submitted" in _actions(session, attempt.id)


def test_typed_work_gets_a_receipt_with_the_hash_of_the_text(session, setting, store):
    attempt = setting.submit(store, text="  Typed reflections  ")
    assert attempt.text == "Typed reflections"
    assert attempt.sha256 == hashlib.sha256(b"Typed reflections").hexdigest()
    assert attempt.file_id is None


def test_work_without_the_anonymisation_declaration_is_refused(session, setting, store):
    with pytest.raises(SubmissionRefused, match="names and details of any real people"):
        setting.submit(store, anonymised=False)
    assert not queries.list_attempts(session, setting.assignment.id, setting.enrolments[0].id) or all(
        a.status is M.NOT_SUBMITTED for a in queries.list_attempts(session, setting.assignment.id,
                                                                   setting.enrolments[0].id))


def test_nothing_to_submit_is_refused(session, setting, store):
    with pytest.raises(SubmissionRefused, match="Upload a file or type your work"):
        setting.submit(store, text="")


@pytest.mark.parametrize("name", ["../../x.pdf", "..\\x.pdf", "folder/x.pdf", ".hidden.pdf"])
def test_names_with_folders_are_refused_and_nothing_is_stored(session, setting, store, name):
    with pytest.raises(UploadRejected, match="without folders"):
        setting.submit(store, file_name=name, file_data=pdf_bytes())
    assert not (store.root.exists() and any(store.root.rglob("*")))


def test_volunteer_may_replace_work_before_marking_starts_but_not_after(session, setting, store):
    first = setting.submit(store, file_name="a.pdf", file_data=pdf_bytes("one"))
    old_file = first.file_id
    second = setting.submit(store, file_name="b.docx", file_data=docx_bytes(), text="")
    assert second.id == first.id and second.file_name == "b.docx"
    assert not store.exists(old_file)
    assert "coursework.resubmitted_before_marking" in _actions(session, first.id)
    services.start_marking(session, first.id, actor=setting.trainer, now=NOW)
    with pytest.raises(SubmissionRefused, match="being marked"):
        setting.submit(store, text="again")


def test_late_work_is_accepted_and_shown_as_late(session, setting, store):
    attempt = setting.submit(store, now=DUE + dt.timedelta(hours=1))
    assert attempt.is_late


def test_someone_not_on_the_cohort_cannot_submit(session, setting, store):
    other_cohort = make_cohort(session, setting.cohort.course, starts_on=dt.date(2027, 1, 11))
    stranger = enrol(session, other_cohort).user
    with pytest.raises(NotFound):
        services.submit_work(session, setting.assignment.id, text="x", store=store, actor=stranger, now=NOW)


# ---------------------------------------------------------------------------------------------
# Extensions


def test_extension_moves_one_persons_deadline_and_emails_them(session, setting, store):
    attempt = services.grant_extension(session, setting.assignment.id, setting.enrolments[0].id, LATER,
                                       "Bereavement", actor=setting.trainer, now=NOW)
    assert attempt.deadline == LATER and attempt.status is M.NOT_SUBMITTED
    submitted = setting.submit(store, now=DUE + dt.timedelta(hours=2))
    assert not submitted.is_late
    assert _mail(session, "training/coursework_extension")


def test_extension_must_be_after_the_deadline_and_before_submission(session, setting, store):
    with pytest.raises(MarkingRefused, match="must be after"):
        services.grant_extension(session, setting.assignment.id, setting.enrolments[0].id, DUE, "Ill",
                                 actor=setting.trainer, now=NOW)
    setting.submit(store)
    with pytest.raises(MarkingRefused, match="already submitted"):
        services.grant_extension(session, setting.assignment.id, setting.enrolments[0].id, LATER, "Ill",
                                 actor=setting.trainer, now=NOW)


# ---------------------------------------------------------------------------------------------
# Allocation, lock and marking


def test_taking_work_from_the_queue_locks_it_against_a_second_trainer(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    assert attempt.status is M.IN_MARKING and attempt.lock_holder_id == setting.trainer.id
    with pytest.raises(MarkingLocked, match="Tara Trainer is already marking"):
        services.start_marking(session, attempt.id, actor=setting.second, now=NOW)


def test_allocated_work_stays_with_its_marker_after_their_lock_expires(session, setting, store):
    attempt = setting.submit(store)
    services.allocate_work(session, attempt.id, setting.trainer.id, actor=setting.coordinator, now=NOW)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    later = NOW + dt.timedelta(minutes=services.LOCK_MINUTES + 1)
    with pytest.raises(MarkingLocked, match="allocated to Tara Trainer"):
        services.start_marking(session, attempt.id, actor=setting.second, now=later)
    services.allocate_work(session, attempt.id, setting.second.id, actor=setting.coordinator, now=later)
    services.start_marking(session, attempt.id, actor=setting.second, now=later)
    assert attempt.lock_holder_id == setting.second.id


def test_work_taken_from_the_queue_and_left_goes_back_to_the_queue_when_the_lock_expires(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    services.save_marking(session, attempt.id, levels={"Reflection": "Meets"}, outcome=None, feedback="Draft",
                          finish=False, actor=setting.trainer, now=NOW)
    assert attempt not in queries.marking_queue(session, setting.second, now=NOW).unallocated
    with pytest.raises(MarkingLocked, match="already marking"):
        services.start_marking(session, attempt.id, actor=setting.second, now=NOW + dt.timedelta(minutes=5))
    later = NOW + dt.timedelta(minutes=services.LOCK_MINUTES + 1)
    assert attempt in queries.marking_queue(session, setting.second, now=later).unallocated
    services.start_marking(session, attempt.id, actor=setting.second, now=later)
    assert attempt.marker_id == setting.second.id and attempt.lock_holder_id == setting.second.id
    assert attempt.feedback == "Draft"
    with pytest.raises(MarkingLocked):
        services.save_marking(session, attempt.id, levels=LEVELS, outcome=Outcome.PASS, feedback="Mine now",
                              actor=setting.trainer, now=later)


def test_stopping_work_taken_from_the_queue_returns_it_to_the_queue(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    services.stop_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    assert attempt.status is M.SUBMITTED and attempt.marker_id is None
    assert attempt in queries.marking_queue(session, setting.second, now=NOW).unallocated


def test_allocation_emails_the_marker_with_the_marking_due_date(session, setting, store):
    attempt = setting.submit(store)
    services.allocate_work(session, attempt.id, setting.second.id, actor=setting.coordinator, now=NOW)
    [mail] = _mail(session, "training/coursework_allocated")
    assert mail.recipients == [setting.second.email]
    assert "Reflective essay" in mail.text_body and "7 December 2026" in mail.text_body
    assert queries.marking_due_on(attempt) == dt.date(2026, 12, 7)


def test_coordinator_cannot_move_work_someone_is_marking(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingLocked):
        services.allocate_work(session, attempt.id, setting.second.id, actor=setting.coordinator, now=NOW)


def test_only_the_lock_holder_saves_marks(session, setting, store):
    attempt = setting.submit(store)
    with pytest.raises(MarkingLocked):
        services.save_marking(session, attempt.id, levels=LEVELS, outcome=Outcome.PASS, feedback="Good",
                              actor=setting.trainer, now=NOW)


def test_marking_needs_every_level_an_outcome_and_feedback(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingRefused) as refused:
        services.save_marking(session, attempt.id, levels={"Reflection": "Brilliant"}, outcome=None, feedback="",
                              actor=setting.trainer, now=NOW)
    assert refused.value.reasons == [
        "Choose one of the levels for ‘Reflection’",
        "Choose a level for ‘Use of theory’",
        "Choose an outcome: pass, refer or fail",
        "Write feedback for the volunteer",
    ]


def test_saving_a_draft_keeps_the_lock_and_finishing_lets_it_go(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    later = NOW + dt.timedelta(minutes=30)
    services.save_marking(session, attempt.id, levels={"Reflection": "Meets"}, outcome=None, feedback="So far",
                          finish=False, actor=setting.trainer, now=later)
    assert attempt.status is M.IN_MARKING
    assert attempt.lock_expires_at == later + dt.timedelta(minutes=services.LOCK_MINUTES)
    services.save_marking(session, attempt.id, levels=LEVELS, outcome=Outcome.PASS, feedback="Good",
                          actor=setting.trainer, now=later)
    assert attempt.status is M.MARKED and attempt.lock_holder_id is None
    assert attempt.levels == LEVELS and attempt.marked_at == later


def test_stopping_allocated_work_before_any_marks_keeps_it_with_the_marker(session, setting, store):
    attempt = setting.submit(store)
    services.allocate_work(session, attempt.id, setting.trainer.id, actor=setting.coordinator, now=NOW)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    services.stop_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    assert attempt.status is M.SUBMITTED and attempt.lock_holder_id is None
    assert attempt.marker_id == setting.trainer.id


def test_work_cannot_be_allocated_to_a_trainer_of_another_cohort(session, setting, store):
    attempt = setting.submit(store)
    with pytest.raises(MarkingRefused, match="trainer of this cohort"):
        services.allocate_work(session, attempt.id, make_trainer(session).id, actor=setting.coordinator, now=NOW)


def test_refer_needs_a_resubmission_deadline(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingRefused, match="deadline for the resubmission"):
        services.save_marking(session, attempt.id, levels=LEVELS, outcome=Outcome.REFER, feedback="More depth",
                              actor=setting.trainer, now=NOW)


# ---------------------------------------------------------------------------------------------
# Conflicts of interest


def test_conflicted_trainer_is_never_allocated_and_cannot_take_the_work(session, setting, store):
    attempt = setting.submit(store)
    services.declare_conflict(session, setting.volunteer.id, "My sister", actor=setting.trainer, now=NOW)
    assert setting.trainer not in services.eligible_markers(session, attempt)
    with pytest.raises(MarkingRefused, match="conflict of interest"):
        services.allocate_work(session, attempt.id, setting.trainer.id, actor=setting.coordinator, now=NOW)
    with pytest.raises(MarkingRefused, match="conflict of interest"):
        services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    queue = queries.marking_queue(session, setting.trainer, now=NOW)
    assert attempt not in queue.unallocated
    conflicts = queries.conflicted_volunteer_ids(session, setting.trainer.id)
    assert not permissions.can_view_attempt(setting.trainer, attempt, conflicts)


def test_declaring_a_conflict_returns_allocated_work_to_the_queue(session, setting, store):
    attempt = setting.submit(store)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    services.declare_conflict(session, setting.volunteer.id, "Neighbour", actor=setting.trainer, now=NOW)
    assert attempt.marker_id is None and attempt.lock_holder_id is None and attempt.status is M.SUBMITTED
    assert "coursework.conflict_declared" in _actions(session)


# ---------------------------------------------------------------------------------------------
# Moderation and release


def test_every_fail_and_one_in_n_passes_are_sampled(session, store):
    setting = Setting(session, volunteers=6, moderate_one_in=3)
    marked = [setting.mark(store, index, marker=setting.trainer) for index in range(5)]
    failed = setting.mark(store, 5, outcome=Outcome.FAIL)
    assert [attempt.needs_moderation for attempt in marked] == [True, False, False, True, False]
    assert failed.needs_moderation


def test_moderator_cannot_be_the_marker(session, setting, store):
    attempt = setting.mark(store, outcome=Outcome.FAIL)
    with pytest.raises(MarkingRefused, match="second trainer"):
        services.moderate_work(session, attempt.id, agree=True, note="", actor=setting.trainer, now=NOW)


def test_sampled_work_must_be_moderated_before_release(session, setting, store):
    attempt = setting.mark(store, outcome=Outcome.FAIL)
    with pytest.raises(MarkingRefused, match="moderate it first"):
        services.release_work(session, attempt.id, actor=setting.coordinator, now=NOW)
    services.moderate_work(session, attempt.id, agree=True, note="Agreed", actor=setting.second, now=NOW)
    assert attempt.status is M.MODERATED and attempt.moderator_id == setting.second.id
    services.release_work(session, attempt.id, actor=setting.coordinator, now=NOW)
    assert attempt.status is M.RELEASED


def test_moderator_who_disagrees_changes_the_outcome_and_the_markers_is_kept(session, setting, store):
    attempt = setting.mark(store, outcome=Outcome.FAIL)
    with pytest.raises(MarkingRefused) as refused:
        services.moderate_work(session, attempt.id, agree=False, note="", outcome=Outcome.FAIL,
                               actor=setting.second, now=NOW)
    assert len(refused.value.reasons) == 2
    services.moderate_work(session, attempt.id, agree=False, note="Meets the bar", outcome=Outcome.PASS,
                           actor=setting.second, now=NOW)
    assert attempt.outcome is Outcome.PASS and attempt.marker_outcome is Outcome.FAIL


def test_release_shows_the_result_to_the_volunteer_and_emails_them_once(session, setting, store):
    attempt = setting.mark(store, index=0)  # the first pass is sampled
    services.moderate_work(session, attempt.id, agree=True, note="", actor=setting.second, now=NOW)
    volunteer = setting.volunteer
    assert not permissions.can_see_result(volunteer, attempt)
    assert not _mail(session, "training/coursework_released")
    services.release_work(session, attempt.id, actor=setting.trainer, now=NOW)
    assert permissions.can_see_result(volunteer, attempt)
    [mail] = _mail(session, "training/coursework_released")
    assert mail.recipients == [volunteer.email]
    assert "Thoughtful work" not in mail.text_body and "pass" not in mail.text_body.lower()
    with pytest.raises(RuleViolation, match="released"):
        services.release_work(session, attempt.id, actor=setting.trainer, now=NOW)


def test_release_ready_work_skips_work_waiting_for_moderation(session, store):
    setting = Setting(session, volunteers=3)
    sampled, unsampled, failed = (setting.mark(store, 0), setting.mark(store, 1),
                                  setting.mark(store, 2, outcome=Outcome.FAIL))
    released = services.release_ready_work(session, setting.assignment.id, actor=setting.coordinator, now=NOW)
    assert released == [unsampled]
    assert sampled.status is M.MARKED and failed.status is M.MARKED


def test_referred_volunteer_resubmits_once_and_history_is_kept(session, setting, store):
    setting.mark(store, 0)  # the first pass is sampled; the refer after it is not
    first = setting.mark(store, 1, outcome=Outcome.REFER)
    assert not first.needs_moderation
    services.release_work(session, first.id, actor=setting.trainer, now=NOW)
    history = queries.list_attempts(session, setting.assignment.id, setting.enrolments[1].id)
    assert [(a.number, a.status) for a in history] == [(1, M.RELEASED), (2, M.NOT_SUBMITTED)]
    assert history[1].deadline == first.resubmit_due_at
    second = setting.submit(store, 1, text="Revised reflections")
    assert second.number == 2 and second.id != first.id
    assert first.text == "My reflections on the role play."
    services.start_marking(session, second.id, actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingRefused, match="only be pass or fail"):
        services.save_marking(session, second.id, levels=LEVELS, outcome=Outcome.REFER, feedback="Still thin",
                              resubmit_due_at=LATER, actor=setting.trainer, now=NOW)


def test_transitions_name_both_states(session, setting, store):
    attempt = setting.submit(store)
    with pytest.raises(RuleViolation, match="from submitted to released"):
        services.release_work(session, attempt.id, actor=setting.coordinator, now=NOW)


# ---------------------------------------------------------------------------------------------
# Practical assessment and completion


def _results(met: bool = True):
    return [services.CompetencyResult(name, met, f"Seen: {name}") for name in COMPETENCIES]


def test_practical_records_every_competency_with_evidence(session, setting):
    practical = services.record_practical(
        session, setting.enrolments[0].id, observed_on=NOW.date(), scenario="Burglary victim meets offender",
        results=_results(), outcome=Outcome.PASS, actor=setting.trainer, now=NOW)
    assert [item["met"] for item in practical.competencies] == [True] * len(COMPETENCIES)
    assert practical.number == 1 and practical.observer_id == setting.trainer.id
    assert "coursework.practical_recorded" in _actions(session)


def test_practical_pass_with_a_competency_not_met_is_refused(session, setting):
    results = _results()
    results[1] = services.CompetencyResult(COMPETENCIES[1], False, "Took sides")
    results[2] = services.CompetencyResult(COMPETENCIES[2], True, "")
    with pytest.raises(PracticalInvalid) as refused:
        services.record_practical(session, setting.enrolments[0].id, observed_on=NOW.date(), scenario="Role play",
                                  results=results, outcome=Outcome.PASS, actor=setting.trainer, now=NOW)
    assert refused.value.reasons == [
        "Give the evidence you saw for ‘Managing disclosure of harm’",
        "A pass needs every competency met: choose refer or fail, or change the record",
    ]


def test_conflicted_trainer_cannot_observe(session, setting):
    services.declare_conflict(session, setting.volunteer.id, "Partner", actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingRefused):
        services.record_practical(session, setting.enrolments[0].id, observed_on=NOW.date(), scenario="Role play",
                                  results=_results(), outcome=Outcome.PASS, actor=setting.trainer, now=NOW)


def test_completion_says_what_is_missing_until_coursework_and_practical_pass(session, setting, store):
    enrolment = setting.enrolments[0]
    problems = "; ".join(training_services.completion_problems(session, enrolment, on=NOW.date()))
    assert "Coursework not yet passed: Reflective essay (not submitted)" in problems
    assert "Practical assessment not yet passed: not yet observed" in problems
    attempt = setting.mark(store, 0)
    services.moderate_work(session, attempt.id, agree=True, note="", actor=setting.second, now=NOW)
    services.release_work(session, attempt.id, actor=setting.trainer, now=NOW)
    services.record_practical(session, enrolment.id, observed_on=NOW.date(), scenario="Role play",
                              results=_results(), outcome=Outcome.PASS, actor=setting.second, now=NOW)
    problems = training_services.completion_problems(session, enrolment, on=NOW.date())
    assert not any("Coursework" in p or "Practical" in p for p in problems)
    assert services.assessment_standing(session, enrolment) == "passed"
