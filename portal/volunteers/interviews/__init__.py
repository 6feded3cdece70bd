"""Interview slots, bookings and interview records for shortlisted applicants. Flask-free."""
