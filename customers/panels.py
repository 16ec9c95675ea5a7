"""The customers app's panels (crm.panels): on the customer page the overview's key facts, the
five categories of the catalogue, the change requests and the history; on the home pages the
change requests and, for licence officers, the licences expiring and the annual reviews due.
Registered by CustomersConfig.ready."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register, shared
from customers import policies, selectors
from customers.catalogue import CATALOGUE, Category, Maintenance, display_value, effective

# The customer page's tabs, in order, with their names.
TAB_LABELS = {
    Tab.OVERVIEW: _("Overview"),
    Tab.INFORMATION: _("Information"),
    Tab.SALES: _("Sales"),
    Tab.GRADE_VALUE: _("Grade and value"),
    Tab.VISITS: _("Visits"),
    Tab.SERVICES: _("Services"),
    Tab.HISTORY: _("History"),
}
# The overview's key facts: what someone at the door or on the phone needs first.
KEY_FACTS = (
    "address",
    "contact_person",
    "phone",
    "business_format",
    "market_type",
    "account_manager",
    "license_number",
    "license_expiry_date",
    "annual_review_date",
    "order_cycle",
    "visit_cycle",
    "status",
)
PEOPLE = frozenset({Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER})
LICENCE_OFFICERS = frozenset({Role.LICENSE_OFFICER})


def dynamic_specs(user, customer) -> list:
    """The dynamic fields `user` may edit in place on `customer`."""
    return [
        spec
        for spec in effective().values()
        if spec.maintenance == Maintenance.DYNAMIC
        and policies.can_edit_directly(user, customer, spec)
    ]


# --- the customer page ---------------------------------------------------------------------


def key_facts_context(request, customer) -> dict[str, Any]:
    return {
        "key_facts": [
            {"spec": CATALOGUE[name], "value": display_value(customer, name)} for name in KEY_FACTS
        ]
    }


def information_context(request, customer) -> dict[str, Any]:
    user = request.user
    # Each field's maintenance badge, drawn once per page rather than by a {% translate %}
    # and an {% if %} chain on each of the card's eighty rows.
    badges = {
        maintenance: format_html('<span class="badge {}" title="{}">{}</span>', css, title, letter)
        for maintenance, css, letter, title in (
            (Maintenance.STATIC, "text-bg-secondary", "S", gettext("static")),
            (Maintenance.DYNAMIC, "text-bg-success", "D", gettext("dynamic")),
            (Maintenance.SYSTEM, "text-bg-info", "G", gettext("system")),
        )
    }
    sections = []
    specs = effective()  # each field's class as administrators set it
    for category in Category:
        rows = []
        for spec in specs.values():
            if spec.category != category:
                continue
            value = display_value(customer, spec.name)
            rows.append(
                {
                    "spec": spec,
                    # The names the card reads on each row, flat (a lookup through the spec
                    # would try it as a dict first, failing, on every row).
                    "label": spec.label,
                    "name": spec.name,
                    "value": value,
                    "badge": badges.get(spec.maintenance, badges[Maintenance.SYSTEM]),
                    # A computed field the nightly job has not filled yet.
                    "pending": spec.maintenance == Maintenance.SYSTEM and value == "—",
                }
            )
        sections.append({"category": category, "rows": rows})
    return {
        "sections": sections,
        "can_edit_dynamic": bool(dynamic_specs(user, customer)),
        "can_change": bool(policies.changeable_fields(user, customer)),
    }


def change_requests_context(request, customer) -> dict[str, Any]:
    return {"change_requests": selectors.change_requests_for(customer=customer)[:20]}


def history_context(request, customer) -> dict[str, Any]:
    return {
        "history": [
            {
                "entry": entry,
                "label": entry.field_label,
                # A row of a record merged into this one: which record it was.
                "merged_record": entry.object_repr if entry.object_id != str(customer.pk) else "",
            }
            for entry in selectors.customer_history(customer=customer)
        ]
    }


# --- home pages ----------------------------------------------------------------------------


def portfolio_counts(request) -> dict[str, Any]:
    """`selectors.customer_portfolio_counts` of the signed-in user, read once per page: the
    account manager's customer mix and the value panels both show them."""
    return shared(
        request,
        "portfolio-counts",
        lambda: selectors.customer_portfolio_counts(user=request.user),
    )


def home_change_requests_context(request) -> dict[str, Any]:
    return {"panel": selectors.change_request_home_panel(user=request.user)}


def licence_expiry_context(request) -> dict[str, Any]:
    return {
        "panel": selectors.licence_due_panel(user=request.user, field="license_expiry_date"),
        "title": _("Licences expiring"),
        "testid": "home-licence-expiry",
        "empty_text": _("No licence in your areas expires in the next 60 days."),
    }


def annual_review_context(request) -> dict[str, Any]:
    return {
        "panel": selectors.licence_due_panel(user=request.user, field="annual_review_date"),
        "title": _("Annual reviews due"),
        "testid": "home-annual-reviews",
        "empty_text": _("No annual review is due in your areas in the next 60 days."),
    }


def register_all() -> None:
    register(
        Panel(
            key="key-facts",
            surface=Surface.CUSTOMER,
            tab=Tab.OVERVIEW,
            template="customers/inc/customer_key_facts.html",
            context=key_facts_context,
            order=10,
        ),
        Panel(
            key="change-requests",
            surface=Surface.CUSTOMER,
            tab=Tab.OVERVIEW,
            template="customers/inc/customer_change_requests.html",
            context=change_requests_context,
            order=20,
        ),
        Panel(
            key="information",
            surface=Surface.CUSTOMER,
            tab=Tab.INFORMATION,
            template="customers/inc/customer_information.html",
            context=information_context,
            anchors=("dynamic", *Category.values),
            order=30,
        ),
        Panel(
            key="history",
            surface=Surface.CUSTOMER,
            tab=Tab.HISTORY,
            template="customers/inc/customer_history.html",
            context=history_context,
            order=900,
        ),
        Panel(
            key="change-requests",
            surface=Surface.HOME,
            template="customers/inc/home_change_requests.html",
            context=home_change_requests_context,
            roles=PEOPLE,
            order=30,
            # Supervisors decide them: first on their page; a licence officer's come last.
            order_for={Role.SUPERVISOR: 10, Role.LICENSE_OFFICER: 50},
            phone_priority=35,
            width="col-lg-6",
        ),
        Panel(
            key="licence-expiry",
            surface=Surface.HOME,
            template="customers/inc/home_licence_dates.html",
            context=licence_expiry_context,
            roles=LICENCE_OFFICERS,
            order=10,
            width="col-lg-6",
        ),
        Panel(
            key="annual-reviews",
            surface=Surface.HOME,
            template="customers/inc/home_licence_dates.html",
            context=annual_review_context,
            roles=LICENCE_OFFICERS,
            order=20,
            width="col-lg-6",
        ),
    )
