"""Interview slots, bookings and interview records for shortlisted applicants. Flask-free.

Services take the session first and `actor` (a User) and `now` (an aware datetime) as keywords, flush
and never commit: the caller owns the transaction. Times are typed in Europe/London and stored in
UTC. Every change is audited; every e-mail goes through the outbox with a dedupe key, and e-mails
about a booking carry an .ics whose UID is `calendar.event_uid("interview-booking", booking.id)` and
whose SEQUENCE rises on every change (moved, retimed, cancelled).

Public API
----------
services (writes)
    create_slots(session, SlotDetails, *, series=SeriesPattern(every_minutes, until, weeks), actor, now)
        -> [InterviewSlot]                            (raises InterviewInputInvalid.errors per field)
    update_slot(session, slot_id, SlotDetails, *, actor, now, manage_url="") -> InterviewSlot
        (a time or place change sends everyone booked a REQUEST with SEQUENCE raised)
    cancel_slot(session, slot_id, reason, *, actor, now, booking_url="") -> InterviewSlot
        (every booking cancelled with METHOD:CANCEL; applications back to shortlisted, asked to rebook)
    invite_to_book(session, application_id, *, actor, now, booking_url="") -> InterviewInvitation
    book_interview(session, application_id, slot_id, *, actor, now, manage_url="") -> InterviewBooking
        (applicant or coordinator; SHORTLISTED -> INTERVIEW_BOOKED; idempotent for the same slot;
         the slot row is locked so the last place is taken once; raises SlotUnavailable)
    move_booking(session, booking_id, slot_id, *, actor, now, manage_url="") -> InterviewBooking
    cancel_booking(session, booking_id, *, actor, now, reason=None, booking_url="") -> InterviewBooking
        (INTERVIEW_BOOKED -> SHORTLISTED; other bookings in the slot untouched)
    send_interview_reminders(session, *, now) -> int  (job "volunteers.interview-reminders": once per
        booking and start time, including late bookings; never for cancelled ones)
    release_closed_bookings(session, *, now) -> int  (job "volunteers.interview-releases": bookings of
        withdrawn or rejected applications are cancelled, METHOD:CANCEL sent, the place freed)
    save_interview_record(session, application_id, RecordDetails, *, actor, now) -> InterviewRecord
        (INTERVIEW_BOOKED -> INTERVIEWED and sets application.interview_outcome; later edits audited)
    booking_event(booking) -> CalendarEvent;  feed_events_for(session, user, *, now) -> [CalendarEvent]
    london_label(moment) -> "Tuesday 1 December 2026, 10:00 GMT"
queries
    get_slot, get_booking, find_active_booking, find_record, find_latest_invitation, list_bookings,
    list_upcoming_slots(session, *, now), list_bookable_slots(session, *, now, notice=None, exclude_slot_id=None),
    list_coordinators, list_bookings_of_interviewer, minimum_notice(session)
    (setting volunteers.interview_minimum_notice_hours, 24 by default)
permissions
    can_manage_slots, can_record_interview, can_view_booking, can_change_booking, can_book_interview
errors
    InterviewInputInvalid (ValidationFailed with .errors per field), SlotUnavailable (RuleViolation)
handlers
    jobs "volunteers.interview-reminders" and "volunteers.interview-releases";
    a receiver of calendar.feed_events_requested (interviews in applicants' and interviewers' feeds)
"""
