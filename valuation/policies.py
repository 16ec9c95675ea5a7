"""Who may do what with valuation data, by role. Reads only: the services enforce these rules
(and check that the user sees the customer, through the scope rule), and pages use the same
functions to offer only what the services would accept."""

from __future__ import annotations

from crm.choices import Role
from crm.models import User


def may_record_compliance(user: User) -> bool:
    """Enter and void compliance records (of customers the user sees): licence officers, whose
    work it is, and administrators."""
    return bool(user.is_administrator or user.role == Role.LICENSE_OFFICER)


def may_handle_warnings(user: User) -> bool:
    """Acknowledge and resolve early warnings (of customers the user sees): the account
    manager they belong to, supervisors and administrators — not licence officers."""
    return bool(user.is_administrator or user.role in (Role.SUPERVISOR, Role.ACCOUNT_MANAGER))
