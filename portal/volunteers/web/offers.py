"""Pages of portal.volunteers (offers); filled in by its author."""
