"""The valuation app's panels (crm.panels): the customer page's value card (with its early
warnings and compliance records) and the tier and open warnings in its summary header; the
value panels of the account managers' and supervisors' home pages; the recent violations of a
licence officer's areas. Registered by ValuationConfig.ready."""

from __future__ import annotations

from typing import Any

from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register
from customers import panels as customers_panels
from valuation.selectors import customer as customer_selectors
from valuation.selectors import warnings as warning_selectors


def value_context(request, customer) -> dict[str, Any]:
    return {
        "valuation": customer_selectors.customer_value_card(customer=customer, user=request.user)
    }


def value_summary(request, customer) -> dict[str, Any]:
    """The summary header's value tier and open warnings, when the value card is not drawn
    (two queries)."""
    return {"valuation": customer_selectors.customer_value_summary(customer=customer)}


def home_value_context(request) -> dict[str, Any]:
    """Open warnings, core and problem customers of the user's customers (or areas)."""
    counts = customers_panels.portfolio_counts(request)
    return {"panels": customer_selectors.value_home_panels(user=request.user, counts=counts)}


def violations_context(request) -> dict[str, Any]:
    return {"panel": warning_selectors.recent_violations_panel(user=request.user)}


def register_all() -> None:
    register(
        Panel(
            key="value",
            surface=Surface.CUSTOMER,
            tab=Tab.GRADE_VALUE,
            template="valuation/inc/customer_value.html",
            summary_template="valuation/inc/customer_summary.html",
            context=value_context,
            summary=value_summary,
            anchors=("value", "value-warnings", "value-compliance"),
            order=50,
        ),
        Panel(
            key="value-panels",
            surface=Surface.HOME,
            template="valuation/inc/home_panels.html",
            context=home_value_context,
            roles=frozenset({Role.ACCOUNT_MANAGER, Role.SUPERVISOR}),
            order=40,
            order_for={Role.SUPERVISOR: 50},
            # On a phone the open warnings come before the change requests.
            phone_priority=25,
        ),
        Panel(
            key="violations",
            surface=Surface.HOME,
            template="valuation/inc/home_violations.html",
            context=violations_context,
            roles=frozenset({Role.LICENSE_OFFICER}),
            order=30,
        ),
    )
