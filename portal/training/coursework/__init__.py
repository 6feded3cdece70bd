"""Coursework, uploads, marking, moderation and the practical assessment. Flask-free."""
