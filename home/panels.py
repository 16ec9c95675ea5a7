"""The home panels made of several apps' data, or of the ground floor's (crm): the
administrators' job runs, configuration versions, users, integration clients and audit rows;
the supervisors' grade and tier movements; the account managers' customers by grade and tier;
everyone's areas and colleagues. Each app declares its own panels in its own `panels.py`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audits import selectors_forms as audit_forms
from crm import monthly, selectors
from crm.choices import Role
from crm.panels import Panel, Surface, register
from customers import panels as customers_panels
from customers.choices import TIER_COLOURS, ValueTier
from grading import selectors as grading_selectors
from orders import selectors as orders_selectors
from valuation.selectors import overview as valuation_overview
from valuation.selectors import schemes as valuation_schemes
from visits import selectors as visits_selectors

ADMIN = frozenset({Role.ADMINISTRATOR})
# How many days of orders the administrators' home reads to tell each client's last sync.
HOME_SYNC_DAYS = 7
# The value tiers' colours (Bootstrap colour names) as the CSS variables the charts read.
_TIER_COLOURS = {tier: f"--bs-{name}" for tier, name in TIER_COLOURS.items()}
# A grade of another scheme version gets its own colour in the chart (the matrix greys it).
_MOVEMENT_COLOURS = {
    kind: f"--bs-{name}"
    for kind, name in {**monthly.MOVEMENT_COLOURS, "not_comparable": "dark"}.items()
}


def link(name: str, query: dict[str, Any] | None = None) -> str | None:
    """The URL named `name` with `query`, or None when no such page exists."""
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


# --- administrators ------------------------------------------------------------------------


def _admin_links(model, page: str) -> dict[str, Any]:
    """A model's label and the URL of its app's `page` (runs, schemes, settings)."""
    return {
        "key": model._meta.label_lower,
        "label": capfirst(model._meta.verbose_name_plural),
        "url": link(f"{model._meta.app_label}:{page}"),
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
            "url": link(page),
            "testid": testid,
        }
        for label, run, page, testid in jobs
    ]


def jobs_context(request) -> dict[str, Any]:
    return {
        "job_runs": [
            {**kind, **_admin_links(kind["model"], "runs")} for kind in selectors.job_runs_latest()
        ],
        "other_jobs": _other_jobs(),
    }


def versions_context(request) -> dict[str, Any]:
    return {
        "scheme_versions": [
            {**kind, **_admin_links(kind["model"], "schemes")}
            for kind in selectors.scheme_versions()
        ],
        "settings_rows": [
            {**kind, **_admin_links(kind["model"], "settings")}
            for kind in selectors.settings_rows()
        ],
        # Audit forms are versioned per code (not a VersionedScheme): how many are active and
        # how many drafts wait, linking to their list.
        "audit_forms": {"url": link("audits:forms"), **audit_forms.form_status_counts()},
    }


def users_context(request) -> dict[str, Any]:
    return {
        "role_counts": [
            (Role(value).label, n) for value, n in selectors.user_counts_by_role().items()
        ]
    }


def clients_context(request) -> dict[str, Any]:
    sync = orders_selectors.order_sync_by_source(days=HOME_SYNC_DAYS)
    clients = list(selectors.api_client_list())
    for client in clients:
        client.order_sync = sync.get(client.username)
    return {
        "api_clients": clients,
        "sync_days": HOME_SYNC_DAYS,
        "product_sync": orders_selectors.product_sync_summary(),
    }


def recent_changes_context(request) -> dict[str, Any]:
    return {"recent_changes": selectors.audit_recent(user=request.user)}


# --- supervisors: grade and tier movements -------------------------------------------------


def movements_context(request) -> dict[str, Any]:
    """The supervisor's grade and tier movements of the latest month in their areas."""
    movements = _movements(
        grading_selectors.grade_movements(user=request.user),
        valuation_overview.tier_transitions(user=request.user),
    )
    return {
        "movements": movements,
        "home_chart": {"movements": movements["chart"]} if movements else None,
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
                    key: link("grading:overview", {"month": month, "movement": key})
                    for key, _label in kinds
                    if key != "across"
                },
                "url": link("grading:overview", {"month": month}),
            }
        )
    if tiers is not None:
        url = link("valuation:overview", {"month": f"{tiers['month']:%Y-%m}"})
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


# --- account managers: their customers by grade and tier -----------------------------------


def customer_mix_context(request) -> dict[str, Any]:
    mix = customer_mix(customers_panels.portfolio_counts(request))
    return {"mix": mix, "home_chart": {"grades": mix["grades"], "tiers": mix["tiers"]}}


def customer_mix(counts: dict[str, Any]) -> dict[str, Any]:
    """An account manager's customers by current grade and by value tier
    (`customer_portfolio_counts`): the chart series and the rows under them, each linking to
    the customer list filtered by it."""
    graded = [grade for grade in counts["by_grade"] if grade is not None]
    grade_rows = [
        {
            "label": _("Grade %(grade)s") % {"grade": grade},
            "short": str(grade),
            "n": n,
            "url": link("customers:list", {"grade": grade}),
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
            "url": link("customers:list", {"value_tier": tier}),
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


# --- everyone with areas: their areas and the people they work with ------------------------


def people_context(request) -> dict[str, Any] | None:
    user = request.user
    if user.is_administrator:
        return None
    if user.role == Role.SUPERVISOR:
        people = {
            "members": selectors.colleague_list(
                user=user, roles=[Role.ACCOUNT_MANAGER, Role.LICENSE_OFFICER]
            ),
            "title": _("My team"),
            "empty_text": _("No account manager or licence officer works in your areas yet."),
            "testid": "my-team",
        }
    else:
        people = {
            "members": selectors.supervisor_list(user=user),
            "title": _("My supervisors"),
            "empty_text": _("No supervisor is assigned to your areas yet."),
            "testid": "my-supervisors",
        }
    return {"people": people}


def register_all() -> None:
    register(
        Panel(
            key="job-runs",
            surface=Surface.HOME,
            template="crm/inc/home_jobs.html",
            context=jobs_context,
            roles=ADMIN,
            order=10,
            width="col-xl-7",
        ),
        Panel(
            key="config-versions",
            surface=Surface.HOME,
            template="crm/inc/home_versions.html",
            context=versions_context,
            roles=ADMIN,
            order=20,
            width="col-xl-5",
        ),
        Panel(
            key="user-counts",
            surface=Surface.HOME,
            template="crm/inc/home_user_counts.html",
            context=users_context,
            roles=ADMIN,
            order=30,
            width="col-lg-4",
        ),
        Panel(
            key="api-clients",
            surface=Surface.HOME,
            template="crm/inc/home_clients.html",
            context=clients_context,
            roles=ADMIN,
            order=40,
            width="col-lg-8",
        ),
        Panel(
            key="recent-changes",
            surface=Surface.HOME,
            template="crm/inc/home_recent_changes.html",
            context=recent_changes_context,
            roles=ADMIN,
            order=50,
        ),
        Panel(
            key="movements",
            surface=Surface.HOME,
            template="grading/inc/home_movements.html",
            context=movements_context,
            roles=frozenset({Role.SUPERVISOR}),
            order=40,
        ),
        Panel(
            key="customer-mix",
            surface=Surface.HOME,
            template="customers/inc/home_customer_mix.html",
            context=customer_mix_context,
            roles=frozenset({Role.ACCOUNT_MANAGER}),
            order=50,
        ),
        # Last on every screen: the user's areas and the people they work with.
        Panel(
            key="people",
            surface=Surface.HOME,
            template="crm/inc/home_people.html",
            context=people_context,
            order=900,
        ),
    )
