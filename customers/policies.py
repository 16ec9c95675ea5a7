"""Who may change which customer field, by the catalogue's change policy and the user's role.

Reads only: the services enforce these rules, and pages use them to show only what the user
may do. Whether the user sees the customer at all is the scope rule's business (crm.scope);
these functions assume the customer was reached through `visible_to(user)`.
"""

from __future__ import annotations

from crm.choices import Role
from crm.models import User
from customers.catalogue import Category, FieldSpec, Policy, effective
from customers.models import Customer


def _is_admin(user: User) -> bool:
    return user.is_administrator


def _is_area_supervisor(user: User) -> bool:
    return user.role == Role.SUPERVISOR


def can_edit_directly(user: User, customer: Customer, spec: FieldSpec) -> bool:
    """A change to `spec` by `user` is saved at once (no change request)."""
    if spec.policy == Policy.DIRECT:
        return (
            _is_admin(user)
            or _is_area_supervisor(user)
            or (user.role == Role.ACCOUNT_MANAGER and customer.account_manager_id == user.pk)
        )
    if spec.policy == Policy.SUPERVISOR:
        return _is_admin(user) or _is_area_supervisor(user)
    return False


def can_propose(user: User, customer: Customer, spec: FieldSpec) -> bool:
    """`user` may ask for a change to `spec` through a change request."""
    if spec.policy != Policy.APPROVAL:
        return False
    if _is_admin(user) or _is_area_supervisor(user):
        return True
    if user.role == Role.ACCOUNT_MANAGER:
        return customer.account_manager_id == user.pk
    # Licence officers look after the licence and compliance fields.
    return user.role == Role.LICENSE_OFFICER and spec.category == Category.MANAGEMENT


def changeable_fields(user: User, customer: Customer) -> list[FieldSpec]:
    """Every field `user` may change on `customer`, directly or by request, by the effective
    catalogue. `can_edit_directly` and `can_propose` judge the spec they are given: callers
    pass specs from `customers.catalogue.effective()`."""
    return [
        spec
        for spec in effective().values()
        if can_edit_directly(user, customer, spec) or can_propose(user, customer, spec)
    ]


def can_create_customers(user: User) -> bool:
    return _is_admin(user) or _is_area_supervisor(user)


def can_decide_requests(user: User) -> bool:
    """Supervisors (within their areas) and administrators approve or reject requests."""
    return _is_admin(user) or _is_area_supervisor(user)


def can_import(user: User) -> bool:
    return _is_admin(user)


def can_review_duplicates(user: User) -> bool:
    """Supervisors (the pairs within their areas) and administrators (all) see the likely
    duplicates and may dismiss a pair that is two shops."""
    return _is_admin(user) or _is_area_supervisor(user)


def can_merge(user: User) -> bool:
    """Merging two customer records (customers.services.customer_merge) is for administrators."""
    return _is_admin(user)
