"""Pages of portal.volunteers (interviews); filled in by its author."""
