"""The compliance records page: everyone with a people role reads the records of the
customers they see; licence officers and administrators add records (the page's form, or the
customer page's, which posts here) and void mistaken ones with a reason.

The services decide (and raise DomainError); the page offers the forms only to those
`valuation.policies.may_record_compliance` allows, and refuses (403) a post from anyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import (
    PeopleOnlyMixin,
    form_domain_error,
    list_query_context,
    people_only,
    safe_next,
)
from valuation import policies, services
from valuation.choices import RecordType
from valuation.filtersets import ANY_VIOLATION, ComplianceRecordFilterSet
from valuation.forms_records import ComplianceRecordForm, ComplianceVoidForm
from valuation.selectors import warnings as selectors

RECORDS_PER_PAGE = 25


def _safe_next(request: HttpRequest) -> str:
    """The `next` the form names, if it is a page of this site; else ""."""
    return safe_next(request, request.POST.get("next", ""))


class ComplianceListView(PeopleOnlyMixin, ListView):
    """The records of the user's customers, newest first, filtered by type, date range, area,
    customer and void state; POST adds a record (licence officers and administrators)."""

    template_name = "valuation/compliance_list.html"
    context_object_name = "records"
    paginate_by = RECORDS_PER_PAGE
    paginator_class = CappedPaginator
    add_form: ComplianceRecordForm | None = None

    def get_queryset(self):
        return selectors.compliance_record_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        user = self.request.user
        ctx["filter"] = ComplianceRecordFilterSet(self.request.GET)
        ctx["type_choices"] = [(ANY_VIOLATION, _("Any violation")), *RecordType.choices]
        ctx["record_types"] = RecordType.choices
        ctx["may_record"] = policies.may_record_compliance(user)
        ctx["next_url"] = self.request.get_full_path()
        if ctx["may_record"]:
            ctx["add_form"] = self.add_form or ComplianceRecordForm(
                user=user, initial={"date": timezone.localdate()}
            )
            ctx["add_next"] = _safe_next(self.request) if self.add_form else ""
        return ctx

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not policies.may_record_compliance(request.user):
            raise PermissionDenied
        form = ComplianceRecordForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = services.compliance_record_add(
                    customer=data["customer"],
                    date=data["date"],
                    record_type=data["record_type"],
                    note=data["note"],
                    actor=Actor.of(request.user, AuditSource.PAGE),
                )
            except DomainError as exc:
                form_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Recorded: %(type)s at %(customer)s on %(date)s.")
                    % {
                        "type": record.get_record_type_display(),
                        "customer": data["customer"].store_name,
                        "date": f"{record.date:%Y-%m-%d}",
                    },
                )
                return redirect(_safe_next(request) or reverse("valuation:compliance"))
        # Show the page again with the form's errors (and the list as it was asked for).
        self.add_form = form
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data())


@require_POST
@people_only
def compliance_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Voids a mistaken record with a reason (it stays on file, struck through)."""
    record = selectors.compliance_record_get(user=request.user, pk=pk)
    if not policies.may_record_compliance(request.user):
        raise PermissionDenied
    form = ComplianceVoidForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            services.compliance_record_void(
                record=record,
                reason=form.cleaned_data["reason"],
                actor=Actor.of(request.user, AuditSource.PAGE),
            )
        except DomainError as exc:
            for msgs in exc.errors.values():
                for msg in msgs:
                    messages.error(request, msg)
        else:
            messages.success(request, _("The record was voided."))
    return redirect(_safe_next(request) or reverse("valuation:compliance"))


urlpatterns = [
    path("compliance/", ComplianceListView.as_view(), name="compliance"),
    path("compliance/<int:pk>/void/", compliance_void, name="compliance_void"),
]
