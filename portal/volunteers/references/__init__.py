"""References: requesting them from referees by single-use link, recording and chasing them. Flask-free."""
