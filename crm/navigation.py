"""The navigation bar, declared once: each entry says which roles see it.

Later apps add their entries here (customers, grading, visits, ...), so what a role can
reach is readable in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext_lazy as _

from crm.choices import Role

PEOPLE = frozenset(Role.people())
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})


@lru_cache(maxsize=256)
def _reversed(url_name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(url_name, urlconf=urlconf)


# Digits, so that it fits an <int:…> converter as well as a <str:…> one.
_URL_MARK = "9081726354"


@lru_cache(maxsize=256)
def _reversed_around(url_name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    head, tail = reverse(url_name, args=[_URL_MARK], urlconf=urlconf).split(_URL_MARK)
    return head, tail


def url_builder(url_name: str) -> Callable[[object], str]:
    """`reverse(url_name, args=[value])` for many values at the cost of one `reverse()`: the
    address of a URL pattern with one `int` or `str` argument is reversed once (per URL
    configuration and script prefix) around a mark, and each value is put in its place,
    quoted as `reverse()` quotes it. A page of 50 rows with 8 links each spent about a
    quarter of its rendering in `reverse()` (the agenda). The value is not checked against
    the pattern: give it the pks and codes that `reverse()` would take."""
    head, tail = _reversed_around(url_name, get_script_prefix(), get_urlconf(settings.ROOT_URLCONF))

    def build(value: object) -> str:
        return f"{head}{quote(str(value), safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"

    return build


# Compared by identity (the entries are the module's own): a page compares each entry with the
# active one, and comparing fields would translate the labels each time.
@dataclass(frozen=True, eq=False)
class NavItem:
    label: str | Promise
    url_name: str
    icon: str
    roles: frozenset[Role]
    # Under "More" on a wide screen (the bar stays one line at 1440 px); listed with the others
    # in the folded menu of a phone.
    more: bool = False

    @property
    def url(self) -> str:
        """The entry's address, reversed once per URL configuration and script prefix (every
        page draws the bar: some 60 `reverse()` calls a page, a quarter of the base template's
        time, before)."""
        return _reversed(self.url_name, get_script_prefix(), get_urlconf(settings.ROOT_URLCONF))


FIELD = frozenset({Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMINISTRATOR})
LICENCE = frozenset({Role.LICENSE_OFFICER})
ADMINISTRATOR = frozenset({Role.ADMINISTRATOR})

# Licence officers have no visit plan (visits are planned for account managers): their Visits
# entry opens the visits of their areas; they cannot act on churn warnings (read-only), so they
# get the compliance records instead, their own work.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Home"), "home", "house", PEOPLE),
    NavItem(_("Customers"), "customers:list", "shop-window", PEOPLE),
    NavItem(_("Visits"), "visits:agenda", "calendar-check", FIELD),
    NavItem(_("Visits"), "visits:list", "calendar-check", LICENCE),
    NavItem(_("Coverage"), "visits:coverage", "speedometer2", SUPERVISING),
    NavItem(_("Services"), "services:queue", "heart-pulse", PEOPLE),
    NavItem(_("Grading"), "grading:overview", "bar-chart-steps", PEOPLE),
    NavItem(_("Value"), "valuation:overview", "gem", PEOPLE),
    NavItem(_("Warnings"), "valuation:warnings", "exclamation-triangle", FIELD),
    NavItem(_("Compliance"), "valuation:compliance", "shield-check", LICENCE),
    NavItem(_("Change requests"), "customers:change_requests", "inbox", PEOPLE, more=True),
    NavItem(_("Duplicates"), "customers:duplicates", "files", SUPERVISING, more=True),
    NavItem(_("Orders"), "orders:list", "receipt", PEOPLE, more=True),
    NavItem(_("Allocation"), "allocation:overview", "boxes", PEOPLE, more=True),
    NavItem(_("Audits"), "audits:prices", "clipboard-check", FIELD, more=True),
    NavItem(_("Areas & team"), "crm:area_list", "diagram-3", PEOPLE, more=True),
    NavItem(_("Products"), "orders:products", "box-seam", ADMINISTRATOR, more=True),
    NavItem(
        _("Field catalogue"), "customers:catalogue", "ui-checks-grid", ADMINISTRATOR, more=True
    ),
    NavItem(_("API documentation"), "api:docs", "braces", ADMINISTRATOR, more=True),
    NavItem(_("Administration"), "admin:index", "gear", ADMINISTRATOR, more=True),
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
