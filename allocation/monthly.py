"""Quota take-up as allocation's monthly result on the engine (`crm.monthly`): its declaration,
registered when the app is ready (`AllocationConfig.ready`) and served by
`crm.monthly_views.MonthlyPages` (allocation/urls.py).

The result: each shop's take-up of its quotas in a month (`AllocationTakeUp`), for the
supervisors — the shops per status, take-up by grade and by area, and how the statuses moved
since the month before. The scheme holds the two shares that place a shop (low below, full
from); the run reads the quotas in force during the month (`allocation.takeup`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from allocation import takeup as services
from allocation import takeup_selectors as selectors
from allocation.choices import TakeUpStatus
from allocation.models import AllocationRun, AllocationScheme, AllocationTakeUp
from allocation.policies import can_read_exceptions
from allocation.scheme_forms import LABELS, SHARES, SchemeCreateForm, SchemeForm
from allocation.tasks import allocation_run_task
from crm import monthly
from crm.forms import plain_number
from crm.monthly import MonthlyRules, MonthlyTemplates, MonthlyTexts, Tab, Transitions

# A hue per status (Bootstrap colour names): the cards, the run rows and the tables' legend.
STATUS_COLOURS = {
    TakeUpStatus.NONE: "secondary",
    TakeUpStatus.LOW: "warning",
    TakeUpStatus.PARTIAL: "info",
    TakeUpStatus.FULL: "success",
    TakeUpStatus.OVER: "danger",
}

# Movements: none → low → partial → full is the way up (more of the quota used); "over" is
# not further up the same scale — a shop past its quota is a case for review, neither better
# nor worse than one that used it fully — so a move into or out of it is "across".
_RANK = {TakeUpStatus.NONE: 0, TakeUpStatus.LOW: 1, TakeUpStatus.PARTIAL: 2, TakeUpStatus.FULL: 3}


def _movement(before: str | None, after: str) -> str:
    if before is None:
        return "new"
    if before == after:
        return "same"
    if TakeUpStatus.OVER in (before, after):
        return "across"
    return "up" if _RANK[after] > _RANK[before] else "down"


def _statuses(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(status.value, status.label) for status in TakeUpStatus]


def _scheme_form(scheme: AllocationScheme, data: Any) -> SchemeForm:
    initial = SchemeForm.initial_for(
        name=scheme.label, note=scheme.note_text, parameters=scheme.parameters
    )
    return SchemeForm(data=data, initial=initial)


def _scheme_display(scheme: AllocationScheme) -> dict[str, Any]:
    """The shares as labelled rows (`monthly/inc/scheme_parameters.html`)."""
    parameters = scheme.parameters
    return {"rows": [(LABELS[share], plain_number(parameters.get(share))) for share in SHARES]}


def _run_decorate(run: AllocationRun) -> None:
    counts = run.counts or {}
    run.status_counts = [
        (status.value, status.label, STATUS_COLOURS[status], counts.get(status.value, 0))
        for status in TakeUpStatus
        if counts.get(status.value)
    ]


def overview_context(request: HttpRequest, month: dt.date) -> dict[str, Any]:
    """The month's take-up in the user's scope: shops per status (cards), take-up by grade and
    by area (tables), and the statuses against the month before (the engine's matrix)."""
    summary = selectors.takeup_transitions(user=request.user, month=month)
    total = summary["customers"]
    cards = [
        {
            "status": status.value,
            "label": status.label,
            "colour": STATUS_COLOURS[status],
            "n": summary["by_status"][status.value],
            "share": round(100 * summary["by_status"][status.value] / total, 1) if total else 0,
        }
        for status in TakeUpStatus
    ]
    by_grade = selectors.month_takeup_by(user=request.user, month=month, by="grade")
    return {
        "overview": summary,
        "takeup_cards": cards,
        "by_grade": by_grade,
        "by_area": selectors.month_takeup_by(user=request.user, month=month, by="area"),
        "chart": _chart_data(by_grade) if by_grade else None,
    }


def _chart_data(by_grade: list[dict[str, Any]]) -> dict[str, Any]:
    """The stacked bars of cartons by grade the chart script reads (json_script): used,
    unused and ordered over the quota."""
    series = (
        ("used", gettext("Used"), "success"),
        ("unused", gettext("Unused"), "secondary"),
        ("over", gettext("Over"), "danger"),
    )
    return {
        "labels": [row["label"] for row in by_grade],
        "series": [
            {"key": key, "label": label, "colour": colour, "values": [r[key] for r in by_grade]}
            for key, label, colour in series
        ],
    }


RULES = monthly.register(
    MonthlyRules(
        namespace="allocation",
        label=gettext_lazy("Quota take-up"),
        icon="box-seam",
        testid="takeup",
        scheme_model=AllocationScheme,
        run_model=AllocationRun,
        result_model=AllocationTakeUp,
        services=services,
        run_task=allocation_run_task,
        compute=services.allocation_compute,
        stored=services.allocation_results_stored,
        write=services.allocation_results_write,
        run_summary=lambda outcome, run: {"counts": outcome.counts},
        validate_parameters=services.validate_parameters,
        scheme_create_form=SchemeCreateForm,
        scheme_form=_scheme_form,
        scheme_display=_scheme_display,
        run_decorate=_run_decorate,
        run_columns=((gettext_lazy("Shops per take-up"), ""),),
        overview_context=overview_context,
        tabs=(
            Tab("plans", "allocation:plans", "card-list", gettext_lazy("Plans")),
            Tab(
                "exceptions",
                "allocation:exceptions",
                "exclamation-octagon",
                gettext_lazy("Exceptions"),
                visible=can_read_exceptions,
            ),
        ),
        transitions=Transitions(
            categories=_statuses,
            movement=_movement,
            title=gettext_lazy("Take-up changes"),
            note=gettext_lazy(
                "Rows: take-up in %(before)s; columns: take-up in %(after)s. Green cells are "
                "moves up (more of the quota used: nothing, low, partial, full), red cells "
                "moves down, blue cells moves into or out of “over the quota”; the highlighted "
                "diagonal kept its take-up. Each month is placed by the scheme of its run."
            ),
            none_label=gettext_lazy("no quota"),
            testid="takeup-movements",
            axis_class="min-w-5",
        ),
        texts=MonthlyTexts(
            schemes_title=gettext_lazy("Take-up schemes"),
            scheme_title=gettext_lazy("Take-up scheme v%(v)s"),
            new_draft_help=gettext_lazy(
                "A draft starts from the default shares (low below 50, full from 95 per cent "
                "of the quota used); change them, then activate it. To start from the active "
                "shares, copy the active scheme instead."
            ),
            activate_confirm=gettext_lazy(
                "Activating retires version %(v)s; months already computed keep their take-up "
                "until recomputed."
            ),
            retired=gettext_lazy(
                "Version %(v)d is active; version %(old)d is retired. Months already computed "
                "keep their take-up until they are recomputed."
            ),
            no_active_scheme=gettext_lazy(
                "No scheme has been activated yet: the first take-up run creates and activates "
                "the default one (low below 50, full from 95 per cent of the quota used)."
            ),
            runs_title=gettext_lazy("Take-up runs"),
            run_month_label=gettext_lazy("Month to compute"),
            run_button=gettext_lazy("Compute the take-up"),
            run_confirm=gettext_lazy(
                "Compute this month's take-up again? Its stored take-up is replaced when the run "
                "finishes."
            ),
            run_default_scheme=gettext_lazy(
                "No scheme has been activated yet: the first run uses the default one (low below "
                "50, full from 95 per cent of the quota used)."
            ),
            run_note=gettext_lazy(
                "A run reads the quotas of the plans published or closed whose period overlaps "
                "the month, with what each shop has ordered of them."
            ),
            no_runs=gettext_lazy("No take-up run yet."),
            choose_month=gettext_lazy("Choose a month to compute."),
            run_queued=gettext_lazy("The take-up of %(m)s is queued; its progress shows below."),
            run_finished=gettext_lazy(
                "The take-up of %(m)s finished: %(n)s shops with a quota in %(d)s."
            ),
            run_failed=gettext_lazy("The take-up of %(m)s failed: %(e)s"),
            overview_title=gettext_lazy("Quota take-up"),
            no_results=gettext_lazy("No month's take-up has been computed yet."),
            # Rendered as HTML (the words are ours and the translators'; nothing a user typed).
            no_results_howto=gettext_lazy(
                "Compute a month's take-up on the runs page once plans are published."
            ),
            no_results_button=gettext_lazy("Compute a month"),
            no_results_later=gettext_lazy(
                "Take-up appears here once an administrator has computed a month."
            ),
            unknown_month=gettext_lazy("There is no take-up for “%(m)s”."),
            choose_known_month=gettext_lazy("Choose one of the computed months above."),
            run_live=gettext_lazy("A take-up run of %(m)s is already queued or running."),
        ),
        templates=MonthlyTemplates(
            run_cells="allocation/inc/takeup_run_cells.html",
            overview_panels=(
                "allocation/inc/takeup_cards.html",
                "allocation/inc/takeup_tables.html",
                "monthly/inc/overview_transitions.html",
            ),
            overview_scripts=("vendor/chartjs/chart.umd.min.js", "js/allocation_takeup.js"),
        ),
    )
)
