"""Who may do what with visits, by role. Reads only: the services enforce these rules and the
pages use them to show only what the user may do. Whether the user sees the customer at all
is the scope rule's business (crm.scope); these functions assume it does.
"""

from __future__ import annotations

from crm.choices import Role
from crm.models import User
from customers.models import Customer
from visits.models import FollowUp


def _is_person(user: User | None) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and not user.is_integration_client
    )


def _is_supervising(user: User) -> bool:
    return user.is_administrator or user.role == Role.SUPERVISOR


def can_log_visit(user: User | None, customer: Customer) -> bool:
    """People log visits: the customer's account manager, and supervisors, licence officers
    and administrators who go along or inspect. Integration clients do not visit shops."""
    if not _is_person(user):
        return False
    if user.role == Role.ACCOUNT_MANAGER:
        return customer.account_manager_id == user.pk
    return _is_supervising(user) or user.role == Role.LICENSE_OFFICER


def can_manage_plan(user: User | None, customer: Customer) -> bool:
    """Rescheduling or skipping a planned visit: the customer's account manager or a supervisor."""
    if not _is_person(user):
        return False
    return _is_supervising(user) or customer.account_manager_id == user.pk


def can_complete_follow_up(user: User | None, follow_up: FollowUp) -> bool:
    """Its owner, the customer's account manager, or a supervisor."""
    if not _is_person(user):
        return False
    return (
        _is_supervising(user)
        or follow_up.owner_id == user.pk
        or follow_up.customer.account_manager_id == user.pk
    )


def can_configure(user: User | None) -> bool:
    return _is_person(user) and user.is_administrator


def can_watch_coverage(user: User | None) -> bool:
    """The coverage page is for supervisors and administrators."""
    return _is_person(user) and _is_supervising(user)
