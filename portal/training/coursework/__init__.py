"""Coursework, uploads, marking, moderation and the practical assessment. Flask-free.

Public API:
- models: Assignment, RubricVersion, Attempt (MarkingStatus, Outcome), ConflictOfInterest, PracticalAssessment.
- services: create_assignment / update_assignment (AssignmentDetails, parse_rubric, rubric_text; rubric versioned
  once marking uses it), grant_extension, submit_work (upload or typed text, receipt e-mailed), allocate_work,
  start_marking / stop_marking (the marking lock), save_marking, moderate_work, release_work, release_ready_work,
  declare_conflict, record_practical (CompetencyResult), coursework_problems, practical_problem,
  assessment_standing, load_demo_coursework(session, *, now); MARKING_TRANSITIONS.
- queries: get_assignment, get_attempt, get_practical, find_enrolment, list_assignments, list_attempts,
  assignment_rows, my_coursework, marking_queue (MarkingQueue with counts), conflicted_volunteer_ids,
  latest_practical, list_practicals, marking_due_on.
- permissions: can_manage_coursework, can_view_attempt, can_see_result (released only, for the volunteer),
  can_mark, can_moderate, can_release, can_record_practical, can_view_practical.
- storage: check_upload (PDF, DOCX, ODT by content), FileStore (random ids, outside static/).
- handlers: answers training.signals.completion_requested ("Coursework not yet passed: ...", "Practical
  assessment not yet passed: ...") and assessment_outcome_requested.
"""
