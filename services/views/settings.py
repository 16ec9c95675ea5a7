"""The service settings page (administrators): every ServicesConfig value (service levels per
request type, escalation, reopening, family service, holiday greetings) and who changed them
last; the holiday calendar greetings are due for, a year at a time, where holidays are added
and deleted."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import administrators_only, form_domain_error
from services import services
from services.choices import RequestType
from services.forms_settings import HolidayForm, ServicesConfigForm
from services.models import Holiday, ServicesConfig

# The form's sections: (legend, fields).
SECTIONS = (
    ("sla", tuple(ServicesConfig.sla_field(kind) for kind in RequestType.values)),
    ("requests", ("escalate_after_hours", "reopen_days")),
    ("care", ("family_interval_days", "greeting_lead_days", "greeting_audience")),
)


def _today() -> dt.date:
    return timezone.localdate()


def _year(request: HttpRequest, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


def _settings_url(year: int | None = None) -> str:
    url = reverse("services:settings")
    return f"{url}?year={year}#holidays" if year else url


def _display(config: ServicesConfig, name: str) -> str:
    """A setting's current value as the page shows it."""
    if name == "greeting_audience":
        return str(config.get_greeting_audience_display())
    return str(getattr(config, name))


@administrators_only
def services_settings(request: HttpRequest) -> HttpResponse:
    """GET: the settings form, the current values and a year of the holiday calendar.
    POST: saves the settings, or with `action=holiday` adds a holiday."""
    config = ServicesConfig.current()
    today = _today()
    action = request.POST.get("action", "settings") if request.method == "POST" else ""
    form = ServicesConfigForm.for_config(
        config, data=request.POST if action == "settings" else None
    )
    holiday_form = HolidayForm(data=request.POST if action == "holiday" else None)
    actor = Actor.of(request.user, AuditSource.PAGE)
    if action == "settings" and form.is_valid():
        try:
            services.services_config_update(data=form.service_data(), actor=actor)
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request, _("The service settings were saved. New requests get the new levels.")
            )
            return redirect("services:settings")
    year = _year(request, today.year)
    if action == "holiday" and holiday_form.is_valid():
        data = holiday_form.cleaned_data
        year = data["date"].year  # a refused holiday: show its year
        try:
            holiday = services.holiday_save(
                date=data["date"], name_en=data["name_en"], name_zh=data["name_zh"], actor=actor
            )
        except DomainError as exc:
            form_domain_error(holiday_form, exc)
        else:
            messages.success(
                request,
                _("%(holiday)s was added to the holiday calendar.") % {"holiday": holiday},
            )
            return redirect(_settings_url(holiday.date.year))
    years = _years(today.year, year)
    fields = {name: form[name] for name in services.CONFIG_FIELDS}
    return render(
        request,
        "services/servicesconfig_form.html",
        {
            "config": config,
            "form": form,
            "sections": [(key, [fields[name] for name in names]) for key, names in SECTIONS],
            "current": [
                (form[name].label, _display(config, name)) for name in services.CONFIG_FIELDS
            ],
            "holiday_form": holiday_form,
            "holidays": Holiday.objects.filter(date__year=year).order_by("date"),
            "year": year,
            "years": years,
            "today": today,
        },
    )


def _years(this_year: int, shown: int) -> list[int]:
    """The years the calendar holds holidays for, with this year and the year shown."""
    years = {day.year for day in Holiday.objects.dates("date", "year")}
    return sorted(years | {this_year, shown})


@require_POST
@administrators_only
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Removes a holiday from the calendar (greetings already logged for it stay)."""
    holiday = get_object_or_404(Holiday, pk=pk)
    year, label = holiday.date.year, str(holiday)
    try:
        services.holiday_delete(holiday=holiday, actor=Actor.of(request.user, AuditSource.PAGE))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(holiday)s was removed from the holiday calendar.") % {"holiday": label}
        )
    return redirect(_settings_url(year))
