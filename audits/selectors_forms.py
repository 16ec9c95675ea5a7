"""The reads of the audit form definitions (administrators write them, supervisors read them):
the versions, one version with its questions, the shops a version targets now.

Forms are the company's, not a customer's: they are not scoped. The count of shops a version
targets is over the reader's scope (the one scope rule)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from audits.choices import FormStatus
from audits.models import AuditForm, AuditQuestion
from crm.models import Area, User
from crm.scope import descendant_area_ids
from customers.choices import CustomerStatus
from customers.models import Customer


def form_list(*, status: str = "", q: str = "") -> QuerySet[AuditForm]:
    """Every version, by code then newest version first, with its number of questions;
    filtered by status and a search of the code or name."""
    qs = AuditForm.objects.select_related("created_by").annotate(question_count=Count("questions"))
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return qs.order_by("code", "-version")


def form_get(*, pk: int) -> AuditForm:
    form = AuditForm.objects.select_related("created_by", "activated_by").filter(pk=pk).first()
    if form is None:
        raise Http404
    return form


def form_versions(*, form: AuditForm) -> QuerySet[AuditForm]:
    """The versions of the form's code, newest first."""
    return AuditForm.objects.filter(code=form.code).order_by("-version")


def form_questions(*, form: AuditForm) -> list[AuditQuestion]:
    """The version's questions in order, with the question each depends on and the products
    each lists (two queries)."""
    return list(
        form.questions.select_related("condition_question")
        .prefetch_related("products")
        .order_by("position", "id")
    )


def question_get(*, pk: int) -> AuditQuestion:
    question = AuditQuestion.objects.select_related("form").filter(pk=pk).first()
    if question is None:
        raise Http404
    return question


def targeted_customers(*, form: AuditForm, user: User) -> QuerySet[Customer]:
    """The shops `form` is for now, among those `user` may see: not closed, and passing every
    filter that is set (a shop whose attribute is blank does not pass it; an area includes the
    areas below it)."""
    qs = Customer.objects.visible_to(user).exclude(dynamic__status=CustomerStatus.CLOSED)
    if form.business_formats:
        qs = qs.filter(business_format__in=form.business_formats)
    if form.market_types:
        qs = qs.filter(market_type__in=form.market_types)
    if form.value_tiers:
        qs = qs.filter(system__value_tier__in=form.value_tiers)
    if form.structure_classes:
        qs = qs.filter(system__structure_class__in=form.structure_classes)
    if form.area_ids:
        qs = qs.filter(area_id__in=descendant_area_ids(form.area_ids))
    return qs


def form_target_count(*, form: AuditForm, user: User) -> int:
    """How many shops the version targets now, of those `user` sees (one COUNT in SQL)."""
    return targeted_customers(form=form, user=user).count()


def form_status_counts() -> dict[str, int]:
    """How many versions are active and how many drafts wait (the administrators' home)."""
    counts = dict(
        AuditForm.objects.filter(status__in=[FormStatus.ACTIVE, FormStatus.DRAFT])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status: counts.get(status, 0) for status in (FormStatus.ACTIVE, FormStatus.DRAFT)}


def area_labels(*, area_ids: list[int]) -> list[str]:
    """The areas a version names, as "code name", in code order."""
    areas = Area.objects.filter(pk__in=area_ids).order_by("code").values_list("code", "name")
    return [f"{code} {name}" for code, name in areas]
