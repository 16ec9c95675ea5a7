"""The pages of every monthly result (`crm.monthly.MonthlyRules`): one set of views and
templates (`templates/monthly/`) serves grading, valuation and any later declaration.

- schemes (administrators): the versions with the active one on top and a new draft; one
  version's rules, a draft's edit form (the services decide what is valid, the refusals go
  beside the fields); activate / copy / delete a draft.
- runs (administrators): start a run of a month, follow the runs (a live run's row polls its
  status every 2 s with htmx until it has finished).
- overview (everyone with a people role, within their scope): a month's results with the
  month-over-month transition matrix; the panels are the app's includes.

URL names and paths are the ones the apps have always had, under the app's namespace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import jobs, monthly_runs, versioning
from crm.choices import AuditSource, RunStatus, RunTrigger, SchemeStatus
from crm.dates import parse_month
from crm.exceptions import DomainError
from crm.forms import form_domain_error
from crm.models import JobRun, VersionedScheme
from crm.monthly import MonthlyRules, transition_matrix
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import administrators_only, people_only

PAGE_SIZE = 25


def duration_text(seconds: float | None) -> str:
    """ "12.3 s" or "4 min 05 s"; empty when the run has not finished."""
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(s).1f s") % {"s": seconds}
    minutes, rest = divmod(int(round(seconds)), 60)
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}


def _link_cells(request: HttpRequest, month: dt.date, transitions, matrix: dict[str, Any]) -> None:
    """Gives each counted cell of the transition `matrix` the query of the list behind it:
    the page's filters (its month, area, account manager) with the cell's own
    (`Transitions.cell_filters`), so the list shows exactly the customers the cell counts."""
    if transitions.cell_filters is None:
        return
    for row in matrix["rows"]:
        for cell in row["cells"]:
            if not cell["n"]:
                continue
            query = request.GET.copy()
            query.pop("page", None)
            query["month"] = f"{month:%Y-%m}"
            for key, value in transitions.cell_filters(row["value"], cell["value"]).items():
                if value is None:
                    query.pop(key, None)
                else:
                    query[key] = str(value)
            cell["query"] = query.urlencode()


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


@dataclass(frozen=True)
class MonthlyPages:
    """The views of one declaration; `urlpatterns()` mounts them in the app's urls.py."""

    rules: MonthlyRules

    def _context(self, tab: str, **values: Any) -> dict[str, Any]:
        return {"rules": self.rules, "tab": tab, **values}

    # --- scheme list ----------------------------------------------------------------------

    def render_scheme_list(
        self, request: HttpRequest, *, create_form=None, **extra: Any
    ) -> HttpResponse:
        """The versions (the active one on top, the others paginated) and the new-draft form;
        `extra` is the context of the app's side includes."""
        versions = versioning.scheme_list(self.rules.scheme_model)
        active = versions.filter(status=SchemeStatus.ACTIVE).first()
        page = CappedPaginator(versions.exclude(status=SchemeStatus.ACTIVE), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        for scheme in page.object_list:
            scheme.columns = [
                (value(scheme), classes) for _label, classes, value in self.rules.scheme_columns
            ]
        ctx = self._context(
            "schemes",
            active=active,
            versions=page.object_list,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            create_form=create_form or self.rules.scheme_create_form(),
            query_string="",
            **self.rules.scheme_list_context(),
        )
        return render(request, "monthly/scheme_list.html", {**ctx, **extra})

    def scheme_list(self, request: HttpRequest) -> HttpResponse:
        """The versions and (POST) a new draft with the default rules."""
        form = self.rules.scheme_create_form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                scheme = self.rules.services.scheme_create_draft(
                    actor=_actor(request), **form.cleaned_data
                )
            except DomainError as exc:
                form_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Draft version %(v)d was created with the default rules.")
                    % {"v": scheme.version},
                )
                return redirect(f"{self.rules.namespace}:scheme", scheme.pk)
        return self.render_scheme_list(request, create_form=form)

    # --- one version ----------------------------------------------------------------------

    def read_form(self, scheme: VersionedScheme, form) -> dict[str, Any] | None:
        """The posted parameters, validated by the rules without saving; None (with the
        rules' verdict beside the fields) when they are not valid."""
        parsed = form.is_valid()
        try:
            clean = self.rules.validate_parameters(scheme, form.parameters())
        except DomainError as exc:
            form.add_service_errors(exc.errors, skip_fields_in_error=True)
            return None
        return clean if parsed else None

    def render_scheme(
        self,
        request: HttpRequest,
        scheme: VersionedScheme,
        *,
        form=None,
        template: str = "monthly/scheme_detail.html",
        **extra: Any,
    ) -> HttpResponse:
        is_draft = scheme.status == SchemeStatus.DRAFT
        ctx = self._context(
            "schemes",
            scheme=scheme,
            is_draft=is_draft,
            active=versioning.scheme_active_or_none(self.rules.scheme_model),
            title=self.rules.texts.scheme_title % {"v": scheme.version},
            meta=self.rules.scheme_meta(scheme),
            shown=self.rules.scheme_display(scheme),
            form=(form or self.rules.scheme_form(scheme, None)) if is_draft else None,
            **extra,
        )
        if is_draft and ctx["active"] is not None:
            ctx["activate_confirm"] = self.rules.texts.activate_confirm % {
                "v": ctx["active"].version
            }
        return render(request, template, ctx)

    def scheme_detail(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A version's rules; a draft's edit form (POST saves through `scheme_update_draft`)."""
        scheme = versioning.scheme_get(self.rules.scheme_model, pk=pk)
        if request.method != "POST":
            return self.render_scheme(request, scheme)
        if scheme.status != SchemeStatus.DRAFT:
            # The service refuses too (it locks the row and checks again); this says so
            # before reading a form the page does not show for active and retired versions.
            messages.error(
                request,
                _("Version %(v)d is no longer a draft: copy it to change the rules.")
                % {"v": scheme.version},
            )
            return redirect(f"{self.rules.namespace}:scheme", scheme.pk)
        form = self.rules.scheme_form(scheme, request.POST)
        if not form.is_valid():
            # Say at once what the rules think of the values that could be read.
            self.read_form(scheme, form)
            return self.render_scheme(request, scheme, form=form)
        try:
            self.rules.services.scheme_update_draft(
                scheme=scheme,
                name=form.cleaned_data["name"],
                parameters=form.parameters(),
                note=form.cleaned_data["note"],
                actor=_actor(request),
            )
        except DomainError as exc:
            form.add_service_errors(exc.errors)
            if "name" in exc.errors:
                # The name is checked before the parameters: say what the rules think of them.
                self.read_form(scheme, form)
            return self.render_scheme(request, scheme, form=form)
        messages.success(request, _("The draft was saved."))
        return redirect(f"{self.rules.namespace}:scheme", scheme.pk)

    def scheme_activate(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = versioning.scheme_get(self.rules.scheme_model, pk=pk)
        previous = versioning.scheme_active_or_none(self.rules.scheme_model)
        try:
            self.rules.services.scheme_activate(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if previous is not None:
                text = str(self.rules.texts.retired) % {
                    "v": scheme.version,
                    "old": previous.version,
                }
            else:
                text = _("Version %(v)d is active.") % {"v": scheme.version}
            messages.success(request, text)
        return redirect(f"{self.rules.namespace}:scheme", scheme.pk)

    def scheme_copy(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = versioning.scheme_get(self.rules.scheme_model, pk=pk)
        try:
            copy = self.rules.services.scheme_copy(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{self.rules.namespace}:scheme", scheme.pk)
        messages.success(
            request,
            _("Draft version %(v)d is a copy of version %(old)d.")
            % {"v": copy.version, "old": scheme.version},
        )
        return redirect(f"{self.rules.namespace}:scheme", copy.pk)

    def scheme_delete(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = versioning.scheme_get(self.rules.scheme_model, pk=pk)
        try:
            self.rules.services.scheme_delete_draft(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{self.rules.namespace}:scheme", scheme.pk)
        messages.success(request, _("Draft version %(v)d was deleted.") % {"v": scheme.version})
        return redirect(f"{self.rules.namespace}:schemes")

    # --- runs -----------------------------------------------------------------------------

    def _decorate(self, run: JobRun) -> JobRun:
        """Adds what the row shows: the duration, then the app's own figures (and its
        `progress` where it counts its parts)."""
        run.duration = duration_text(run.duration_seconds)
        run.progress = None
        self.rules.run_decorate(run)
        return run

    def run_list(self, request: HttpRequest) -> HttpResponse:
        """GET: the start form and the runs, newest first (a live run whose process died is
        marked failed first, so the page shows why it stopped). POST: queues a run."""
        if request.method == "POST":
            return self._run_start(request)
        runs = jobs.run_list(self.rules.run_model)
        jobs.runs_abandon_dead(runs.model)
        page_obj = CappedPaginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
        for run in page_obj.object_list:
            self._decorate(run)
        query = request.GET.copy()
        query.pop("page", None)
        ctx = self._context(
            "runs",
            runs=page_obj.object_list,
            page_obj=page_obj,
            paginator=page_obj.paginator,
            is_paginated=page_obj.has_other_pages(),
            query_string=query.urlencode(),
            this_month=f"{timezone.localdate():%Y-%m}",
            active_scheme=versioning.scheme_active_or_none(self.rules.scheme_model),
            **self.rules.run_list_context(),
        )
        return render(request, "monthly/run_list.html", ctx)

    def _run_start(self, request: HttpRequest) -> HttpResponse:
        """Queues a run of the posted month and says what happened."""
        url_name = f"{self.rules.namespace}:runs"
        month = parse_month(request.POST.get("month"))
        if month is None:
            messages.error(request, self.rules.texts.choose_month)
            return redirect(url_name)
        try:
            run = monthly_runs.run_start(
                self.rules, month=month, trigger=RunTrigger.PAGE, actor=_actor(request)
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            self._run_started_message(request, run)
        return redirect(url_name)

    def _run_started_message(self, request: HttpRequest, run: JobRun) -> None:
        """Says what became of a run just started: with a broker it is queued (its row shows
        its progress); without one (eager Celery, the quick start) it has run already, so the
        page says it finished, with its result, or failed, with why."""
        run.refresh_from_db()
        texts = self.rules.texts
        month = f"{run.month:%Y-%m}"
        if run.status == RunStatus.SUCCEEDED:
            messages.success(
                request,
                str(texts.run_finished)
                % {
                    "m": month,
                    "n": intcomma(run.customers),
                    "d": duration_text(run.duration_seconds),
                },
            )
        elif run.status == RunStatus.FAILED:
            messages.error(request, str(texts.run_failed) % {"m": month, "e": run.error})
        else:
            messages.success(request, str(texts.run_queued) % {"m": month})

    def run_status(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One run's row (the htmx poll of a live run), marked failed first if its process
        died."""
        runs = jobs.run_list(self.rules.run_model)
        jobs.runs_abandon_dead(runs.model, pk=pk)
        run = runs.filter(pk=pk).first()
        if run is None:
            raise Http404
        return render(
            request,
            "monthly/inc/run_status.html",
            {"rules": self.rules, "run": self._decorate(run)},
        )

    # --- overview -------------------------------------------------------------------------

    def overview(self, request: HttpRequest) -> HttpResponse:
        """A month's results for the user's scope (default: the latest month with results)."""
        months = jobs.results_months(self.rules.result_model)
        ctx = self._context(
            "overview",
            months=months,
            is_administrator=request.user.is_administrator,
            **self.rules.overview_filters(request),
        )
        if not months:
            return render(request, "monthly/overview.html", {**ctx, "no_results": True})
        requested = request.GET.get("month")
        month: dt.date | None = parse_month(requested) if requested else months[0]
        if month not in months:
            ctx.update(
                unknown_month=True,
                unknown_text=self.rules.texts.unknown_month % {"m": requested},
            )
            return render(request, "monthly/overview.html", ctx)
        ctx.update(month=month, **self.rules.overview_context(request, month))
        summary = ctx["overview"]
        ctx["transitions"] = transition_matrix(self.rules.transitions, summary)
        _link_cells(request, month, self.rules.transitions, ctx["transitions"])
        ctx["transitions_note"] = self.rules.transitions.note % {
            "before": f"{summary['previous_month']:%Y-%m}",
            "after": f"{summary['month']:%Y-%m}",
        }
        return render(request, "monthly/overview.html", ctx)

    # --- wiring ---------------------------------------------------------------------------

    def urlpatterns(self) -> list[URLPattern]:
        admin = administrators_only
        return [
            path("", people_only(self.overview), name="overview"),
            path("runs/", require_http_methods(["GET", "POST"])(admin(self.run_list)), name="runs"),
            path(
                "runs/<int:pk>/status/",
                require_GET(admin(self.run_status)),
                name="run_status",
            ),
            path("schemes/", admin(self.scheme_list), name="schemes"),
            path("schemes/<int:pk>/", admin(self.scheme_detail), name="scheme"),
            path(
                "schemes/<int:pk>/activate/",
                admin(require_POST(self.scheme_activate)),
                name="scheme_activate",
            ),
            path(
                "schemes/<int:pk>/copy/",
                admin(require_POST(self.scheme_copy)),
                name="scheme_copy",
            ),
            path(
                "schemes/<int:pk>/delete/",
                admin(require_POST(self.scheme_delete)),
                name="scheme_delete",
            ),
        ]
