"""The navigation bar, declared once: each entry says which roles see it.

Later apps add their entries here (customers, grading, visits, ...), so what a role can
reach is readable in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.choices import Role

PEOPLE = frozenset(Role.people())
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    icon: str
    roles: frozenset[Role]

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Home"), "home", "house", PEOPLE),
    NavItem(_("Customers"), "customers:list", "shop-window", PEOPLE),
    NavItem(_("Visits"), "visits:agenda", "calendar-check", PEOPLE),
    NavItem(_("Coverage"), "visits:coverage", "speedometer2", SUPERVISING),
    NavItem(_("Services"), "services:queue", "heart-pulse", PEOPLE),
    NavItem(_("Orders"), "orders:list", "receipt", PEOPLE),
    NavItem(_("Grading"), "grading:overview", "bar-chart-steps", PEOPLE),
    NavItem(_("Value"), "valuation:overview", "gem", PEOPLE),
    NavItem(_("Warnings"), "valuation:warnings", "exclamation-triangle", PEOPLE),
    NavItem(_("Change requests"), "customers:change_requests", "inbox", PEOPLE),
    NavItem(_("Areas & team"), "crm:area_list", "diagram-3", PEOPLE),
    NavItem(_("Products"), "orders:products", "box-seam", frozenset({Role.ADMINISTRATOR})),
    NavItem(_("API documentation"), "api:docs", "braces", frozenset({Role.ADMINISTRATOR})),
    NavItem(_("Administration"), "admin:index", "gear", frozenset({Role.ADMINISTRATOR})),
)


# The user menu (under the signed-in person's name, beside "Sign out").
USER_MENU_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Change password"), "password_change", "key", PEOPLE),
)


def _items_for(user, items: tuple[NavItem, ...]) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    role = Role.ADMINISTRATOR if user.is_superuser else user.role
    return [item for item in items if role in item.roles]


def nav_items_for(user) -> list[NavItem]:
    """The entries `user` sees, in order (none for anonymous users and integration clients)."""
    return _items_for(user, NAV_ITEMS)


def user_menu_items_for(user) -> list[NavItem]:
    """The user menu's entries for `user` (none for anonymous users and integration clients)."""
    return _items_for(user, USER_MENU_ITEMS)
