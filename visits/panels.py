"""The visits app's panels (crm.panels): the customer page's visit timeline, its last visit in
the summary header and "Log a visit" among the page's primary actions; today's visits on an
account manager's home, the team's coverage on a supervisor's. Registered by
VisitsConfig.ready."""

from __future__ import annotations

from typing import Any

from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register
from visits import policies, selectors


def visits_context(request, customer) -> dict[str, Any]:
    return {
        "visits": selectors.customer_visit_timeline(customer=customer),
        "can_log_visit": policies.can_log_visit(request.user, customer),
    }


def today_context(request) -> dict[str, Any]:
    """Today's visits: planned, overdue, done, and the follow-ups due."""
    user = request.user
    return {"agenda": selectors.agenda(user=user, account_manager=user, upcoming=False)}


def coverage_context(request) -> dict[str, Any]:
    """The visit coverage of the supervisor's team, a line per account manager."""
    return {"lines": selectors.coverage(user=request.user)}


def register_all() -> None:
    register(
        Panel(
            key="visits",
            surface=Surface.CUSTOMER,
            tab=Tab.VISITS,
            template="visits/inc/customer_visits.html",
            summary_template="visits/inc/customer_summary.html",
            actions_template="visits/inc/customer_actions.html",
            context=visits_context,
            order=60,
        ),
        Panel(
            key="visits-today",
            surface=Surface.HOME,
            template="visits/inc/home_today.html",
            context=today_context,
            roles=frozenset({Role.ACCOUNT_MANAGER}),
            order=10,
        ),
        Panel(
            key="visit-coverage",
            surface=Surface.HOME,
            template="visits/inc/home_coverage.html",
            context=coverage_context,
            roles=frozenset({Role.SUPERVISOR}),
            order=30,
        ),
    )
