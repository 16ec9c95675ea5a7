"""Valuation as a monthly result of the engine (`crm.monthly`): its declaration, registered
when the app is ready, and served by `crm.monthly_views.MonthlyPages` (valuation/urls.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from crm import monthly
from crm.monthly import MonthlyRules, MonthlyTemplates, MonthlyTexts, Tab, Transitions
from crm.monthly_views import duration_text
from customers.choices import ValueTier
from valuation import services
from valuation.forms import SchemeCreateForm, SchemeForm
from valuation.models import ValuationRun, ValuationScheme, ValueResult
from valuation.selectors import schemes as selectors
from valuation.tasks import valuation_run_task
from valuation.views.overview import TIER_COLOURS, TIERS, overview_context, overview_filters
from valuation.views.schemes import scheme_display

# Tier movements: value is the top, low the bottom; secondary (high current value) and
# potential (high potential value) stand side by side, so a move between them is neither up
# nor down.
_TIER_RANK = {
    ValueTier.VALUE: 0,
    ValueTier.SECONDARY: 1,
    ValueTier.POTENTIAL: 1,
    ValueTier.LOW: 2,
}


def _scheme_form(scheme: ValuationScheme, data: Any) -> SchemeForm:
    initial = SchemeForm.initial_for(
        name=scheme.label, note=scheme.note_text, parameters=scheme.parameters
    )
    return SchemeForm(data=data, initial=initial)


def _run_decorate(run: ValuationRun) -> None:
    """Customers per tier, in tier order."""
    counts = run.counts or {}
    run.tier_counts = [
        (tier.value, tier.label, TIER_COLOURS[tier], counts.get(tier.value, 0))
        for tier in ValueTier
        if tier.value in counts
    ]


def _run_list_context() -> dict[str, Any]:
    """The latest early-warning refreshes, under the runs."""
    refreshes = selectors.warning_refresh_list()
    for refresh in refreshes:
        seconds = None
        if refresh.finished_at:
            seconds = (refresh.finished_at - refresh.started_at).total_seconds()
        refresh.duration = duration_text(seconds)
    return {"refreshes": refreshes}


def _tiers(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    labels = dict(ValueTier.choices)
    return [(tier, labels[tier]) for tier in TIERS]


def _movement(before: str | None, after: str) -> str:
    if before is None:
        return "new"
    if before == after:
        return "same"
    rank_before, rank_after = _TIER_RANK.get(before, 2), _TIER_RANK.get(after, 2)
    if rank_after < rank_before:
        return "up"
    return "down" if rank_after > rank_before else "across"


RULES = monthly.register(
    MonthlyRules(
        namespace="valuation",
        label=gettext_lazy("Valuation"),
        icon="gem",
        testid="value",
        scheme_model=ValuationScheme,
        run_model=ValuationRun,
        result_model=ValueResult,
        services=services,
        run_task=valuation_run_task,
        compute=services.valuation_compute,
        stored=services.valuation_results_stored,
        write=services.valuation_results_write,
        run_summary=lambda outcome, run: {
            "counts": outcome.counts,
            "core": outcome.core,
            "problem": outcome.problem,
        },
        after_write=services.valuation_after_write,
        chain_prepare=services.valuation_chain_prepare,
        validate_parameters=services.validate_parameters,
        scheme_create_form=SchemeCreateForm,
        scheme_form=_scheme_form,
        scheme_display=scheme_display,
        run_decorate=_run_decorate,
        run_list_context=_run_list_context,
        run_columns=(
            (gettext_lazy("Customers per tier"), ""),
            (gettext_lazy("Core / problem"), "text-end text-nowrap"),
        ),
        overview_filters=overview_filters,
        overview_context=overview_context,
        tabs=(
            Tab("warnings", "valuation:warnings", "exclamation-triangle", gettext_lazy("Warnings")),
            Tab("compliance", "valuation:compliance", "shield-check", gettext_lazy("Compliance")),
        ),
        transitions=Transitions(
            categories=_tiers,
            movement=_movement,
            title=gettext_lazy("Tier changes"),
            note=gettext_lazy(
                "Rows: tier in %(before)s; columns: tier in %(after)s. Green cells are moves "
                "up (towards value customers), red cells moves down (towards low value), blue "
                "cells moves between secondary and potential value; the highlighted diagonal "
                "kept its tier."
            ),
            none_label=gettext_lazy("not valued"),
            testid="tier-movements",
            axis_class="min-w-5",
            totals_template="valuation/inc/movement_totals.html",
        ),
        texts=MonthlyTexts(
            schemes_title=gettext_lazy("Valuation schemes"),
            scheme_title=gettext_lazy("Valuation scheme v%(v)s"),
            new_draft_help=gettext_lazy(
                "A draft starts from the default rules of the product brief; change them, then "
                "activate it. To start from the active rules, copy the active scheme instead."
            ),
            activate_confirm=gettext_lazy(
                "Activating retires version %(v)s; months already valued keep their results "
                "until recomputed."
            ),
            retired=gettext_lazy(
                "Version %(v)d is active; version %(old)d is retired. Months already valued "
                "keep their results until they are recomputed."
            ),
            no_active_scheme=gettext_lazy(
                "No scheme has been activated yet: the first valuation creates and activates "
                "the default one (the rules of the product brief)."
            ),
            runs_title=gettext_lazy("Valuation runs"),
            run_month_label=gettext_lazy("Month to value"),
            run_button=gettext_lazy("Start a valuation"),
            run_confirm=gettext_lazy(
                "Value this month again? Its stored value tiers are replaced when the run finishes."
            ),
            run_default_scheme=gettext_lazy(
                "No scheme has been activated yet: the first run uses the default one (five "
                "indicators, tiers at 50)."
            ),
            run_note=gettext_lazy(
                "Each month is also valued right after its grading run, and the early warnings "
                "are refreshed after every valuation."
            ),
            no_runs=gettext_lazy("No valuation run yet."),
            choose_month=gettext_lazy("Choose a month to value."),
            run_queued=gettext_lazy("The valuation of %(m)s is queued; its progress shows below."),
            run_finished=gettext_lazy(
                "The valuation of %(m)s finished: %(n)s customers valued in %(d)s."
            ),
            run_failed=gettext_lazy("The valuation of %(m)s failed: %(e)s"),
            overview_title=gettext_lazy("Customer value"),
            no_results=gettext_lazy("No month has been valued yet."),
            # Rendered as HTML (the words are ours and the translators'; nothing a user typed).
            no_results_howto=gettext_lazy(
                "Value the customers of a month on the runs page, or on the server with "
                "<code>manage.py recompute --month YYYY-MM</code> (it grades the month first, "
                "then values it)."
            ),
            no_results_button=gettext_lazy("Value a month"),
            no_results_later=gettext_lazy(
                "Value tiers appear here after the monthly run, which follows the grading."
            ),
            unknown_month=gettext_lazy("There are no value tiers for “%(m)s”."),
            choose_known_month=gettext_lazy("Choose one of the valued months above."),
            run_live=gettext_lazy("A valuation of %(m)s is already queued or running."),
        ),
        templates=MonthlyTemplates(
            active_scheme="valuation/inc/scheme_active_rules.html",
            scheme_editor="valuation/inc/scheme_form.html",
            scheme_parameters="valuation/inc/scheme_parameters.html",
            run_cells="valuation/inc/run_cells.html",
            run_list_extra=("valuation/inc/run_refreshes.html",),
            overview_header="valuation/inc/overview_header.html",
            overview_filters="valuation/inc/overview_filters.html",
            overview_panels=(
                "valuation/inc/missing_inputs.html",
                "valuation/inc/overview_matrix.html",
                "valuation/inc/overview_distribution.html",
                "monthly/inc/overview_transitions.html",
                "valuation/inc/overview_lists.html",
            ),
            overview_scripts=("vendor/chartjs/chart.umd.min.js", "js/valuation_overview.js"),
        ),
    )
)
