"""Who may do what with retail audits, decided once (pages, tabs, panels and the API ask here).
Which shops' audits a person sees is the one scope rule (`visible_to`), not decided here."""

from __future__ import annotations

from typing import Any

from crm.choices import Role


def can_define_forms(user: Any) -> bool:
    """Audit forms are the company's: administrators write them."""
    return bool(user.is_authenticated and user.is_administrator)


def can_read_forms(user: Any) -> bool:
    """Supervisors read the forms their account managers fill in."""
    return bool(user.is_authenticated and (user.is_administrator or user.role == Role.SUPERVISOR))


def can_read_reports(user: Any) -> bool:
    """Price monitoring and shelf presence, over the caller's scope: administrators,
    supervisors, account managers, and integration clients through the API. Licence officers
    audit licences, not shelves."""
    return bool(
        user.is_authenticated
        and (
            user.is_administrator
            or user.role in (Role.SUPERVISOR, Role.ACCOUNT_MANAGER, Role.INTEGRATION_CLIENT)
        )
    )
