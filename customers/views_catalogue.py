"""The field catalogue's settings pages (administrators only): the effective catalogue, the
draft's form, the preview of what activating it changes, activation and discarding.
The writes are `customers.services_catalogue`'s."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.choices import AuditSource, SchemeStatus
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import people_only
from customers import services_catalogue as services
from customers.catalogue import CATALOGUE, Category
from customers.forms import CatalogueDraftForm
from customers.models import CatalogueVersion


def _admin_only(view):
    """Administrators only; anonymous users go to the login page."""

    @people_only
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_administrator:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


@_admin_only
def catalogue_settings(request: HttpRequest) -> HttpResponse:
    """The effective catalogue by category, the draft (if any) and the past versions."""
    rows = services.catalogue_rows()
    sections = [
        {"category": category, "rows": [r for r in rows if r["spec"].category == category]}
        for category in Category
    ]
    versions = CatalogueVersion.objects.select_related("created_by", "activated_by")
    return render(
        request,
        "customers/catalogue_settings.html",
        {
            "sections": sections,
            "active": next((v for v in versions if v.status == SchemeStatus.ACTIVE), None),
            "draft": next((v for v in versions if v.status == SchemeStatus.DRAFT), None),
            "versions": versions,
        },
    )


@_admin_only
def catalogue_draft(request: HttpRequest) -> HttpResponse:
    """The draft's form (started from the active version; saved as a draft on the first save),
    then the preview."""
    draft = services.catalogue_draft()
    current = services.version_specs(draft or services.catalogue_active())
    specs = [current[name] for name, spec in CATALOGUE.items() if services.is_overridable(spec)]
    needed = {spec.name for spec in specs if services.is_needed(spec)}
    form = CatalogueDraftForm(
        request.POST or None,
        specs=specs,
        needed=needed,
        initial={"note": draft.note if draft else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = services.catalogue_draft_start(actor=_actor(request))
            services.catalogue_draft_update(
                version=version,
                settings=form.settings(),
                note=form.cleaned_data["note"],
                actor=_actor(request),
            )
        except DomainError as exc:
            for name, msgs in exc.errors.items():
                for msg in msgs:
                    what = CATALOGUE[name].label if name in CATALOGUE else ""
                    form.add_error(None, f"{what}: {msg}" if what else msg)
        else:
            messages.success(request, _("The draft was saved. Check what it changes."))
            return redirect("customers:catalogue_preview")
    defaults = {name: services.setting_of(spec) for name, spec in CATALOGUE.items()}
    return render(
        request,
        "customers/catalogue_draft.html",
        {"form": form, "draft": draft, "defaults": defaults},
    )


@_admin_only
def catalogue_preview(request: HttpRequest) -> HttpResponse:
    """What activating the draft changes, field by field (before → after), and the confirm."""
    draft = services.catalogue_draft()
    if draft is None:
        messages.info(request, _("There is no draft to preview."))
        return redirect("customers:catalogue")
    return render(
        request,
        "customers/catalogue_preview.html",
        {"draft": draft, "diff": services.catalogue_version_diff(version=draft)},
    )


@require_POST
@_admin_only
def catalogue_activate(request: HttpRequest) -> HttpResponse:
    draft = services.catalogue_draft()
    if draft is None:
        messages.info(request, _("There is no draft to activate."))
        return redirect("customers:catalogue")
    try:
        version = services.catalogue_activate(version=draft, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("customers:catalogue_preview")
    messages.success(
        request,
        _("Catalogue version %(number)s is active.") % {"number": version.number},
    )
    return redirect("customers:catalogue")


@_admin_only
def catalogue_discard(request: HttpRequest) -> HttpResponse:
    """Asks to confirm (GET), then discards the draft (POST)."""
    draft = services.catalogue_draft()
    if draft is None:
        messages.info(request, _("There is no draft to discard."))
        return redirect("customers:catalogue")
    if request.method == "POST":
        try:
            services.catalogue_draft_discard(version=draft, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The draft was discarded."))
        return redirect("customers:catalogue")
    return render(request, "customers/catalogue_discard.html", {"draft": draft})
