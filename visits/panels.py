"""The visits app's panels (crm.panels): the customer page's visit timeline, its last visit in
the summary header and "Log a visit" among the page's primary actions; today's visits on an
account manager's home, the team's coverage on a supervisor's. Registered by
VisitsConfig.ready."""

from __future__ import annotations

from typing import Any

from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register
from visits import policies, selectors

# Lines of the home page's coverage card; a bigger team shows its total and its lowest shares.
HOME_COVERAGE_LINES = 10


def visits_context(request, customer) -> dict[str, Any]:
    return {
        "visits": selectors.customer_visit_timeline(customer=customer),
        "can_log_visit": policies.can_log_visit(request.user, customer),
    }


def visits_summary(request, customer) -> dict[str, Any]:
    """The summary header's last visit and "Log a visit", when the visit card is not drawn
    (one query)."""
    return {
        "visits": {"latest": selectors.customer_latest_visit(customer=customer)},
        "can_log_visit": policies.can_log_visit(request.user, customer),
    }


def today_context(request) -> dict[str, Any]:
    """Today's visits: planned, overdue, done (counted), and the follow-ups due."""
    user = request.user
    return {"visits_today": selectors.today_summary(user=user, account_manager=user)}


def coverage_context(request) -> dict[str, Any]:
    """The visit coverage of the supervisor's team (the shares and overdue visits: the card
    shows no visit counts): a line per account manager; for a team of
    more than HOME_COVERAGE_LINES, the team's total and the lowest shares (those to look at
    first), the coverage page having them all."""
    lines = selectors.coverage_shares(user=request.user)
    if len(lines) <= HOME_COVERAGE_LINES:
        return {"lines": lines, "coverage_team": None}
    lowest = sorted(
        (line for line in lines if line.customers),
        key=lambda line: (line.share, line.manager.username),
    )[:HOME_COVERAGE_LINES]
    return {
        "lines": lowest,
        "coverage_team": {"total": selectors.coverage_total(lines), "managers": len(lines)},
    }


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
            summary=visits_summary,
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
