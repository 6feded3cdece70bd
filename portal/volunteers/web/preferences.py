"""Volunteers' allocation preferences (availability, districts, case limit, away dates, conflicts,
pause) and coordinators' view of them."""
