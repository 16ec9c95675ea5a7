"""Who may do what with supply allocation, decided once (pages, tabs and panels ask here)."""

from __future__ import annotations

from typing import Any

from crm.choices import Role


def can_read_exceptions(user: Any) -> bool:
    """The orders over quota: administrators and supervisors, and account managers (their own
    shops, read-only); licence officers have no business there."""
    return user.is_administrator or user.role in (Role.SUPERVISOR, Role.ACCOUNT_MANAGER)


def can_review_exceptions(user: Any) -> bool:
    return user.is_administrator or user.role == Role.SUPERVISOR
