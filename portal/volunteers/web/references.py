"""Pages of portal.volunteers (references); filled in by its author."""
