"""Who may do what with grades, by role. Reads only: the services enforce these rules (and
check that the user sees the customer, through the scope rule), and pages use the same
functions to offer only what the services would accept."""

from __future__ import annotations

from crm.choices import Role
from crm.models import User
from grading.choices import OverrideStatus, PublicationStatus
from grading.models import GradeOverride, GradePublication


def may_decide_overrides(user: User) -> bool:
    """Propose, approve, reject and revoke overrides (of customers the user sees):
    supervisors and administrators."""
    return bool(user.is_administrator or user.role == Role.SUPERVISOR)


def may_assess(user: User) -> bool:
    """Record assessments (of customers the user sees): the account manager (who sees only
    their own customers), supervisors and administrators — not licence officers."""
    return bool(user.is_administrator or user.role in (Role.SUPERVISOR, Role.ACCOUNT_MANAGER))


def override_actions(user: User, override: GradeOverride) -> list[str]:
    """The decisions `user` may take on `override` (of a customer they see): approve and
    reject a waiting one (not their own: they withdraw it), revoke an approved one."""
    decides = may_decide_overrides(user)
    mine = override.proposed_by_id == user.pk
    if override.status == OverrideStatus.PROPOSED:
        actions = ["approve", "reject"] if decides and not mine else []
        return [*actions, "withdraw"] if mine else actions
    if override.status == OverrideStatus.APPROVED and decides:
        return ["revoke"]
    return []


# What may still be done with an override of a published (locked) month: what changes no grade.
LOCKED_MONTH_OVERRIDE_ACTIONS = ("reject", "withdraw")


def may_publish_grades(user: User) -> bool:
    """Publish a grade month, ask for its unlock and decide on it: administrators and
    supervisors (a month's grades are the whole company's)."""
    return bool(user.is_administrator or user.role == Role.SUPERVISOR)


def publication_actions(user: User, publication: GradePublication | None) -> list[str]:
    """What `user` may do with a graded month's publication (`publication`: its live one, or
    None when the month is not published): publish it; ask to unlock a published month;
    approve or reject someone else's request, or withdraw one's own."""
    if not may_publish_grades(user):
        return []
    if publication is None:
        return ["publish"]
    if publication.status == PublicationStatus.PUBLISHED:
        return ["request_unlock"]
    if publication.status == PublicationStatus.UNLOCK_REQUESTED:
        if publication.unlock_requested_by_id == user.pk:
            return ["withdraw_unlock"]
        return ["approve_unlock", "reject_unlock"]
    return []
