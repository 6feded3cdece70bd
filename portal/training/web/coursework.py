"""Coursework, marking and practical assessment pages. Each route: load → authorise → validate → call one
service → commit and respond. Anything a person may not see is a 404, so a changed id reveals nothing.

Volunteers: their coursework list, an assignment page (submit, receipt, released feedback, attempt history),
their receipts and files, their practical records. Trainers of the cohort and coordinators: the cohort's
coursework, assignments and rubrics, extensions, allocation, the marking queue, marking under a lock,
moderation, release, conflicts of interest, and practical observation records.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from portal.core import audit, clock, files
from portal.core.accounts import Role, is_coordinator
from portal.core.errors import DomainError, NotFound, PermissionDenied, RuleViolation
from portal.extensions import db
from portal.training.coursework import permissions, queries, services
from portal.training.coursework.models import Assignment, Attempt, MarkingStatus, Outcome
from portal.training.coursework.storage import FileStore
from portal.training.models import Enrolment
from portal.training.web import coursework_forms as forms
from portal.training.web.blueprint import bp
from portal.web.decorators import require, role_required
from portal.web.files import upload_response
from portal.web.forms import ConfirmForm, add_service_problem
from portal.web.pagination import page_arg, pagination

staff_only = role_required(Role.TRAINER, Role.COORDINATOR)
M = MarkingStatus


# ---------------------------------------------------------------------------------------------
# Helpers


def _store() -> FileStore:
    """Coursework files live in a private folder: COURSEWORK_UPLOAD_DIR, or instance/uploads/coursework."""
    root = current_app.config.get("COURSEWORK_UPLOAD_DIR") or os.path.join(
        current_app.instance_path, "uploads", "coursework")
    return FileStore(root)


def _max_bytes() -> int:
    return int(current_app.config.get("COURSEWORK_MAX_BYTES", services.MAX_FILE_BYTES))


def _conflicts() -> frozenset[int]:
    return queries.conflicted_volunteer_ids(db.session, current_user.id)


def _problem(form, field_name: str, problem: DomainError) -> None:
    db.session.rollback()
    name = getattr(problem, "field", None) or field_name
    add_service_problem(form, form._fields.get(name) or form._fields[field_name], problem)


def _done(message: str, endpoint: str, **values):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def _end_of(day: dt.date | None) -> dt.datetime | None:
    return services.london_end_of_day(day) if day else None


def _london_date(moment: dt.datetime | None) -> dt.date | None:
    return clock.to_london(moment).date() if moment else None


def _staff_cohort(cohort_id: int):
    cohort = queries.get_cohort(db.session, cohort_id)
    require(permissions.can_manage_coursework(current_user, cohort))
    return cohort


def _staff_assignment(assignment_id: int) -> Assignment:
    assignment = queries.get_assignment(db.session, assignment_id)
    require(permissions.can_manage_coursework(current_user, assignment.cohort))
    return assignment


def _staff_attempt(attempt_id: int) -> Attempt:
    """Work a trainer of its cohort (without a conflict) or a coordinator may see."""
    attempt = queries.get_attempt(db.session, attempt_id)
    require(permissions.can_manage_coursework(current_user, attempt.enrolment.cohort)
            and permissions.can_view_attempt(current_user, attempt, _conflicts()))
    return attempt


def _viewable_attempt(attempt_id: int) -> Attempt:
    attempt = queries.get_attempt(db.session, attempt_id)
    require(attempt.status is not M.NOT_SUBMITTED and permissions.can_view_attempt(current_user, attempt,
                                                                                   _conflicts()))
    return attempt


def _refused(problem: RuleViolation, endpoint: str, **values):
    db.session.rollback()
    flash(str(problem), "error")
    return redirect(url_for(endpoint, **values))


# ---------------------------------------------------------------------------------------------
# Volunteers


@bp.route("/coursework")
@login_required
def coursework_mine():
    rows = queries.my_coursework(db.session, current_user.id)
    practicals = {enrolment.id: queries.list_practicals(db.session, enrolment.id)
                  for enrolment in queries.my_enrolments(db.session, current_user.id)}
    return render_template("training/coursework/mine.html", rows=rows, practicals=practicals,
                           enrolments=queries.my_enrolments(db.session, current_user.id),
                           title="Your coursework")


def _volunteer_page(assignment: Assignment, enrolment: Enrolment, form, status: int = 200):
    attempts = queries.list_attempts(db.session, assignment.id, enrolment.id)
    latest = attempts[-1] if attempts else None
    can_submit = enrolment.status.value == "enrolled" and (
        latest is None or (latest.status in (M.NOT_SUBMITTED, M.SUBMITTED) and latest.marker_id is None))
    return render_template(
        "training/coursework/assignment.html", assignment=assignment, enrolment=enrolment, attempts=attempts,
        latest=latest, deadline=latest.deadline if latest else assignment.due_at, can_submit=can_submit, form=form,
        can_see_result=lambda attempt: permissions.can_see_result(current_user, attempt), size_label=files.size_label,
        max_size=files.size_label(_max_bytes()), title=assignment.title,
    ), status


@bp.route("/coursework/assignments/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def coursework_assignment(assignment_id: int):
    assignment = queries.get_assignment(db.session, assignment_id)
    enrolment = queries.find_enrolment(db.session, assignment.cohort_id, current_user.id)
    if enrolment is None:
        require(permissions.can_manage_coursework(current_user, assignment.cohort))
        return redirect(url_for("training.coursework_work", assignment_id=assignment.id))
    form = forms.SubmitWorkForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        try:
            attempt = services.submit_work(
                db.session, assignment.id, file_name=upload.filename if upload else None, file_data=data,
                text=form.text.data or "", anonymised=form.anonymised.data, store=_store(), actor=current_user,
                now=clock.now(), max_bytes=_max_bytes())
        except RuleViolation as problem:
            field = "file" if getattr(problem, "field", None) == "file" else "text"
            _problem(form, field, problem)
            status = 400
        else:
            return _done("Your work has been submitted", "training.coursework_receipt", attempt_id=attempt.id)
    elif request.method == "POST":
        status = 400
    return _volunteer_page(assignment, enrolment, form, status)


@bp.route("/coursework/attempts/<int:attempt_id>/receipt")
@login_required
def coursework_receipt(attempt_id: int):
    attempt = _viewable_attempt(attempt_id)
    return render_template("training/coursework/receipt.html", attempt=attempt, size_label=files.size_label,
                           title=f"Receipt: {attempt.assignment.title}")


@bp.route("/coursework/attempts/<int:attempt_id>/file")
@login_required
def coursework_file(attempt_id: int):
    attempt = _viewable_attempt(attempt_id)
    store = _store()
    require(attempt.file_id is not None and store.exists(attempt.file_id))
    if not permissions.is_own_work(current_user, attempt.enrolment):
        audit.record(db.session, current_user, "coursework.file_opened", attempt, at=clock.now(),
                     file_name=attempt.file_name)
        db.session.commit()
    # Documents are stored as uploaded, so they are always downloaded, never opened in the browser.
    return upload_response(store.read(attempt.file_id), kind=attempt.file_type, name=attempt.file_name)


# ---------------------------------------------------------------------------------------------
# A cohort's coursework and assignments (trainers of the cohort, coordinators)


COHORTS_PAGE_SIZE = 50
TRAINEE_MATCHES = 20


@bp.route("/coursework/cohorts")
@staff_only
def coursework_cohorts():
    """The cohorts whose coursework this person manages, newest first, 50 a page."""
    cohorts = queries.trained_cohorts_page(db.session, current_user, page=page_arg(), per_page=COHORTS_PAGE_SIZE)
    return render_template("training/coursework/cohorts.html", cohorts=cohorts.rows, window=cohorts.window,
                           pagination=pagination(cohorts.window, "training.coursework_cohorts", {},
                                                 label="Pages of cohorts"),
                           title="Coursework by cohort")


@bp.route("/coursework/cohorts/<int:cohort_id>")
@staff_only
def coursework_cohort(cohort_id: int):
    cohort = _staff_cohort(cohort_id)
    assignments = queries.list_assignments(db.session, cohort.id)
    enrolments = queries.cohort_enrolments(db.session, cohort.id)
    latest = queries.latest_practicals(db.session, [e.id for e in enrolments])
    practicals = {e.id: latest.get(e.id) for e in enrolments}
    return render_template("training/coursework/cohort.html", cohort=cohort, assignments=assignments,
                           enrolments=enrolments, practicals=practicals, conflicts=_conflicts(),
                           rows=queries.cohort_work_rows(db.session, assignments, enrolments),
                           title=f"Coursework: {cohort.name}")


def _details(form) -> services.AssignmentDetails:
    return services.AssignmentDetails(
        title=form.title.data or "", instructions=form.instructions.data or "", due_at=_end_of(form.due_on.data),
        rubric=form.rubric.data or "", moderate_one_in=form.moderate_one_in.data or 0)


def _assignment_problems(form, problem: DomainError) -> None:
    db.session.rollback()
    errors = getattr(problem, "errors", None) or {"title": problem.reasons}
    for name, messages in errors.items():
        field = form._fields.get(name) or form.title
        field.errors = [*field.errors, *messages]
    form._errors = None


@bp.route("/coursework/cohorts/<int:cohort_id>/assignments/new", methods=["GET", "POST"])
@staff_only
def coursework_assignment_new(cohort_id: int):
    cohort = _staff_cohort(cohort_id)
    form = forms.AssignmentForm()
    if request.method == "GET":
        form.moderate_one_in.data = services.default_moderate_one_in(db.session)
    status = 200
    if form.validate_on_submit():
        try:
            assignment = services.create_assignment(db.session, cohort.id, _details(form), actor=current_user,
                                                    now=clock.now())
        except RuleViolation as problem:
            _assignment_problems(form, problem)
            status = 400
        else:
            return _done(f"‘{assignment.title}’ has been set", "training.coursework_cohort", cohort_id=cohort.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/assignment_form.html", form=form, cohort=cohort, assignment=None,
                           title="Set coursework"), status


@bp.route("/coursework/assignments/<int:assignment_id>/edit", methods=["GET", "POST"])
@staff_only
def coursework_assignment_edit(assignment_id: int):
    assignment = _staff_assignment(assignment_id)
    form = forms.AssignmentForm()
    if request.method == "GET":
        form.title.data, form.instructions.data = assignment.title, assignment.instructions
        form.due_on.data = _london_date(assignment.due_at)
        form.rubric.data = services.rubric_text(assignment.rubric.criteria if assignment.rubric else [])
        form.moderate_one_in.data = assignment.moderate_one_in
    status = 200
    if form.validate_on_submit():
        try:
            services.update_assignment(db.session, assignment.id, _details(form), actor=current_user,
                                       now=clock.now())
        except RuleViolation as problem:
            _assignment_problems(form, problem)
            status = 400
            assignment = _staff_assignment(assignment_id)
        else:
            return _done("Assignment saved", "training.coursework_work", assignment_id=assignment.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/assignment_form.html", form=form, cohort=assignment.cohort,
                           assignment=assignment, title=f"Change {assignment.title}"), status


@bp.route("/coursework/assignments/<int:assignment_id>/work")
@staff_only
def coursework_work(assignment_id: int):
    assignment = _staff_assignment(assignment_id)
    conflicts = _conflicts()
    rows = [row for row in queries.assignment_rows(db.session, assignment) if row.enrolment.user_id not in conflicts]
    to_allocate = [row.latest for row in rows
                   if row.latest is not None and row.latest.status in (M.SUBMITTED, M.IN_MARKING)]
    markers = services.eligible_markers_of(db.session, assignment.cohort, to_allocate)
    allocate_forms = {}
    for latest in to_allocate:
        allocate_form = forms.AllocateForm(formdata=None, prefix=f"a{latest.id}")
        allocate_form.marker_id.choices = [SelectChoice("", "Choose a marker")] + [
            SelectChoice(str(user.id), user.name) for user in markers[latest.id]]
        allocate_forms[latest.id] = allocate_form
    return render_template(
        "training/coursework/work.html", assignment=assignment, rows=rows, allocate_forms=allocate_forms,
        confirm=ConfirmForm(formdata=None), ready=queries.list_ready_to_release(db.session, assignment.id),
        marking_due_on=queries.marking_due_on, title=f"Work: {assignment.title}")


@bp.route("/coursework/assignments/<int:assignment_id>/enrolments/<int:enrolment_id>/extension",
          methods=["GET", "POST"])
@staff_only
def coursework_extension(assignment_id: int, enrolment_id: int):
    assignment = _staff_assignment(assignment_id)
    enrolment = queries.get_enrolment(db.session, enrolment_id)
    require(enrolment.cohort_id == assignment.cohort_id)
    form = forms.ExtensionForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.grant_extension(db.session, assignment.id, enrolment.id, _end_of(form.due_on.data),
                                     form.reason.data, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _problem(form, "due_on", problem)
            status = 409
        else:
            return _done(f"Extension granted to {enrolment.user.name}", "training.coursework_work",
                         assignment_id=assignment.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/extension.html", form=form, assignment=assignment,
                           enrolment=enrolment, title=f"Extension for {enrolment.user.name}"), status


@bp.route("/coursework/assignments/<int:assignment_id>/release", methods=["POST"])
@staff_only
def marking_release_all(assignment_id: int):
    assignment = _staff_assignment(assignment_id)
    released = services.release_ready_work(db.session, assignment.id, actor=current_user, now=clock.now())
    return _done(f"Feedback released to {len(released)} {'person' if len(released) == 1 else 'people'}",
                 "training.coursework_work", assignment_id=assignment.id)


# ---------------------------------------------------------------------------------------------
# Marking


@bp.route("/marking")
@staff_only
def marking_queue():
    queue = queries.marking_queue(db.session, current_user, now=clock.now())
    return render_template("training/coursework/queue.html", queue=queue, confirm=ConfirmForm(formdata=None),
                           marking_due_on=queries.marking_due_on, now=clock.now(), title="Marking")


@bp.route("/marking/attempts/<int:attempt_id>")
@staff_only
def marking_attempt(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    conflicts = _conflicts()
    history = queries.list_attempts(db.session, attempt.assignment_id, attempt.enrolment_id)
    return render_template(
        "training/coursework/attempt.html", attempt=attempt, history=history, confirm=ConfirmForm(formdata=None),
        can_mark=permissions.can_mark(current_user, attempt, conflicts, clock.now())
        and not attempt.locked_by_other(current_user.id, clock.now()),
        can_moderate=permissions.can_moderate(current_user, attempt, conflicts),
        can_release=permissions.can_release(current_user, attempt), now=clock.now(),
        marking_due_on=queries.marking_due_on, size_label=files.size_label, title=f"{attempt.assignment.title}: "
        f"{attempt.enrolment.user.name}")


@bp.route("/marking/attempts/<int:attempt_id>/allocate", methods=["POST"])
@staff_only
def marking_allocate(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    form = forms.AllocateForm(prefix=f"a{attempt.id}")
    form.marker_id.choices = [SelectChoice(str(user.id), user.name)
                              for user in services.eligible_markers(db.session, attempt)]
    if not form.validate_on_submit():
        flash("Choose a trainer of this cohort to mark the work", "error")
        return redirect(url_for("training.coursework_work", assignment_id=attempt.assignment_id))
    try:
        services.allocate_work(db.session, attempt.id, form.marker_id.data, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        return _refused(problem, "training.coursework_work", assignment_id=attempt.assignment_id)
    return _done(f"Work allocated to {attempt.marker.name}", "training.coursework_work",
                 assignment_id=attempt.assignment_id)


@bp.route("/marking/attempts/<int:attempt_id>/take", methods=["POST"])
@staff_only
def marking_take(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    try:
        services.start_marking(db.session, attempt.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        return _refused(problem, "training.marking_attempt", attempt_id=attempt.id)
    db.session.commit()
    return redirect(url_for("training.marking_mark", attempt_id=attempt.id))


def _marking_form(attempt: Attempt, **kwargs):
    criteria = attempt.rubric_version.criteria if attempt.rubric_version else []
    form = forms.marking_form(criteria, **kwargs)
    return form, criteria


@bp.route("/marking/attempts/<int:attempt_id>/mark", methods=["GET", "POST"])
@staff_only
def marking_mark(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    if attempt.lock_holder_id != current_user.id or attempt.status is not M.IN_MARKING:
        flash("Open the work from the marking queue to mark it", "error")
        return redirect(url_for("training.marking_attempt", attempt_id=attempt.id))
    form, criteria = _marking_form(attempt)
    if request.method == "GET":
        for (name, criterion) in form.criterion_fields:
            form[name].data = attempt.levels.get(criterion)
        form.outcome.data = attempt.outcome.value if attempt.outcome else None
        form.feedback.data = attempt.feedback
        form.resubmit_on.data = _london_date(attempt.resubmit_due_at)
    status = 200
    if form.validate_on_submit():
        finish = bool(form.finish.data)
        try:
            services.save_marking(
                db.session, attempt.id, levels={criterion: form[name].data for name, criterion in form.criterion_fields
                                                if form[name].data},
                outcome=Outcome(form.outcome.data) if form.outcome.data else None, feedback=form.feedback.data or "",
                resubmit_due_at=_end_of(form.resubmit_on.data), finish=finish, actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _problem(form, "outcome", problem)
            status = 409
            attempt = _staff_attempt(attempt_id)
        else:
            if finish:
                return _done("Marking finished", "training.marking_queue")
            return _done("Marks saved: you are still marking this work", "training.marking_mark",
                         attempt_id=attempt.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/mark.html", attempt=attempt, form=form, criteria=criteria,
                           confirm=ConfirmForm(formdata=None), size_label=files.size_label,
                           title=f"Mark: {attempt.enrolment.user.name}"), status


@bp.route("/marking/attempts/<int:attempt_id>/stop", methods=["POST"])
@staff_only
def marking_stop(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    try:
        services.stop_marking(db.session, attempt.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        return _refused(problem, "training.marking_attempt", attempt_id=attempt.id)
    return _done("You have stopped marking this work", "training.marking_queue")


@bp.route("/marking/attempts/<int:attempt_id>/moderate", methods=["GET", "POST"])
@staff_only
def marking_moderate(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    require(permissions.can_moderate(current_user, attempt, _conflicts()))
    form = forms.ModerateForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.moderate_work(
                db.session, attempt.id, agree=form.decision.data == "agree", note=form.note.data or "",
                outcome=Outcome(form.outcome.data) if form.outcome.data else None,
                resubmit_due_at=_end_of(form.resubmit_on.data), actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _problem(form, "decision", problem)
            status = 409
            attempt = _staff_attempt(attempt_id)
        else:
            return _done("Moderation saved", "training.marking_attempt", attempt_id=attempt.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/moderate.html", attempt=attempt, form=form, size_label=files.size_label,
                           title=f"Moderate: {attempt.enrolment.user.name}"), status


@bp.route("/marking/attempts/<int:attempt_id>/release", methods=["POST"])
@staff_only
def marking_release(attempt_id: int):
    attempt = _staff_attempt(attempt_id)
    try:
        services.release_work(db.session, attempt.id, actor=current_user, now=clock.now())
    except RuleViolation as problem:
        return _refused(problem, "training.marking_attempt", attempt_id=attempt.id)
    return _done(f"Feedback released to {attempt.enrolment.user.name}", "training.marking_attempt",
                 attempt_id=attempt.id)


@bp.route("/marking/conflicts", methods=["GET", "POST"])
@staff_only
def marking_conflicts():
    """The conflicts declared, and a search (`?q=`) for the volunteer to declare one with: at most
    TRAINEE_MATCHES people a page, so the page stays small however many volunteers are in training."""
    form = forms.ConflictForm()
    search_form = forms.TraineeSearchForm(request.args if request.method == "GET" else
                                          MultiDict({"q": request.form.get("q", "")}))
    search_form.validate()
    search = "" if search_form.q.errors else " ".join((search_form.q.data or "").split())
    matches, more = ([], False)
    if search:
        matches, more = queries.search_trainees(db.session, current_user, search, limit=TRAINEE_MATCHES)
    form.volunteer_id.choices = [SelectChoice(str(person.id), f"{person.name} ({person.email})")
                                 for person in matches]
    status = 200
    if form.validate_on_submit():
        if not queries.is_trainee(db.session, current_user, form.volunteer_id.data):
            form.volunteer_id.errors = ["Choose one of the volunteers found"]
            form._errors = None
            status = 400
        else:
            try:
                services.declare_conflict(db.session, form.volunteer_id.data, form.reason.data, actor=current_user,
                                          now=clock.now())
            except (RuleViolation, NotFound, PermissionDenied) as problem:
                _problem(form, "volunteer_id", problem)
                status = 409
            else:
                return _done("Conflict of interest declared: you will not be given this volunteer's work",
                             "training.marking_conflicts")
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/conflicts.html", form=form, search_form=search_form, search=search,
                           matches=matches, more_matches=more,
                           conflicts=queries.list_conflicts(db.session, current_user.id),
                           confirm=ConfirmForm(formdata=None), title="Conflicts of interest"), status


@bp.route("/marking/conflicts/<int:volunteer_id>/withdraw", methods=["POST"])
@staff_only
def marking_conflict_withdraw(volunteer_id: int):
    """Withdraw one's own conflict with a volunteer; a second click finds nothing left to withdraw and says so."""
    conflict = services.withdraw_conflict(db.session, volunteer_id, actor=current_user, now=clock.now())
    if conflict is None:
        db.session.rollback()
        flash("You have no conflict of interest with this volunteer to withdraw", "info")
        return redirect(url_for("training.marking_conflicts"))
    return _done(f"Conflict of interest with {conflict.volunteer.name} withdrawn: you may be given their work again",
                 "training.marking_conflicts")


# ---------------------------------------------------------------------------------------------
# Practical assessment


@bp.route("/practical/enrolments/<int:enrolment_id>", methods=["GET", "POST"])
@staff_only
def practical_record(enrolment_id: int):
    enrolment = queries.get_enrolment(db.session, enrolment_id)
    require(permissions.can_manage_coursework(current_user, enrolment.cohort)
            and permissions.can_record_practical(current_user, enrolment, _conflicts()))
    competencies = list(enrolment.cohort.course.competencies or [])
    form = forms.practical_form(competencies)
    history = queries.list_practicals(db.session, enrolment.id)
    status = 200
    if form.validate_on_submit():
        results = [services.CompetencyResult(name, form[met].data == "met", form[evidence].data or "")
                   for met, evidence, name in form.competency_fields]
        try:
            practical = services.record_practical(
                db.session, enrolment.id, observed_on=form.observed_on.data, scenario=form.scenario.data,
                results=results, outcome=Outcome(form.outcome.data), notes=form.notes.data or "",
                actor=current_user, now=clock.now())
        except RuleViolation as problem:
            _problem(form, "outcome", problem)
            status = 409
            enrolment = queries.get_enrolment(db.session, enrolment_id)
        else:
            return _done("Observation record saved", "training.practical_detail", practical_id=practical.id)
    elif request.method == "POST":
        status = 400
    return render_template("training/coursework/practical_form.html", form=form, enrolment=enrolment,
                           history=history, title=f"Practical assessment: {enrolment.user.name}"), status


@bp.route("/practical/<int:practical_id>")
@login_required
def practical_detail(practical_id: int):
    practical = queries.get_practical(db.session, practical_id)
    require(permissions.can_view_practical(current_user, practical.enrolment, _conflicts()))
    staff = is_coordinator(current_user) or current_user.id != practical.enrolment.user_id
    return render_template("training/coursework/practical.html", practical=practical, staff=staff,
                           title="Practical assessment record")
