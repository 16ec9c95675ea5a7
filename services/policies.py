"""Who may do what with services, by role. Reads only: the services enforce these rules and the
pages use them to show only what the user may do. Whether the user sees the customer at all is
the scope rule's business (crm.scope); these functions assume it does.
"""

from __future__ import annotations

from crm.choices import Role
from crm.models import User
from customers.models import Customer
from services.models import ServiceRequest


def is_person(user: User | None) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and not user.is_integration_client
    )


def is_supervising(user: User | None) -> bool:
    return is_person(user) and (user.is_administrator or user.role == Role.SUPERVISOR)


def can_serve(user: User | None, customer: Customer) -> bool:
    """Raising a request or logging a care or value-added service for a customer: its account
    manager, and the supervisors, licence officers and administrators who see it."""
    if not is_person(user):
        return False
    if user.role == Role.ACCOUNT_MANAGER:
        return customer.account_manager_id == user.pk
    return is_supervising(user) or user.role == Role.LICENSE_OFFICER


def can_work(user: User | None, request: ServiceRequest) -> bool:
    """Starting and resolving: the assignee or a supervisor."""
    return is_supervising(user) or (is_person(user) and request.assignee_id == user.pk)


def can_settle(user: User | None, request: ServiceRequest) -> bool:
    """Closing (with the customer's satisfaction) and reopening: who raised it, its assignee,
    the customer's account manager, or a supervisor."""
    if not is_person(user):
        return False
    return is_supervising(user) or user.pk in (
        request.raised_by_id,
        request.assignee_id,
        request.customer.account_manager_id,
    )


def can_assign(user: User | None, request: ServiceRequest) -> bool:
    """Handing a request to someone else: supervisors, who raised it, or its assignee."""
    if not is_person(user):
        return False
    return is_supervising(user) or user.pk in (request.raised_by_id, request.assignee_id)


def can_hold_training(user: User | None) -> bool:
    return is_person(user) and (
        is_supervising(user) or user.role in (Role.ACCOUNT_MANAGER, Role.LICENSE_OFFICER)
    )


def can_configure(user: User | None) -> bool:
    return is_person(user) and user.is_administrator


def can_watch_satisfaction(user: User | None) -> bool:
    """The satisfaction summary is for supervisors and administrators."""
    return is_supervising(user)
