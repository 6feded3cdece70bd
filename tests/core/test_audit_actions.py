"""The audit log's filter offers a fixed list of action names (portal.core.audit_actions.ACTIONS) instead
of scanning the log; this keeps that list complete by reading every `audit.record(...)` call."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import portal
from portal.core.audit_actions import ACTIONS
from portal.expenses.services import CLAIM_TRANSITIONS
from portal.volunteers.services import APPLICATION_TRANSITIONS

SOURCE = Path(portal.__file__).parent


def audit_calls() -> list[tuple[str, ast.expr]]:
    """(where, action argument) for every `audit.record(session, actor, action, …)` in portal/."""
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                action = node.args[2] if len(node.args) > 2 else next(
                    keyword.value for keyword in node.keywords if keyword.arg == "action")
                calls.append((f"{path.relative_to(SOURCE.parent)}:{node.lineno}", action))
    return calls


def literal_actions(action: ast.expr) -> set[str] | None:
    """The names a literal or a choice of literals (`"a" if x else "b"`) can take; None otherwise."""
    if isinstance(action, ast.Constant) and isinstance(action.value, str):
        return {action.value}
    if isinstance(action, ast.IfExp):
        body, orelse = literal_actions(action.body), literal_actions(action.orelse)
        return body | orelse if body is not None and orelse is not None else None
    return None


def test_every_literal_action_the_code_records_is_in_the_fixed_list():
    calls = audit_calls()
    assert len(calls) > 100  # the scan found the code
    missing = {
        f"{where}: {name}" for where, action in calls for name in (literal_actions(action) or ()) if name not in ACTIONS
    }
    assert not missing, "add these to portal/core/audit_actions.py: " + ", ".join(sorted(missing))


def test_every_computed_action_matches_the_fixed_list():
    """Computed names (f-strings, variables) are checked by pattern here, and their full sets below."""
    for where, action in audit_calls():
        if literal_actions(action) is not None:
            continue
        if isinstance(action, ast.JoinedStr):
            pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+"
                              for part in action.values)
            assert any(re.fullmatch(pattern, name) for name in ACTIONS), f"{where}: no action matches {pattern}"
    claim_moves = {f"expense_claim.{status.value}" for targets in CLAIM_TRANSITIONS.values() for status in targets}
    application_moves = {
        f"application.{status.value}" for targets in APPLICATION_TRANSITIONS.values() for status in targets
    }
    others = {"supervision.overdue_reminded", "supervision.due_soon_reminded", "expense_line.approved",
              "expense_line.rejected", "allocation.offer_withdrawn", "allocation.offer_lapsed", "auth.password_reset",
              "auth.invitation_accepted", "auth.sign_up_confirmed"}
    assert claim_moves | application_moves | others <= set(ACTIONS)


def test_the_list_is_sorted_and_has_no_repeats():
    assert list(ACTIONS) == sorted(set(ACTIONS))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", name) for name in ACTIONS)
