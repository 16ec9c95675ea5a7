"""Customer pages: list (with exports), detail, create, in-place edit of dynamic information,
change proposals, the change-request queue. Views are thin: selectors read, services write."""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView

from crm import panels as crm_panels
from crm import uploads
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import (
    PeopleOnlyMixin,
    form_domain_error,
    is_htmx,
    list_query_context,
    page_context,
    people_only,
    redirect_back,
)
from customers import imports, io, policies, selectors, services, tasks
from customers import panels as customer_panels
from customers.catalogue import CATALOGUE, FIELDS, Category, display_value, effective
from customers.choices import ChangeRequestStatus, ImportStatus
from customers.filtersets import ORDERING, CustomerFilterSet
from customers.forms import DecisionForm, MergePickForm, catalogue_form, changed_values
from customers.models import ChangeRequest, CustomerImport

LIST_COLUMNS = [
    "customer_code",
    "store_name",
    "area",
    "account_manager",
    "business_format",
    "market_type",
    "status",
    "grade",
    "value_tier",
]
# Rows per page of an import's report (a 50,000-row file's errors were one 56 MB page).
IMPORT_REPORT_ROWS_PER_PAGE = 100


class CustomerListView(PeopleOnlyMixin, ListView):
    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    paginate_by = 50
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["filter"] = CustomerFilterSet(self.request.GET)
        ctx["columns"] = [(name, CATALOGUE[name].label, name in ORDERING) for name in LIST_COLUMNS]
        ctx["rows"] = [
            (c, [display_value(c, name) for name in LIST_COLUMNS]) for c in ctx["customers"]
        ]
        ctx["can_create"] = policies.can_create_customers(self.request.user)
        ctx["can_import"] = policies.can_import(self.request.user)
        return ctx


# A request for the whole customer page, every tab drawn: the phone's copy kept for offline use
# (static/js/offline.js asks with it). A page drawn with its other tabs left to load on demand
# says so in TABS_ON_DEMAND, so the service worker does not keep it in place of the whole one.
WHOLE_PAGE_HEADER = "X-CRM-Whole-Page"
TABS_ON_DEMAND_HEADER = "X-CRM-Tabs-On-Demand"


@people_only
def customer_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The customer page: a summary header (who, grade and tier, last visit and order, open
    warnings and requests, call / map, the primary actions) over tabs of cards. Every card
    is a panel of the registry (crm.panels) declared by the app that owns its data, so this
    view reads no other app: it gathers the panels the user sees and lays them out in tabs.

    Only the open tab (?tab=, else the first) is drawn with the page; the header reads the
    other cards' summaries (Panel.summary) and each other tab loads when it is opened
    (customer_tab). A customer page cost some 60 ms of CPU with all seven tabs drawn, most of
    it cards few visits look at."""
    customer = selectors.customer_get(user=request.user, code=code)
    if customer.customer_code != code:
        # The code of a record merged into this one (an alias): the survivor's own address.
        return _to_survivor(request, "customers:detail", customer)
    keys = _tab_keys(request.user)
    selected = request.GET.get("tab", "")
    active = selected if selected in keys else keys[0]
    whole = request.headers.get(WHOLE_PAGE_HEADER) == "1"
    drawn, ctx = crm_panels.gather(
        crm_panels.Surface.CUSTOMER,
        request,
        deferred=None if whole else (lambda panel: panel.tab != active),
        customer=customer,
    )
    if "can_change" not in ctx:  # the information card says it too, when it is drawn
        ctx["can_change"] = bool(policies.changeable_fields(request.user, customer))
    tabs = _tabs(drawn, keys, active, code)
    response = render(
        request,
        "customers/customer_detail.html",
        {
            **ctx,
            "customer": customer,
            "panels": drawn,
            "tabs": tabs,
            "contact": _contact(customer),
            "can_merge": policies.can_merge(request.user),
        },
    )
    patch_vary_headers(response, (WHOLE_PAGE_HEADER,))
    if any(tab["on_demand"] for tab in tabs):
        response[TABS_ON_DEMAND_HEADER] = "1"
    return response


@people_only
@require_GET
def customer_tab(request: HttpRequest, code: str, tab: str) -> HttpResponse:
    """One tab of the customer page, drawn alone: the htmx fragment the page loads when the
    tab is opened. Asked for as a page (no htmx), it is the customer page with that tab open."""
    customer = selectors.customer_get(user=request.user, code=code)
    if tab not in _tab_keys(request.user):
        raise Http404
    if not is_htmx(request):
        return redirect(f"{reverse('customers:detail', args=[code])}?tab={tab}")
    drawn, ctx = crm_panels.gather(
        crm_panels.Surface.CUSTOMER,
        request,
        only=lambda panel: panel.tab == tab,
        customer=customer,
    )
    return render(
        request,
        "customers/inc/customer_tab.html",
        {**ctx, "customer": customer, "panels": drawn},
    )


def _tab_keys(user) -> list[str]:
    """The keys of the customer page's tabs that hold a card `user` sees, in order."""
    held = {panel.tab for panel in crm_panels.panels_for(crm_panels.Surface.CUSTOMER, user)}
    return [tab.value for tab in customer_panels.TAB_LABELS if tab in held]


def _tabs(drawn: list[crm_panels.Drawn], keys: list[str], active: str, code: str) -> list[dict]:
    """The customer page's tabs, in order: those that hold a drawn card, and the open one
    (`active`: it says so when none of its cards has anything to show). A tab whose cards are
    deferred is drawn empty, with the address it loads from (`on_demand`). A link or a page
    without JavaScript opens a tab by its key (?tab=)."""
    tabs = []
    for key in keys:
        panels = [item for item in drawn if item.panel.tab == key]
        if not panels and key != active:
            continue
        on_demand = bool(panels) and all(item.deferred for item in panels)
        tabs.append(
            {
                "key": key,
                "label": customer_panels.TAB_LABELS[crm_panels.Tab(key)],
                "panels": panels,
                "active": key == active,
                "on_demand": reverse("customers:tab", args=[code, key]) if on_demand else "",
                # What a #fragment may name in the tab: static/js/customer_tabs.js opens a tab
                # still to load for a link to one of them.
                "anchors": " ".join(
                    anchor for item in panels for anchor in item.panel.anchors or (item.key,)
                ),
            }
        )
    return tabs


def _contact(customer) -> dict[str, str]:
    """The phone as a `tel:` URI (digits and a leading +) and the stored coordinates as a
    `geo:` URI, for the summary header's call and map links; empty when not known."""
    dynamic = getattr(customer, "dynamic", None)
    phone = getattr(dynamic, "phone", "") or ""
    lat, lng = getattr(dynamic, "latitude", None), getattr(dynamic, "longitude", None)
    return {
        "phone": phone,
        "tel": re.sub(r"(?!^\+)[^0-9]", "", phone.strip()),
        "geo": f"geo:{lat},{lng}" if lat is not None and lng is not None else "",
    }


@people_only
def customer_dynamic_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Edits the dynamic fields the user may change directly, in place (htmx swaps the form
    into the page; without JavaScript it is a page of its own)."""
    customer = selectors.customer_get(user=request.user, code=code)
    specs = customer_panels.dynamic_specs(request.user, customer)
    if not specs:
        raise PermissionDenied
    form = catalogue_form(specs, user=request.user, customer=customer, data=request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _unconfirmed_duplicates(request, changed_values(form), customer=customer)
    if request.method == "POST" and form.is_valid() and not duplicates:
        try:
            changes = services.customer_edit(
                customer=customer, user=request.user, data=changed_values(form)
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            if changes:
                messages.success(request, _("Saved %(n)d change(s).") % {"n": len(changes)})
            else:
                messages.info(request, _("Nothing was changed."))
            url = reverse("customers:detail", args=[customer.customer_code]) + "#dynamic"
            if is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    template = (
        "customers/inc/dynamic_form.html"
        if is_htmx(request)
        else "customers/customer_dynamic_edit.html"
    )
    return render(request, template, {"customer": customer, "form": form, "duplicates": duplicates})


@people_only
def customer_change(request: HttpRequest, code: str) -> HttpResponse:
    """Propose a change to any non-system field: direct fields are saved, the others become
    one change request for a supervisor."""
    customer = selectors.customer_get(user=request.user, code=code)
    specs = policies.changeable_fields(request.user, customer)
    if not specs:
        raise PermissionDenied
    # ?field=<catalogue name> narrows the form to that field (e.g. "something here is wrong"
    # from the visit form); ?reason= pre-fills the reason.
    only = next((spec for spec in specs if spec.name == request.GET.get("field")), None)
    if only is not None:
        specs = [only]
    form = catalogue_form(
        specs,
        user=request.user,
        customer=customer,
        data=request.POST or None,
        files=request.FILES or None,
        with_reason=True,
    )
    form.initial["reason"] = request.GET.get("reason", "")[:500]
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _unconfirmed_duplicates(request, changed_values(form), customer=customer)
    if request.method == "POST" and form.is_valid() and not duplicates:
        try:
            outcome = services.customer_propose(
                customer=customer,
                user=request.user,
                data=changed_values(form),
                reason=form.cleaned_data["reason"],
                attachment=form.cleaned_data.get("attachment"),
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            if outcome.applied:
                messages.success(request, _("Saved %(n)d change(s).") % {"n": len(outcome.applied)})
            if outcome.change_request:
                messages.info(
                    request,
                    _("Change request #%(id)s was sent for approval.")
                    % {"id": outcome.change_request.pk},
                )
            return redirect("customers:detail", code=customer.customer_code)
    return render(
        request,
        "customers/customer_change.html",
        {
            "customer": customer,
            "form": form,
            "groups": _by_category(form, specs),
            "only_field": only,
            "reason": form.initial["reason"],
            "duplicates": duplicates,
        },
    )


@people_only
def customer_create(request: HttpRequest) -> HttpResponse:
    if not policies.can_create_customers(request.user):
        raise PermissionDenied
    specs = [spec for spec in effective().values() if not spec.is_system]
    form = catalogue_form(specs, user=request.user, data=request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        duplicates = _unconfirmed_duplicates(request, data)
        if duplicates:
            messages.warning(request, DUPLICATES_FOUND)
        else:
            try:
                customer = services.customer_create(
                    data=data, actor=Actor.of(request.user, AuditSource.PAGE)
                )
            except DomainError as exc:
                form_domain_error(form, exc)
            else:
                messages.success(request, _("Customer %(c)s was created.") % {"c": customer})
                return redirect("customers:detail", code=customer.customer_code)
    return render(
        request,
        "customers/customer_create.html",
        {"form": form, "groups": _by_category(form, specs), "duplicates": duplicates},
    )


DUPLICATES_FOUND = gettext_lazy(
    "Customers with the same phone or address exist. Check them, then confirm."
)


def _unconfirmed_duplicates(
    request: HttpRequest, data: dict, *, customer=None
) -> list[selectors.DuplicateMatch]:
    """The customers of the whole company with the phone or address `data` writes (a new
    customer's, or an edit's when it changes them), unless the user has ticked that this is
    a different shop. Matches outside the user's scope are shown by code and area only."""
    if request.POST.get("confirm_duplicates") or not ({"phone", "address"} & data.keys()):
        return []
    return selectors.customer_duplicates(
        user=request.user,
        phone=data.get("phone") or "",
        address=data.get("address") or "",
        exclude_pk=customer.pk if customer is not None else None,
    )


def _to_survivor(request: HttpRequest, name: str, customer, **kwargs) -> HttpResponse:
    """A permanent redirect from a merged record's code to the same page of the survivor,
    with the query string kept."""
    url = reverse(name, kwargs={"code": customer.customer_code, **kwargs})
    if query := request.META.get("QUERY_STRING"):
        url = f"{url}?{query}"
    return HttpResponsePermanentRedirect(url)


def _by_category(form, specs) -> list[dict]:
    """The form's catalogue fields in the five content categories (empty ones left out)."""
    groups = [
        {
            "category": category,
            "fields": [(form[spec.name], spec) for spec in specs if spec.category == category],
        }
        for category in Category
    ]
    return [group for group in groups if group["fields"]]


# --- likely duplicates ------------------------------------------------------------------

DUPLICATES_PER_PAGE = 25
DUPLICATE_REASONS = {
    "phone": gettext_lazy("Same phone"),
    "address": gettext_lazy("Same address"),
    "name": gettext_lazy("Similar names at the same address"),
}
# The reasons the page filters by (names are compared for the pairs shown only).
DUPLICATE_FILTERS = ("phone", "address")


@people_only
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Supervisors and administrators: pairs of likely duplicates among the customers they
    see, strongest first (`?reason=` narrows them), and the pairs dismissed as two shops
    (`?show=dismissed`)."""
    if not policies.can_review_duplicates(request.user):
        raise PermissionDenied
    dismissed = request.GET.get("show") == "dismissed"
    reason = request.GET.get("reason", "")
    shared = []
    if dismissed:
        rows = selectors.duplicate_dismissals(user=request.user)
        query = {"show": "dismissed"}
    else:
        reason = reason if reason in DUPLICATE_FILTERS else ""
        rows = selectors.duplicate_pairs(user=request.user, kind=reason)
        shared = rows.shared_values()
        query = {"reason": reason} if reason else {}
    paginator = Paginator(rows, DUPLICATES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "customers/duplicate_list.html",
        {
            "page_obj": page,
            "paginator": paginator,
            "is_paginated": page.has_other_pages(),
            "query_string": urlencode(query),
            "dismissed": dismissed,
            "reason": reason,
            "reasons": DUPLICATE_REASONS,
            "filters": {kind: DUPLICATE_REASONS[kind] for kind in DUPLICATE_FILTERS},
            "shared": shared,
            "pair_count": paginator.count,
            "can_merge": policies.can_merge(request.user),
        },
    )


@people_only
@require_POST
def duplicate_dismiss(request: HttpRequest) -> HttpResponse:
    """Records that a listed pair is two shops, with the reason typed."""
    if not policies.can_review_duplicates(request.user):
        raise PermissionDenied
    codes = [request.POST.get("first", "").strip(), request.POST.get("second", "").strip()]
    if not all(codes):
        messages.error(request, _("Choose a pair of customers from the list."))
        return redirect_back(request, reverse("customers:duplicates"))
    first, second = (selectors.customer_get(user=request.user, code=code) for code in codes)
    try:
        services.duplicate_dismiss(
            first=first, second=second, user=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(a)s and %(b)s are no longer listed as duplicates.")
            % {"a": first.customer_code, "b": second.customer_code},
        )
    return redirect_back(request, reverse("customers:duplicates"))


# --- change requests --------------------------------------------------------------------


@people_only
def change_request_list(request: HttpRequest) -> HttpResponse:
    """Supervisors: the pending queue of their areas. Everyone: the requests they made."""
    user = request.user
    status = request.GET.get("status", ChangeRequestStatus.PENDING)
    if status not in ChangeRequestStatus.values:
        status = ChangeRequestStatus.PENDING
    queue = (
        selectors.change_request_queue(user=user, status=status)
        if policies.can_decide_requests(user)
        else ChangeRequest.objects.none()
    )
    return render(
        request,
        "customers/changerequest_list.html",
        {
            "queue": selectors.change_requests_with_duplicates(
                user=user, requests=[_with_labels(cr) for cr in queue[:200]]
            ),
            "mine": [_with_labels(cr) for cr in selectors.change_request_mine(user=user)[:50]],
            "can_decide": policies.can_decide_requests(user),
            "status": status,
            "statuses": ChangeRequestStatus.choices,
        },
    )


@people_only
def change_request_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A change request's attachment, to people who see the request (its customer's scope, or
    its author): images inline, anything else as a download (crm.uploads.file_response)."""
    change_request = selectors.change_request_get(user=request.user, pk=pk)
    return uploads.file_response(
        change_request.attachment, download_name=f"change-request-{change_request.pk}"
    )


def _with_labels(change_request: ChangeRequest) -> ChangeRequest:
    change_request.diff = [
        {
            "label": CATALOGUE[item["field"]].label
            if item["field"] in CATALOGUE
            else item["field"],
            "old": item["old"],
            "new": item["new"],
        }
        for item in change_request.changes
    ]
    return change_request


@require_POST
@people_only
def change_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    change_request = selectors.change_request_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    comment = form.cleaned_data.get("comment", "")
    action = request.POST.get("action")
    try:
        if action == "approve":
            services.change_request_approve(
                change_request=change_request, user=request.user, comment=comment
            )
            messages.success(request, _("Request #%(id)s approved.") % {"id": pk})
        elif action == "reject":
            services.change_request_reject(
                change_request=change_request, user=request.user, comment=comment
            )
            messages.success(request, _("Request #%(id)s rejected.") % {"id": pk})
        elif action == "withdraw":
            services.change_request_withdraw(change_request=change_request, user=request.user)
            messages.success(request, _("Request #%(id)s withdrawn.") % {"id": pk})
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request)


@require_POST
@people_only
def change_request_bulk_approve(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    if not ids:
        messages.error(request, _("Select at least one request."))
        return _back(request)
    requests = list(selectors.change_request_queue(user=request.user).filter(pk__in=ids))
    outcomes = services.change_request_bulk_approve(
        change_requests=requests, user=request.user, comment=request.POST.get("comment", "")
    )
    approved = [cr.pk for cr, error in outcomes if error is None]
    if approved:
        messages.success(
            request,
            _("Approved %(n)d request(s): %(ids)s.")
            % {"n": len(approved), "ids": ", ".join(f"#{i}" for i in approved)},
        )
    for cr, error in outcomes:
        if error:
            messages.error(request, f"#{cr.pk}: {error}")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("customers:change_requests")
    return redirect(target)


# --- exports and imports ----------------------------------------------------------------


@people_only
def customer_export(request: HttpRequest) -> HttpResponse:
    """The filtered list (same filters as the page, same scope) as CSV or XLSX, with the
    catalogue names as headers so the file can be imported back."""
    queryset = selectors.customer_list(user=request.user, filters=request.GET)
    columns = io.export_columns()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            io.write_xlsx(io.customer_rows(queryset, columns), columns),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.xlsx"'
        return response
    response = StreamingHttpResponse(
        io.write_csv(io.customer_rows(queryset, columns), columns),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Customer file (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )


@people_only
def customer_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload a file; it is checked (dry run) and the report shown before applying."""
    if not policies.can_import(request.user):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_import = imports.customer_import_upload(
                uploaded_file=form.cleaned_data["file"], user=request.user
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            # A task, so a large file never holds the request (eager without a broker).
            transaction.on_commit(
                partial(tasks.customer_import_check_task.delay, customer_import.pk)
            )
            return redirect("customers:import_detail", pk=customer_import.pk)
    recent = CustomerImport.objects.select_related("created_by")[:20]
    return render(
        request,
        "customers/customer_import.html",
        {
            "form": form,
            "recent": recent,
            "columns": [(s.name, s.label) for s in FIELDS if not s.is_system],
        },
    )


@people_only
def customer_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: the dry-run report, row by row; applying it is one more click. While a check or
    an apply runs, the page shows its progress and refreshes itself (htmx polling)."""
    if not policies.can_import(request.user):
        raise PermissionDenied
    customer_import = get_object_or_404(CustomerImport, pk=pk)
    if request.method == "POST":
        try:
            imports.customer_import_claim_apply(customer_import=customer_import, user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            transaction.on_commit(
                partial(tasks.customer_import_apply_task.delay, customer_import.pk)
            )
        return redirect("customers:import_detail", pk=pk)
    # The report lists every error and warning: paged, and filtered by outcome on request.
    report = customer_import.report
    outcome = request.GET.get("outcome", "")
    if outcome not in imports.REPORT_FILTERS:
        outcome = ""
    rows = imports.report_rows(report, outcome=outcome)
    page = CappedPaginator(rows, IMPORT_REPORT_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    counts = report.get("counts") or {}
    words = _import_outcome_words(customer_import.status == ImportStatus.APPLIED)
    filters = [
        ("", _("All listed"), len(report.get("rows") or [])),
        ("error", _("With errors"), counts.get("errors", 0)),
        ("warning", _("With warnings"), counts.get("warnings", 0)),
        ("created", words["created"], counts.get("created", 0)),
        ("updated", words["updated"], counts.get("updated", 0)),
        ("unchanged", words["unchanged"], counts.get("unchanged", 0)),
    ]
    figures = {key: counts.get(key, 0) for key in ("created", "updated", "unchanged", "errors")}
    return render(
        request,
        "customers/customer_import_detail.html",
        {
            "customer_import": customer_import,
            "rows": imports.report_rows_shown(page.object_list),
            "failure": imports.report_failure(report),
            **page_context(page),
            "query_string": list_query_context(request)["query_string"],
            "outcome": outcome,
            "filters": filters,
            "count_cards": [(key, words[key], figures[key]) for key in figures],
            "summary": _import_summary(customer_import.status, figures),
        },
    )


def _import_outcome_words(applied: bool) -> dict[str, str]:
    """The words of the report's counts: what was done once the import is applied, what it
    would do while it is a dry run."""
    if applied:
        return {
            "created": _("Created"),
            "updated": _("Updated"),
            "unchanged": _("Unchanged"),
            "errors": _("Skipped (errors)"),
        }
    return {
        "created": _("Would create"),
        "updated": _("Would update"),
        "unchanged": _("Would stay unchanged"),
        "errors": _("With errors"),
    }


def _import_summary(status: str, figures: dict[str, int]) -> str:
    """One sentence on what the import did (applied) or would do (checked)."""
    if status == ImportStatus.APPLIED:
        return (
            _(
                "Done: created %(created)d, updated %(updated)d, %(unchanged)d unchanged, "
                "%(errors)d skipped for errors."
            )
            % figures
        )
    if status == ImportStatus.CHECKED:
        return (
            _(
                "Dry run, nothing is saved yet: the import would create %(created)d, update "
                "%(updated)d and leave %(unchanged)d unchanged; %(errors)d rows have errors."
            )
            % figures
        )
    return ""


@people_only
def customer_merge(request: HttpRequest) -> HttpResponse:
    """Administrators merge two customer records: the two codes (prefilled from ?a=&b=), then
    the two side by side with a choice per differing field (the survivor's value chosen), what
    moves, the months to confirm when they apply; the POST merges and goes to the survivor."""
    if not policies.can_merge(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    pick = MergePickForm(data if {"a", "b"} & set(data) else None)
    preview = None
    if pick.is_valid():
        try:
            preview = selectors.customer_merge_preview(
                user=request.user,
                survivor_code=pick.cleaned_data["a"],
                merged_code=pick.cleaned_data["b"],
            )
        except DomainError as exc:
            form_domain_error(pick, exc)
    error = ""
    if request.method == "POST" and preview is not None and request.POST.get("merge"):
        values = {
            row["spec"].name: request.POST.get(f"pick_{row['spec'].name}", selectors.SURVIVOR)
            for row in preview.fields
            if row["differs"]
        }
        try:
            outcome = services.customer_merge(
                survivor=preview.survivor,
                merged=preview.merged,
                values=values,
                confirm_months=request.POST.get("confirm_months") == "1",
                actor=Actor.of(request.user, AuditSource.PAGE),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Customer %(merged)s was merged into %(survivor)s.")
                % {"merged": outcome.alias.code, "survivor": outcome.survivor},
            )
            return redirect("customers:detail", code=outcome.survivor.customer_code)
    chosen = request.POST if request.method == "POST" else {}
    return render(
        request,
        "customers/customer_merge.html",
        {
            "pick": pick,
            "preview": preview,
            "error": error,
            "rows": [
                {**row, "take_merged": chosen.get(f"pick_{row['spec'].name}") == selectors.MERGED}
                for row in (preview.fields if preview else [])
            ],
            "confirmed": chosen.get("confirm_months") == "1",
            "months": [month.strftime("%Y-%m") for month in (preview.months if preview else [])],
        },
    )
