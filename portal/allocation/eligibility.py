"""Who may take a case, and every reason why not: the one answer the allocation pages, offers,
bulk proposals and the `allocation_requested` veto all use.

CONTRACT (filled in by the eligibility work):

    assess(session, case_id, user_ids, *, today) -> dict[int, Assessment]

for each user id asked about (in a constant number of queries, whatever the number of ids). The
vetting, training and supervision modules supply their own reasons through bulk queries they own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    """One reason, in a coordinator's words ("Police vetting lapsed on 3 March 2026"), with the rule
    that gave it: status, vetting, training, supervision, capacity, pause, away, conflict, sensitive."""

    rule: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Assessment:
    """A volunteer's eligibility for one case: eligible when there are no reasons; warnings never
    stop an offer but are shown beside it ("away 12–26 May", "supervision overdue since 3 March")."""

    user_id: int
    name: str
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons
