"""The plan pages (namespace "allocation"): the list of every version, a version's page with
its stored figures and quotas, the draft editor, the preview and the lifecycle's buttons, and
the export of a version's quotas.

Plans are company-wide: everyone with a people role reads them; the quotas shown and
exported are only those of the shops the user may see. Writing (and previewing, the step
before publishing) is for administrators (`services.can_manage_plans`). Every write is a
service call; its DomainError is shown beside the form's fields or as a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocation import selectors, services
from allocation.choices import PlanStatus
from allocation.forms import DEFAULT_GRADES, PlanForm
from allocation.models import AllocationPlan, AllocationQuota
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.selectors import area_choices
from crm.services import Actor
from crm.views import list_query_context, page_context, people_allowed, people_only, version_actions
from customers import io
from customers.choices import BusinessFormat, MarketType
from grading.selectors import scheme_active_or_none
from orders.selectors import product_list

PLANS_PER_PAGE = 25
QUOTAS_PER_PAGE = 50

managers_only = people_allowed(services.can_manage_plans)


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


# --- the list --------------------------------------------------------------------------


@people_only
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every version, newest period first, by status and a search of code, name or product."""
    status = request.GET.get("status", "")
    if status not in PlanStatus.values:
        status = ""
    q = request.GET.get("q", "").strip()[:64]
    page = CappedPaginator(selectors.plan_list(status=status, q=q), PLANS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "allocation/plan_list.html",
        {
            "plans": page.object_list,
            **page_context(page),
            "status": status,
            "q": q,
            "statuses": PlanStatus.choices,
            "may_manage": services.can_manage_plans(request.user),
            **list_query_context(request),
        },
    )


# --- the editor --------------------------------------------------------------------------


def _grades(plan: AllocationPlan | None) -> list[int]:
    """The grades given a quota input: those of the active grading scheme (8 without one) and
    any the plan already names."""
    scheme = scheme_active_or_none()
    count = scheme.grade_count if scheme else DEFAULT_GRADES
    named = [int(g) for g in plan.quotas] if plan else []
    return sorted({*range(1, count + 1), *named})


def _plan_form(request: HttpRequest, plan: AllocationPlan | None) -> PlanForm:
    products = [
        (p.code, f"{p.code} {p.name}")
        for p in product_list(filters={"active": "true"}).only("code", "name")
    ]
    if plan is not None and plan.product.code not in {code for code, _label in products}:
        # An inactive product stays choosable on the plan that names it.
        products.insert(0, (plan.product.code, f"{plan.product.code} {plan.product.name}"))
    kwargs: dict[str, Any] = {
        "grades": _grades(plan),
        "products": products,
        "areas": area_choices(user=request.user),
        "with_code": plan is None,
    }
    if request.method == "POST":
        return PlanForm(request.POST, **kwargs)
    initial = PlanForm.initial_of(services.plan_as_data(plan)) if plan else {}
    return PlanForm(initial=initial, **kwargs)


def _save(request: HttpRequest, plan: AllocationPlan | None) -> HttpResponse:
    """The editor (create when `plan` is None): GET shows it, POST saves through the service
    or shows its messages beside the fields (nothing is saved then)."""
    form = _plan_form(request, plan)
    if request.method == "POST" and form.is_valid():
        try:
            if plan is None:
                plan = services.plan_create_draft(data=form.plan_data(), actor=_actor(request))
                messages.success(request, _("Draft plan %(p)s was created.") % {"p": plan})
            else:
                plan = services.plan_update_draft(
                    plan=plan, data=form.plan_data(), actor=_actor(request)
                )
                messages.success(request, _("The draft was saved."))
            return redirect("allocation:plan", plan.pk)
        except DomainError as exc:
            form.add_service_errors(exc.errors)
    return render(request, "allocation/plan_form.html", {"plan": plan, "form": form})


def _unless_draft(request: HttpRequest, plan: AllocationPlan, message: str) -> HttpResponse | None:
    """Back to the version's page saying `message` when it is not a draft (the services
    refuse too; this spares reading a form the page does not show)."""
    if plan.is_draft:
        return None
    messages.error(request, message)
    return redirect("allocation:plan", plan.pk)


@managers_only
def plan_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@managers_only
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(pk=pk)
    refused = _unless_draft(
        request, plan, _("Only a draft can be edited: make a new version of this plan.")
    )
    return refused or _save(request, plan)


# --- a version's page ----------------------------------------------------------------------


def _labels(values: list[str], choices: type) -> list[str]:
    return [str(choices(v).label) if v in choices.values else v for v in values]


def plan_rule(plan: AllocationPlan) -> dict[str, Any]:
    """The plan's rule in the shapes the page words: cartons per grade and who is eligible
    (an empty list: everyone)."""
    return {
        "quotas": [(int(g), q) for g, q in sorted(plan.quotas.items(), key=lambda i: int(i[0]))],
        "structure_classes": plan.structure_classes,
        "market_types": _labels(plan.market_types, MarketType),
        "business_formats": _labels(plan.business_formats, BusinessFormat),
        "areas": services.plan_as_data(plan)["areas"] if plan.area_ids else [],
    }


def _visible_quotas(request: HttpRequest, plan: AllocationPlan) -> QuerySet[AllocationQuota]:
    """The version's quotas of the shops the user may see, by grade and customer code."""
    return (
        AllocationQuota.objects.visible_to(request.user)
        .filter(plan=plan)
        .select_related("customer")
        .order_by("grade", "customer__customer_code")
    )


def _quotas(request: HttpRequest, plan: AllocationPlan) -> tuple[Any, str]:
    """The page of the version's quotas the user may see, searched by customer code."""
    q = request.GET.get("q", "").strip()[:32]
    rows = _visible_quotas(request, plan)
    if q:
        rows = rows.filter(customer__customer_code__icontains=q)
    return CappedPaginator(rows, QUOTAS_PER_PAGE).get_page(request.GET.get("page")), q


@people_only
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(pk=pk)
    context: dict[str, Any] = {
        "plan": plan,
        "rule": plan_rule(plan),
        "versions": selectors.plan_versions(plan=plan).only("pk", "version", "status"),
        "may_manage": services.can_manage_plans(request.user),
    }
    if not plan.is_draft:
        page, q = _quotas(request, plan)
        context.update(
            {
                "quotas": page.object_list,
                **page_context(page),
                "q": q,
                **list_query_context(request),
            }
        )
    return render(request, "allocation/plan_detail.html", context)


# --- preview and the lifecycle -----------------------------------------------------------


@managers_only
def plan_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What publishing the draft would give now, from its start month's published grades."""
    plan = selectors.plan_get(pk=pk)
    refused = _unless_draft(
        request, plan, _("Only a draft is previewed: this version's figures are stored.")
    )
    if refused:
        return refused
    preview = services.plan_preview(plan=plan)
    return render(
        request,
        "allocation/plan_preview.html",
        {"plan": plan, "rule": plan_rule(plan), "preview": preview},
    )


_lifecycle = version_actions(
    guard=managers_only,
    get=selectors.plan_get,
    page="allocation:plan",
    listing="allocation:plans",
    key="p",
)


plan_publish = _lifecycle(
    lambda plan, request: services.plan_publish(plan=plan, actor=_actor(request)),
    gettext_lazy("Plan %(p)s was published: every eligible shop's quota is stored."),
)
plan_close = _lifecycle(
    lambda plan, request: services.plan_close(
        plan=plan, actor=_actor(request), reason=request.POST.get("reason", "").strip()[:500]
    ),
    gettext_lazy("Plan %(p)s was closed: it is no longer in force; its quotas stay visible."),
)
plan_new_version = _lifecycle(
    lambda plan, request: services.plan_new_version(plan=plan, actor=_actor(request)),
    gettext_lazy(
        "Draft %(p)s was made: edit it, preview it and publish it to replace the current one."
    ),
)
plan_delete = _lifecycle(
    lambda plan, request: services.plan_delete_draft(plan=plan, actor=_actor(request)),
    gettext_lazy("The draft %(p)s was deleted."),
)


# --- the export ----------------------------------------------------------------------------


def _export_rows(rows):
    for quota in rows.iterator(chunk_size=2000):
        customer = quota.customer
        yield [
            customer.customer_code,
            customer.store_name,
            quota.grade,
            quota.structure_class,
            quota.requested,
            quota.quota,
            quota.ordered,
            quota.remaining,
        ]


@people_only
def plan_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's quotas the user may see, as CSV (UTF-8 with a BOM, like the other exports)."""
    plan = selectors.plan_get(pk=pk)
    if plan.is_draft:
        raise Http404  # a draft has no quotas: nothing to export
    rows = _visible_quotas(request, plan).only(
        "grade",
        "structure_class",
        "requested",
        "quota",
        "ordered",
        "customer__customer_code",
        "customer__store_name",
    )
    columns = [
        _("Customer code"),
        _("Store name"),
        _("Grade"),
        _("Structure class"),
        _("Quota of the grade"),
        _("Quota"),
        _("Ordered"),
        _("Remaining"),
    ]
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    name = f"allocation-{plan.code}-v{plan.version}-{stamp}.csv"
    response = StreamingHttpResponse(
        io.write_csv(_export_rows(rows), columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
