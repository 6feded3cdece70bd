"""RJ volunteer portal: the volunteer lifecycle and restorative justice case tracking."""
