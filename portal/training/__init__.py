"""Training: the 4-day facilitator course, its cohorts, enrolment, registers, coursework and marking.

Rank 3: may use core, cases and volunteers; Flask-free outside `web/`. Courses and cohorts live in
this package's models/services; coursework, marking and the practical assessment in `coursework/`.
"""
