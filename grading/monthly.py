"""Grading as a monthly result of the engine (`crm.monthly`): its declaration, registered when
the app is ready, and served by `crm.monthly_views.MonthlyPages` (grading/urls.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy, ngettext

from crm import monthly
from crm.monthly import (
    OTHER_SCHEME,
    MonthlyRules,
    MonthlyTemplates,
    MonthlyTexts,
    Tab,
    Transitions,
)
from grading import services
from grading.choices import SchemeKind
from grading.forms import SchemeCreateForm, SchemeForm
from grading.models import GradeResult, GradingRun, GradingScheme
from grading.tasks import grading_run_task
from grading.views.overview import LIST_ONLY_FILTERS, overview_context, overview_filters
from grading.views.schemes import scheme_display, scheme_list_context


def _scheme_form(scheme: GradingScheme, data: Any) -> SchemeForm:
    initial = SchemeForm.initial_for(
        name=scheme.label, note=scheme.note_text, parameters=scheme.parameters
    )
    return SchemeForm(data=data, initial=initial, kind=scheme.kind)


def _run_summary(outcome: services.RecomputeOutcome, run: GradingRun) -> dict[str, Any]:
    """Customers per grade; a split run's parts all done."""
    counts = {str(k): v for k, v in outcome.distribution.items()}
    return {"counts": counts, "parts_done": run.parts_total}


def _scheme_meta(scheme: GradingScheme) -> list[Any]:
    n = scheme.grade_count
    return [
        SchemeKind(scheme.kind).label,
        ngettext("%(n)s grade", "%(n)s grades", n) % {"n": n},
    ]


def _kind_label(scheme: GradingScheme) -> Any:
    return scheme.get_kind_display()


def _run_decorate(run: GradingRun) -> None:
    """Counts per grade in grade order, and the share of the parts done."""
    run.grade_counts = sorted((int(grade), n) for grade, n in (run.counts or {}).items())
    total = max(run.parts_total, 1)
    run.progress = round(100 * min(run.parts_done, total) / total)


def _grades(summary: dict[str, Any]) -> list[tuple[int, str]]:
    """Every grade from 1 to the lowest seen in either month (a contiguous axis)."""
    return [(g, str(g)) for g in range(1, max(summary["grades"], default=0) + 1)]


def _cell_filters(before: int | str | None, after: int) -> dict[str, Any]:
    """The overview list's filters of a transition cell: its grade now, and its grade the month
    before (same scheme), or no grade then, or a grade of another scheme; the other list-only
    filters cleared."""
    filters: dict[str, Any] = dict.fromkeys(LIST_ONLY_FILTERS)
    filters["grade"] = after
    if before is None:
        filters["movement"] = "new"
    elif before == OTHER_SCHEME:
        filters["movement"] = "not_comparable"
    else:
        filters["previous_grade"] = before
    return filters


def _movement(before: int | None, after: int) -> str:
    if before is None:
        return "new"
    if after < before:  # grade 1 is the highest
        return "up"
    return "down" if after > before else "same"


RULES = monthly.register(
    MonthlyRules(
        namespace="grading",
        label=gettext_lazy("Grading"),
        icon="bar-chart-steps",
        testid="grade",
        scheme_model=GradingScheme,
        run_model=GradingRun,
        result_model=GradeResult,
        services=services,
        run_task=grading_run_task,
        compute=services.grading_compute,
        stored=services.grading_results_stored,
        write=services.grading_results_write,
        run_summary=_run_summary,
        after_write=services.grading_after_write,
        chain_prepare=services.grading_chain_prepare,
        run_refusal=services.grading_run_refusal,
        validate_parameters=services.validate_parameters,
        scheme_create_form=SchemeCreateForm,
        scheme_form=_scheme_form,
        scheme_display=scheme_display,
        scheme_meta=_scheme_meta,
        scheme_list_context=scheme_list_context,
        scheme_columns=(
            (gettext_lazy("Kind"), "d-none d-md-table-cell small", _kind_label),
            (gettext_lazy("Grades"), "text-end", lambda scheme: scheme.grade_count),
        ),
        no_active_level="warning",
        run_decorate=_run_decorate,
        run_columns=(
            (gettext_lazy("Customers per grade"), ""),
            (gettext_lazy("Parts"), "text-end"),
        ),
        overview_filters=overview_filters,
        overview_context=overview_context,
        tabs=(Tab("overrides", "grading:overrides", "pencil-square", gettext_lazy("Overrides")),),
        transitions=Transitions(
            categories=_grades,
            movement=_movement,
            title=gettext_lazy("Grade changes"),
            note=gettext_lazy(
                "Rows: grade in %(before)s; columns: grade in %(after)s. Grade 1 is the "
                "highest, so cells left of the highlighted diagonal are upgrades (green) and "
                "cells right of it downgrades (red)."
            ),
            none_label=gettext_lazy("none"),
            testid="transition-matrix",
            axis_class="grade-col",
            cell_filters=_cell_filters,
            cell_anchor="results",
            other_label=gettext_lazy("another scheme"),
            other_note=gettext_lazy(
                "Grades given by another scheme version are not compared: they are on another "
                "scale."
            ),
        ),
        texts=MonthlyTexts(
            schemes_title=gettext_lazy("Grading schemes"),
            scheme_title=gettext_lazy("Grading scheme v%(v)s"),
            new_draft_help=gettext_lazy(
                "A draft starts from the default rules of its kind; change them, preview the "
                "result, then activate it."
            ),
            activate_confirm=gettext_lazy(
                "Activating retires version %(v)s; months already graded keep their results "
                "until recomputed."
            ),
            retired=gettext_lazy(
                "Version %(v)d is active; version %(old)d is retired. Months already graded "
                "keep their results until they are recomputed."
            ),
            no_active_scheme=gettext_lazy(
                "No scheme is active: runs cannot start until an administrator activates one."
            ),
            runs_title=gettext_lazy("Grading runs"),
            run_month_label=gettext_lazy("Grade month"),
            run_button=gettext_lazy("Start a run"),
            run_confirm=gettext_lazy(
                "Grade this month again? Its stored grades are replaced when the run finishes "
                "(approved overrides stay in force)."
            ),
            run_default_scheme=gettext_lazy(
                "No scheme has been activated yet: the first run uses the default one (8 "
                "grades by monthly average cartons)."
            ),
            no_runs=gettext_lazy("No run yet."),
            choose_month=gettext_lazy("Choose a month to grade."),
            run_queued=gettext_lazy("The run of %(m)s is queued; its progress shows below."),
            run_finished=gettext_lazy(
                "The run of %(m)s finished: %(n)s customers graded in %(d)s."
            ),
            overview_title=gettext_lazy("Grades"),
            no_results=gettext_lazy("No month has been graded yet."),
            no_results_howto=gettext_lazy(
                "Start a run to grade the customers from their monthly sales."
            ),
            no_results_button=gettext_lazy("Start a run"),
            no_results_later=gettext_lazy("Grades appear here after the monthly run."),
            unknown_month=gettext_lazy("There are no grades for “%(m)s”."),
            choose_known_month=gettext_lazy("Choose one of the graded months above."),
        ),
        templates=MonthlyTemplates(
            active_scheme="grading/inc/scheme_active_rules.html",
            scheme_editor="grading/inc/scheme_editor.html",
            scheme_parameters="grading/inc/scheme_parameters.html",
            scheme_view_extra=("grading/inc/scheme_preview_form.html",),
            scheme_list_side=("grading/inc/scheme_peak_months.html",),
            scheme_scripts=("vendor/chartjs/chart.umd.min.js", "js/grading_scheme.js"),
            run_cells="grading/inc/run_cells.html",
            overview_header="grading/inc/overview_header.html",
            overview_filters="grading/inc/overview_filters.html",
            overview_panels=(
                "grading/inc/overview_publication.html",
                "grading/inc/overview_cards.html",
                "grading/inc/overview_charts.html",
                "monthly/inc/overview_transitions.html",
                "grading/inc/overview_results.html",
            ),
            overview_scripts=("vendor/chartjs/chart.umd.min.js", "js/grading_charts.js"),
        ),
    )
)
