"""The visit settings page (administrators): every VisitsConfig value, who changed them last,
the latest planning runs and a button that plans now."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import administrators_only, form_domain_error
from visits import selectors, services, tasks
from visits.forms_settings import WEEKDAYS, VisitsConfigForm
from visits.models import VisitsConfig

RUNS_SHOWN = 10


def _runs() -> list[dict]:
    """The latest planning runs with their duration in seconds (None while running)."""
    return [
        {
            "run": run,
            "seconds": (run.finished_at - run.started_at).total_seconds()
            if run.finished_at
            else None,
        }
        for run in selectors.plan_refresh_list(limit=RUNS_SHOWN)
    ]


@administrators_only
def visits_settings(request: HttpRequest) -> HttpResponse:
    """GET: the settings form and the planning runs. POST: saves the settings, or with
    `action=plan` starts a planning run (a task; eager without a broker)."""
    config = VisitsConfig.current()
    if request.method == "POST" and request.POST.get("action") == "plan":
        # Once the request's transaction commits (at once in autocommit), so the worker sees
        # any settings saved just before.
        clicked = timezone.now()
        transaction.on_commit(tasks.visits_plan_task.delay)
        # Without a broker (eager Celery, the quick start) the run has run by now: say so.
        done = next(iter(selectors.plan_refresh_list(limit=1)), None)
        if done is not None and done.finished_at and done.started_at >= clicked:
            if done.error:
                messages.error(request, _("Planning failed: %(e)s") % {"e": done.error})
            else:
                messages.success(
                    request,
                    _(
                        "Planning finished: %(planned)d visits planned, %(withdrawn)d "
                        "withdrawn, %(missed)d marked missed."
                    )
                    % {"planned": done.planned, "withdrawn": done.withdrawn, "missed": done.missed},
                )
        else:
            messages.success(
                request,
                _("Planning was started. Its run appears in the list below when it has finished."),
            )
        return redirect("visits:settings")
    form = VisitsConfigForm.for_config(config, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visits_config_update(
                data=form.service_data(), actor=Actor.of(request.user, AuditSource.PAGE)
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request, _("The visit settings were saved. The next planning run uses them.")
            )
            return redirect("visits:settings")
    return render(
        request,
        "visits/visitsconfig_form.html",
        {
            "config": config,
            "form": form,
            "current": [
                (form[name].label, _display(config, name)) for name in services.CONFIG_FIELDS
            ],
            "runs": _runs(),
        },
    )


def _display(config: VisitsConfig, name: str) -> str:
    """A setting's current value as the page shows it."""
    if name == "work_days":
        labels = dict(WEEKDAYS)
        return ", ".join(str(labels[day]) for day in config.work_days if day in labels)
    if name == "default_cycle":
        return str(config.get_default_cycle_display())
    return str(getattr(config, name))
