"""The services app's panels (crm.panels): the customer page's service card, its open requests
in the summary header and "Raise a request" among the page's primary actions; the service
requests on the home pages (a supervisor's overdue queue, everyone else's own, with the care
due this week for account managers). Registered by ServicesConfig.ready."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register
from services import policies, selectors
from services.choices import Queue
from services.workflow import overdue_by

# Requests and services the customer page's service card lists (the newest).
SERVICES_SHOWN = 5


def services_context(request, customer) -> dict[str, Any]:
    """The latest requests and care or value-added services, and whether the user serves."""
    return {
        "service_timeline": selectors.customer_service_timeline(
            customer=customer, limit=SERVICES_SHOWN
        ),
        "can_serve": policies.can_serve(request.user, customer),
    }


def services_summary(request, customer) -> dict[str, Any]:
    """The summary header's open requests and "Raise a request", when the service card is not
    drawn (one count)."""
    return {
        "service_timeline": {
            "open_count": selectors.customer_open_request_count(customer=customer)
        },
        "can_serve": policies.can_serve(request.user, customer),
    }


def home_requests_context(request) -> dict[str, Any]:
    """Supervisors: the overdue requests of their areas, the most overdue first; the others:
    their own requests, soonest due (a licence officer's licence matters)."""
    user = request.user
    queue = Queue.OVERDUE if user.role == Role.SUPERVISOR else Queue.MINE
    panel = selectors.request_home_panel(user=user, queue=queue)
    panel["rows"] = [
        {"request": item, "overdue_by": overdue_by(item, panel["now"])}
        for item in panel["requests"]
    ]
    panel["url"] = f"{reverse('services:queue')}?{urlencode({'queue': queue})}"
    care_due = selectors.care_due_count(user=user) if user.role == Role.ACCOUNT_MANAGER else None
    return {"panel": panel, "care_due": care_due}


def register_all() -> None:
    register(
        Panel(
            key="services",
            surface=Surface.CUSTOMER,
            tab=Tab.SERVICES,
            template="services/inc/customer_services.html",
            summary_template="services/inc/customer_summary.html",
            actions_template="services/inc/customer_actions.html",
            context=services_context,
            summary=services_summary,
            order=80,
        ),
        Panel(
            key="service-requests",
            surface=Surface.HOME,
            template="services/inc/home_requests.html",
            context=home_requests_context,
            roles=frozenset({Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER}),
            order=20,
            order_for={Role.LICENSE_OFFICER: 40},
            width="col-lg-6",
        ),
    )
