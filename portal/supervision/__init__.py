"""Supervision: slots, bookings, supervision records and the 12-week cadence. Rank 4; Flask-free outside web/."""
