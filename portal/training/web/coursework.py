"""Coursework, marking and practical assessment pages; filled in by its author."""
