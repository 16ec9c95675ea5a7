"""The monthly engine: a monthly result (grades, value tiers, and the next one) is a declared
rule set, and one set of pages serves every declaration.

A `MonthlyRules` names what a monthly result is made of — a versioned scheme model
(`crm.models.VersionedScheme`), a run model (`crm.models.JobRun`), a result model (one row per
customer and month), the scheme's forms and readable display, its run (the Celery task, the
pure `compute` of a month and the `write` of its outcome, what follows a run) and how its
result field moves from month to month — and the few pieces of its pages whose content is its
own (small includes and context hooks). `crm.monthly_runs` runs
every declaration's runs: create, start, execute in a worker, recompute in process.
`crm.monthly_views.MonthlyPages` turns a declaration into the scheme list / detail / activate
/ copy / delete pages, the runs page with its live row, and the overview with its transition
matrix, under the app's URL namespace and with the URL names the apps have always had. The
pages' templates are `templates/monthly/` — one per page kind.

**Adding a third monthly result** (say, supply allocations) is its models (a
`VersionedScheme`, a `JobRun`, a result with one row per customer and month), its pure
`computations.py`, its services — the scheme services are `crm.versioning`'s with its
`validate_parameters`; `allocation_compute(month=, scheme=, context=)` reads a month's inputs
and applies the pure rules, saving nothing (an outcome with a `seconds` dict);
`allocation_results_write(outcome=, run=, stored=)` writes the results inside the run's
transaction — a task that hands a run id to
`crm.monthly_runs.run_execute`, and one declaration, registered when its app is ready. The
engine creates, starts, claims, executes, records and recomputes the runs. Every template
piece has a plain default (an edit form of the form's fields, the parameters as rows, a month
picker, the transition matrix), so the declaration names only what it has of its own::

    # allocation/monthly.py (imported by AllocationConfig.ready)
    RULES = monthly.register(
        MonthlyRules(
            namespace="allocation",
            label=gettext_lazy("Allocation"),
            icon="box-seam",
            testid="allocation",
            scheme_model=AllocationScheme,
            run_model=AllocationRun,
            result_model=AllocationResult,
            services=services,  # scheme_active / scheme_create_draft / _update_draft / …
            run_task=tasks.allocation_run_task,  # run_id → monthly_runs.run_execute(RULES, …)
            compute=services.allocation_compute,
            write=services.allocation_results_write,
            run_summary=lambda outcome, run: {"counts": outcome.counts},  # optional
            after_write=services.allocation_after_write,  # optional: what follows a run
            validate_parameters=services.validate_parameters,
            scheme_create_form=SchemeCreateForm,
            scheme_form=lambda scheme, data: SchemeForm(data=data, initial=…),
            overview_context=lambda request, month: {"overview": selectors.summary(…)},
            transitions=Transitions(categories=…, movement=…, title=…, note=…, …),
            texts=MonthlyTexts(schemes_title=gettext_lazy("Allocation schemes"), …),
        )
    )

    # allocation/urls.py
    app_name = "allocation"
    urlpatterns = MonthlyPages(RULES).urlpatterns()

`tests/crm/test_monthly_engine.py` declares such a rule set over existing tables, gets its
scheme, run and overview pages served and its runs executed by the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from crm.views import heat_shade

if TYPE_CHECKING:
    from django import forms
    from django.db import models
    from django.http import HttpRequest

    from crm.models import JobRun, VersionedScheme

# The hue of a movement between two months (Bootstrap colour names; a cell's shade says how
# many). "across" is a move between two results of the same rank (valuation's secondary and
# potential tiers).
MOVEMENT_COLOURS = {
    "up": "success",
    "down": "danger",
    "same": "primary",
    "across": "info",
    "new": "secondary",
    "not_comparable": "secondary",
}

# The "before" of a transition whose result the month before was given by another scheme
# version: on another scale, so neither up nor down (its own row of the matrix).
OTHER_SCHEME = "other"


@dataclass(frozen=True)
class Tab:
    """One tab of an app's tab bar (`monthly/inc/tabs.html`), shown when its URL exists."""

    key: str
    url_name: str
    icon: str
    label: Any
    administrators_only: bool = False
    # Who else may open it: (user) → bool; None: everyone the page is for.
    visible: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class Transitions:
    """How a result moves between months, for the transition matrix of the overview.

    `categories(summary)` gives the ordered (value, label) axis of a month's summary;
    `movement(before, after)` names a move: "up", "down", "across", "same" or "new" (no
    result the month before); a result of another scheme version the month before
    (OTHER_SCHEME) is "not_comparable", shown in a row of its own labelled `other_label`,
    explained by `other_note`. `note` reads %(before)s and %(after)s (the two months)."""

    categories: Callable[[Mapping[str, Any]], Sequence[tuple[Any, Any]]]
    movement: Callable[[Any, Any], str]
    title: Any
    note: Any
    none_label: Any
    testid: str
    axis_class: str = ""
    other_label: Any = ""
    other_note: Any = ""
    # An include listing the totals per movement above the matrix (None: the page shows
    # them elsewhere, e.g. grading's cards).
    totals_template: str | None = None
    # The list behind a cell: `cell_filters(before, after)` gives the overview's query changes
    # (None removes a parameter) that list the cell's customers, shown at `cell_anchor`; None:
    # the cells are plain figures.
    cell_filters: Callable[[Any, Any], Mapping[str, Any]] | None = None
    cell_anchor: str = ""


@dataclass(frozen=True)
class MonthlyTexts:
    """The words of the shared pages that name the result (lazy, so each request's language).
    Strings with %(…)s are formatted by the views."""

    schemes_title: Any
    scheme_title: Any  # %(v)s: the version
    new_draft_help: Any
    activate_confirm: Any  # %(v)s: the active version it retires
    retired: Any  # %(v)d the new active version, %(old)d the retired one
    no_active_scheme: Any
    runs_title: Any
    run_month_label: Any
    run_button: Any
    run_confirm: Any
    run_default_scheme: Any
    no_runs: Any
    choose_month: Any
    run_queued: Any  # %(m)s: the month
    overview_title: Any
    no_results: Any
    # Under it: for administrators, how to compute a month (may hold <code>) and the runs
    # page's button; for the others, when results appear.
    no_results_howto: Any
    no_results_button: Any
    no_results_later: Any
    unknown_month: Any  # %(m)s: the month asked for
    choose_known_month: Any
    run_note: Any = ""
    # Refusing a second live run of a month (%(m)s).
    run_live: Any = gettext_lazy("A run of %(m)s is already queued or running.")
    # A run that ran at once (no broker: eager Celery, the quick start): what it did, or why
    # it failed. %(m)s: the month, %(n)s: customers, %(d)s: how long it took, %(e)s: the error.
    run_finished: Any = gettext_lazy("The run of %(m)s finished: %(n)s customers in %(d)s.")
    run_failed: Any = gettext_lazy("The run of %(m)s failed: %(e)s")


@dataclass(frozen=True)
class MonthlyTemplates:
    """The app's own pieces of the shared pages (template names); each has a plain default
    or is left out when empty. Each include gets the page's whole context (`rules` among it).
    """

    # A draft's edit form (`scheme`, `form`) and a version's readable rules (`shown`).
    scheme_editor: str = "monthly/inc/scheme_form.html"
    scheme_parameters: str = "monthly/inc/scheme_parameters.html"
    active_scheme: str = ""  # rows of the active scheme's card (`active`)
    run_cells: str = ""  # a run row's own cells (`run`), headed by `MonthlyRules.run_columns`
    overview_header: str = ""  # beside the overview's title (`month`)
    overview_filters: str = "monthly/inc/overview_month.html"  # (`months`, `month`, …)
    # The overview's panels, in order (`overview` and the app's context). An app adds one by
    # appending its include here, e.g. valuation's missing-inputs warning.
    overview_panels: tuple[str, ...] = ("monthly/inc/overview_transitions.html",)
    scheme_list_side: tuple[str, ...] = ()  # under the new-draft card (grading's peak months)
    scheme_view_extra: tuple[str, ...] = ()  # after a version's rules (grading's preview)
    run_list_extra: tuple[str, ...] = ()  # under the runs table (valuation's refreshes)
    scheme_scripts: tuple[str, ...] = ()  # static scripts of the scheme page
    overview_scripts: tuple[str, ...] = ()  # static scripts of the overview (when `chart`)


def _parameter_rows(scheme: VersionedScheme) -> dict[str, Any]:
    return {"rows": sorted(scheme.parameters.items())}


@dataclass(frozen=True)
class MonthlyRules:
    """One monthly result, declared. See the module docstring for how the pages use it."""

    namespace: str  # the app's URL namespace, also the registry key
    label: Any
    icon: str  # Bootstrap icon of the result (the overview's tab and empty state)
    testid: str  # stem of the overview's test ids ("grade" → grade-month, no-grades)
    scheme_model: type[VersionedScheme]
    run_model: type[JobRun]
    result_model: type[models.Model]
    # The app's services module: scheme_active(), scheme_create_draft(actor=, **create form
    # data), scheme_update_draft, scheme_copy, scheme_activate, scheme_delete_draft.
    services: Any
    # The run (`crm.monthly_runs` runs it): the Celery task that executes a queued run (run id
    # in; `run_start` enqueues it); the pure rules of a month, nothing saved — (month=,
    # scheme=, context= a `crm.chain.ChainContext` or None) → an outcome with `customers` and
    # `seconds` (the dry run and a run's first half); and its write, inside the run's
    # transaction — (outcome=, run=, stored=).
    run_task: Any
    compute: Callable[..., Any]
    write: Callable[..., None]
    # The rules' verdict on parameters for a scheme (raises DomainError with the fields).
    validate_parameters: Callable[[VersionedScheme, dict[str, Any]], dict[str, Any]]
    scheme_create_form: type[forms.Form]
    # The edit form of a draft: (scheme, data or None) → a form with `parameters()` and
    # `add_service_errors(errors, skip_fields_in_error=)` (crm.forms.InvalidFieldsMixin).
    scheme_form: Callable[[VersionedScheme, Any], forms.Form]
    transitions: Transitions
    texts: MonthlyTexts
    # The overview's context for a month, (request, month) → dict, which gives at least
    # `overview` (the month's summary with "month", "previous_month", "customers" and
    # "transitions").
    overview_context: Callable[[HttpRequest, Any], dict[str, Any]]
    templates: MonthlyTemplates = MonthlyTemplates()
    # What the write compares with, read just before its transaction (where the fast read
    # is possible): (outcome=) → `stored` of `write`.
    stored: Callable[..., Any] = lambda *, outcome: None
    # What a succeeded run records of its outcome besides its customers: (outcome, run) →
    # the run model's own fields ({"counts": …}).
    run_summary: Callable[[Any, Any], dict[str, Any]] = lambda outcome, run: {}
    # What follows a committed run (outcome=, run=, context=): the rest of the monthly chain,
    # refreshes that read the new results. Not after a dry run.
    after_write: Callable[..., None] | None = None
    # Declares what a run of the month reads (context=, a `crm.chain.ChainContext`), so that
    # a worker's run begins its reads at once, each in a thread (`crm.chain`), and hands them
    # to `after_write` too; without it a worker's run reads one thing after the other.
    chain_prepare: Callable[..., None] | None = None
    # Why a run of a month must not be made (month → a message, None when it may): e.g. the
    # month's results are published and locked. Checked as a run is created, before anything
    # is computed; the dry run (nothing saved) is not refused.
    run_refusal: Callable[[dt.date], str | None] | None = None
    # Every parameter of a scheme in the shapes its readable page shows (by default its
    # parameters as rows, for `monthly/inc/scheme_parameters.html`).
    scheme_display: Callable[[VersionedScheme], dict[str, Any]] = _parameter_rows
    # The overview's filters, shown whatever the month ({"filter": …, …}).
    overview_filters: Callable[[HttpRequest], dict[str, Any]] = lambda request: {}
    # A run's row: what its own cells read (set on the run), the runs page's extra context.
    run_decorate: Callable[[JobRun], None] = lambda run: None
    run_list_context: Callable[[], dict[str, Any]] = dict
    # Headers of `templates.run_cells`: (label, classes).
    run_columns: tuple[tuple[Any, str], ...] = ()
    # The context of the scheme list's side includes (`templates.scheme_list_side`).
    scheme_list_context: Callable[[], dict[str, Any]] = dict
    # How the schemes page says no version is active: "info", or "warning" where runs
    # cannot start without one.
    no_active_level: str = "info"
    # Tabs between the overview and the administrators' runs and schemes.
    tabs: tuple[Tab, ...] = ()
    # A line of the scheme page's meta (e.g. the kind and the number of grades).
    scheme_meta: Callable[[VersionedScheme], list[Any]] = lambda scheme: []
    # The scheme list's own columns after the name: (label, classes, scheme → value).
    scheme_columns: tuple[tuple[Any, str, Callable[[VersionedScheme], Any]], ...] = ()

    def all_tabs(self) -> list[Tab]:
        return [
            Tab("overview", f"{self.namespace}:overview", self.icon, gettext_lazy("Overview")),
            *self.tabs,
            Tab(
                "runs",
                f"{self.namespace}:runs",
                "play-circle",
                gettext_lazy("Runs"),
                administrators_only=True,
            ),
            Tab(
                "schemes",
                f"{self.namespace}:schemes",
                "sliders",
                gettext_lazy("Schemes"),
                administrators_only=True,
            ),
        ]


_REGISTRY: dict[str, MonthlyRules] = {}


def register(rules: MonthlyRules) -> MonthlyRules:
    """Declares `rules` (once per namespace; registering it again replaces it)."""
    _REGISTRY[rules.namespace] = rules
    return rules


def unregister(namespace: str) -> None:
    _REGISTRY.pop(namespace, None)


def rules_for(namespace: str) -> MonthlyRules:
    return _REGISTRY[namespace]


def registered() -> list[MonthlyRules]:
    return list(_REGISTRY.values())


def tab_links(rules: MonthlyRules, *, user: Any) -> list[dict[str, Any]]:
    """The tabs whose URL exists (a page not wired yet renders no tab), for this user."""
    links = []
    for tab in rules.all_tabs():
        if tab.administrators_only and not user.is_administrator:
            continue
        if tab.visible is not None and not tab.visible(user):
            continue
        try:
            url = reverse(tab.url_name)
        except NoReverseMatch:
            continue
        links.append({"key": tab.key, "url": url, "icon": tab.icon, "label": tab.label})
    return links


def transition_matrix(transitions: Transitions, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The transition matrix of a month's `summary` ({(before or None, after): n} under
    "transitions"): a row per category of the month before (then "none", then "another
    scheme version"), a column per category; each cell's shade grows with its count, its hue
    says up / down / across / same / new / not comparable. With the column totals and the
    customers per movement."""
    moves: Mapping[tuple[Any, Any], int] = summary["transitions"]
    axis = list(transitions.categories(summary))
    labels = dict(axis)
    peak = max(moves.values(), default=0)
    counts = dict.fromkeys(MOVEMENT_COLOURS, 0)
    rows = []
    for before in [*labels, None, OTHER_SCHEME]:
        cells = []
        for after in labels:
            n = moves.get((before, after), 0)
            kind = (
                "not_comparable" if before == OTHER_SCHEME else transitions.movement(before, after)
            )
            counts[kind] += n
            cells.append(
                {
                    "value": after,
                    "n": n,
                    "kind": kind,
                    "colour": MOVEMENT_COLOURS[kind],
                    "shade": heat_shade(n, peak),
                    "diagonal": before == after,
                }
            )
        total = sum(cell["n"] for cell in cells)
        if before in (None, OTHER_SCHEME) and not total:
            continue  # every customer had a result of this scheme the month before
        label = transitions.other_label if before == OTHER_SCHEME else labels.get(before, "")
        rows.append({"value": before, "label": label, "cells": cells, "total": total})
    totals = [sum(n for (_b, a), n in moves.items() if a == value) for value in labels]
    return {"axis": axis, "rows": rows, "totals": totals, "movements": counts}
