"""The home page: one per role, what that person needs first when they sign in.

It reads every app's selectors (so it lives apart from `crm.views`, which every app's views
import) and shapes their results into panels and chart series."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.generic import TemplateView

from crm import monthly, selectors
from crm.choices import Role
from crm.views import PeopleOnlyMixin
from customers import selectors as customers_selectors
from customers.choices import ValueTier
from grading import selectors as grading_selectors
from orders import selectors as orders_selectors
from services import selectors as services_selectors
from services.choices import Queue
from services.views.requests import overdue_by
from valuation.selectors import customer as valuation_selectors
from valuation.selectors import overview as valuation_overview
from valuation.selectors import schemes as valuation_schemes
from valuation.views.overview import TIER_COLOURS
from visits import selectors as visits_selectors


class HomeView(PeopleOnlyMixin, TemplateView):
    """One page per role: what that person needs first when they sign in, the most urgent
    first (account managers read it on a phone). Every panel is scoped to the user by the
    selectors it reads; the charts are drawn by static/js/home_charts.js from
    #home-chart-data, with their figures as links under each chart."""

    TEMPLATES = {
        Role.ADMINISTRATOR: "crm/home_administrator.html",
        Role.SUPERVISOR: "crm/home_supervisor.html",
        Role.ACCOUNT_MANAGER: "crm/home_account_manager.html",
    }

    def get_template_names(self) -> list[str]:
        if self._is_admin():
            return [self.TEMPLATES[Role.ADMINISTRATOR]]
        return [self.TEMPLATES.get(self.request.user.role, "crm/home_team.html")]

    def _is_admin(self) -> bool:
        return self.request.user.is_administrator

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["my_areas"] = user.areas.order_by("code")
        if self._is_admin():
            ctx.update(self._administrator(user))
        elif user.role == Role.SUPERVISOR:
            ctx.update(self._supervisor(user))
        else:
            ctx.update(self._team_member(user))
        return ctx

    def _administrator(self, user) -> dict[str, Any]:
        sync = orders_selectors.order_sync_by_source(days=HOME_SYNC_DAYS)
        clients = list(selectors.api_client_list())
        for client in clients:
            client.order_sync = sync.get(client.username)
        return {
            "role_counts": [
                (Role(value).label, n) for value, n in selectors.user_counts_by_role().items()
            ],
            "api_clients": clients,
            "sync_days": HOME_SYNC_DAYS,
            "product_sync": orders_selectors.product_sync_summary(),
            "recent_changes": selectors.audit_recent(user=user),
            "job_runs": [
                {**kind, **_admin_links(kind["model"], "runs")}
                for kind in selectors.job_runs_latest()
            ],
            "other_jobs": _other_jobs(),
            "scheme_versions": [
                {**kind, **_admin_links(kind["model"], "schemes")}
                for kind in selectors.scheme_versions()
            ],
            "settings_rows": [
                {**kind, **_admin_links(kind["model"], "settings")}
                for kind in selectors.settings_rows()
            ],
        }

    def _supervisor(self, user) -> dict[str, Any]:
        grades = grading_selectors.grade_movements(user=user)
        tiers = valuation_overview.tier_transitions(user=user)
        movements = _movements(grades, tiers)
        return {
            "people": {
                "members": selectors.colleague_list(
                    user=user, roles=[Role.ACCOUNT_MANAGER, Role.LICENSE_OFFICER]
                ),
                "title": _("My team"),
                "empty_text": _("No account manager or licence officer works in your areas yet."),
                "testid": "my-team",
            },
            # Change requests waiting for their decision, oldest first.
            "change_requests": customers_selectors.change_request_home_panel(user=user),
            # The overdue service requests of their areas, the most overdue first.
            "service_requests": _service_panel(user, Queue.OVERDUE),
            # The visit coverage of their team, a line per account manager.
            "visits_coverage": visits_selectors.coverage(user=user),
            # Grade and tier movements of the latest month in their areas.
            "movements": movements,
            # The value panels (warnings, core and problem customers) of their areas.
            "value_panels": valuation_selectors.value_home_panels(user=user),
            "home_chart": {"movements": movements["chart"]} if movements else None,
        }

    def _team_member(self, user) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "people": {
                "members": selectors.supervisor_list(user=user),
                "title": _("My supervisors"),
                "empty_text": _("No supervisor is assigned to your areas yet."),
                "testid": "my-supervisors",
            },
            # The change requests they raised that wait for a decision.
            "change_requests": customers_selectors.change_request_home_panel(user=user),
            # Their own service requests (a licence officer's licence matters), soonest due.
            "service_requests": _service_panel(user, Queue.MINE),
        }
        if user.role == Role.ACCOUNT_MANAGER:
            mix = _customer_mix(user)
            ctx.update(
                {
                    # Today's visits: planned, overdue, done, and the follow-ups due.
                    "visits_today": visits_selectors.agenda(
                        user=user, account_manager=user, upcoming=False
                    ),
                    "care_due": services_selectors.care_due_count(user=user),
                    # Their open warnings and their core and problem customers.
                    "value_panels": valuation_selectors.value_home_panels(user=user),
                    "customer_mix": mix,
                    "home_chart": {"grades": mix["grades"], "tiers": mix["tiers"]},
                }
            )
        return ctx


# How many days of orders the administrators' home reads to tell each client's last sync.
HOME_SYNC_DAYS = 7
# The value overview's colours (Bootstrap colour names) as the CSS variables the charts read.
_TIER_COLOURS = {tier: f"--bs-{name}" for tier, name in TIER_COLOURS.items()}
# A grade of another scheme version gets its own colour in the chart (the matrix greys it).
_MOVEMENT_COLOURS = {
    kind: f"--bs-{name}"
    for kind, name in {**monthly.MOVEMENT_COLOURS, "not_comparable": "dark"}.items()
}


def _link(name: str, query: dict[str, Any] | None = None) -> str | None:
    """The URL named `name` with `query`, or None when no such page exists."""
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _admin_links(model, page: str) -> dict[str, Any]:
    """A model's label and the URL of its app's `page` (runs, schemes, settings)."""
    return {
        "key": model._meta.label_lower,
        "label": capfirst(model._meta.verbose_name_plural),
        "url": _link(f"{model._meta.app_label}:{page}"),
    }


def _other_jobs() -> list[dict[str, Any]]:
    """The jobs that are not recorded as JobRuns: the latest visit planning and early-warning
    refresh, each with its page."""
    plan = next(iter(visits_selectors.plan_refresh_list(limit=1)), None)
    refresh = next(iter(valuation_schemes.warning_refresh_list(limit=1)), None)
    jobs = [
        (_("Visit planning"), plan, "visits:settings", "job-visit-planning"),
        (_("Early-warning refresh"), refresh, "valuation:runs", "job-warning-refresh"),
    ]
    return [
        {
            "label": label,
            "run": run,
            "seconds": (
                (run.finished_at - run.started_at).total_seconds()
                if run is not None and run.finished_at
                else None
            ),
            "url": _link(page),
            "testid": testid,
        }
        for label, run, page, testid in jobs
    ]


def _service_panel(user, queue: str) -> dict[str, Any]:
    """The service requests panel with each request's "overdue by" text."""
    panel = services_selectors.request_home_panel(user=user, queue=queue)
    panel["rows"] = [
        {"request": item, "overdue_by": overdue_by(item, panel["now"])}
        for item in panel["requests"]
    ]
    panel["url"] = _link("services:queue", {"queue": queue})
    return panel


def _customer_mix(user) -> dict[str, Any]:
    """An account manager's customers by current grade and by value tier: the chart series
    and the rows under them, each linking to the customer list filtered by it."""
    counts = customers_selectors.customer_grade_tier_counts(user=user)
    graded = [grade for grade in counts["by_grade"] if grade is not None]
    grade_rows = [
        {
            "label": _("Grade %(grade)s") % {"grade": grade},
            "short": str(grade),
            "n": n,
            "url": _link("customers:list", {"grade": grade}),
        }
        # Every grade from 1 to the lowest one held, so an empty grade shows as a gap.
        for grade, n in (
            (g, counts["by_grade"].get(g, 0)) for g in range(1, max(graded, default=0) + 1)
        )
    ]
    tier_labels = dict(ValueTier.choices)
    tier_rows = [
        {
            "key": tier,
            "label": str(tier_labels[tier]),
            "short": str(tier_labels[tier]),
            "n": counts["by_tier"].get(tier, 0),
            "url": _link("customers:list", {"value_tier": tier}),
            "colour": _TIER_COLOURS[tier],
        }
        for tier in ValueTier.values
    ]

    def series(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "labels": [row["short"] for row in rows],
            "counts": [row["n"] for row in rows],
            "links": [row["url"] for row in rows],
            "colours": [row.get("colour", "--bs-primary") for row in rows],
        }

    return {
        "grade_rows": grade_rows,
        "ungraded": counts["by_grade"].get(None, 0),
        "tier_rows": tier_rows,
        "unvalued": counts["by_tier"].get(None, 0),
        "total": sum(counts["by_grade"].values()),
        "grade_month": grading_selectors.latest_result_month(),
        "value_month": valuation_overview.latest_result_month(),
        "grades": series(grade_rows),
        "tiers": series(tier_rows),
    }


def _movements(grades: dict[str, Any] | None, tiers: dict[str, Any] | None) -> dict | None:
    """The supervisor's grade and tier movements: a row each (figures and links) and the
    stacked bar chart's series. None when nothing is graded or valued yet."""
    if grades is None and tiers is None:
        return None
    kinds = [
        ("up", _("Up")),
        ("down", _("Down")),
        ("across", _("Across")),
        ("same", _("Unchanged")),
        ("new", pgettext_lazy("grade or tier movement", "New")),
    ]
    if grades is not None and grades["not_comparable"]:
        # A month after a change of grading scheme: those grades are on another scale.
        kinds.append(("not_comparable", _("Other scheme")))
    rows = []
    if grades is not None:
        month = f"{grades['month']:%Y-%m}"
        rows.append(
            {
                "key": "grade",
                "label": _("Grade"),
                "month": grades["month"],
                "previous_month": grades["previous_month"],
                "customers": grades["customers"],
                "counts": {key: grades.get(key) for key, _label in kinds},
                "links": {
                    key: _link("grading:overview", {"month": month, "movement": key})
                    for key, _label in kinds
                    if key != "across"
                },
                "url": _link("grading:overview", {"month": month}),
            }
        )
    if tiers is not None:
        url = _link("valuation:overview", {"month": f"{tiers['month']:%Y-%m}"})
        moved = monthly.transition_matrix(monthly.rules_for("valuation").transitions, tiers)[
            "movements"
        ]
        rows.append(
            {
                "key": "tier",
                "label": _("Value tier"),
                "month": tiers["month"],
                "previous_month": tiers["previous_month"],
                "customers": tiers["customers"],
                # Tiers keep their names whatever the valuation scheme: always comparable.
                "counts": {key: moved.get(key, 0) for key, _label in kinds},
                "links": {key: url for key, _label in kinds},
                "url": url,
            }
        )
    for row in rows:
        row["cells"] = [
            {"key": key, "label": label, "n": row["counts"][key], "url": row["links"].get(key)}
            for key, label in kinds
        ]
    chart = {
        "labels": [str(row["label"]) for row in rows],
        "datasets": [
            {
                "key": key,
                "label": str(label),
                "colour": _MOVEMENT_COLOURS[key],
                "data": [row["counts"][key] or 0 for row in rows],
                "links": [row["links"].get(key) for row in rows],
            }
            for key, label in kinds
        ],
    }
    return {
        "rows": rows,
        "kinds": [{"key": key, "label": label} for key, label in kinds],
        "chart": chart,
    }
