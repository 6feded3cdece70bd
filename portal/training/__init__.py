"""Training: the 4-day facilitator course, its cohorts, enrolment, registers, coursework and marking.

Rank 3: may use core, cases and volunteers; Flask-free outside `web/`. Courses and cohorts live in
this package's models/services; coursework, marking and the practical assessment in `coursework/`.

Public API (courses, cohorts, enrolment, registers, make-up days, completion):
- models: Course, Cohort (days, trainer_links, trainer_ids, starts_at/ends_at, location), CohortDay (sequence
  rises on every change), CohortTrainer, Enrolment (EnrolmentStatus enrolled/waiting/withdrawn/completed;
  LIVE_STATUSES, PLACE_STATUSES), Attendance (AttendanceMark present/late/left_early/absent + reason;
  ATTENDED_MARKS = present, late), MakeUpBooking (day N of a later cohort), COURSE_DAYS.
- services: create_course / update_course (CourseDetails); create_cohort / update_cohort (CohortDetails,
  DayTimes in London wall-clock time; a changed day raises its SEQUENCE and re-invites), cancel_cohort
  (METHOD:CANCEL to all, everyone withdrawn); enrol_volunteer (row
  lock on the cohort; full → waiting list; e-mail + .ics of all four days; vetting → training),
  enrolment_problems, withdraw_enrolment (METHOD:CANCEL; first waiting person promoted), update_needs;
  take_register (Mark), register_enrolments; day_progress (day_progress_of: batched), make_up_options,
  book_make_up, cancel_make_up;
  attendance_problems, completion_problems, complete_enrolment, activate_if_cleared, activation_problems
  (vetting's cleared_to_practise), activate_cleared_volunteers (job); send_day_before_reminders (job);
  day_event, make_up_event (calendar).
- queries: get_course, get_cohort, get_cohort_day, get_enrolment, get_make_up, list_courses, list_cohorts,
  cohorts_page (paged), list_open_cohorts, list_open_cohorts_soonest, list_enrolments_for_user,
  find_live_enrolment, list_trainers, search_enrollable_volunteers (a page of matches, one statement),
  places_left, places_left_of, cohort_enrolments, cohort_roster (Roster), register_rows, needing_make_up,
  assessment_outcome(s), cohort_report (CohortReport). Page reads run a fixed number of statements.
- permissions: trains, can_manage_courses, can_view_cohort, can_take_register, can_view_report,
  can_join_cohorts, is_own, can_view_enrolment, can_withdraw, can_edit_needs, can_book_make_up, can_complete,
  can_view_certificate.
- signals: completion_requested (veto: coursework and practical), assessment_outcome_requested (report),
  enrolment_changed, course_completed.
- errors: CohortInvalid, EnrolmentRefused, AlreadyEnrolled, RegisterInvalid, MakeUpRefused, CompletionBlocked.
- handlers: jobs "training.day-before-reminders" and "training.activate-cleared"; feed_events_requested receiver
  (course and make-up days); importing it wires coursework.handlers (the completion veto) too.
- demo: load_demo_training(session, *, coordinator, trainers, volunteers, now), complete_demo_enrolments.
"""
