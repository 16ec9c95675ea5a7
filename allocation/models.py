"""Supply allocation (货源投放): plans that give each eligible shop a quota of a scarce
product for a period by its published grade, the quotas they store when published, and the
orders that took a shop past its quota.

A plan is identified by its code; changing a published plan makes a new version (the old one
is superseded and its quotas stay). Quotas are written once, when a version is published
(`allocation.services.plan_publish`); `ordered` follows the orders (`quota_usage_refresh`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation.choices import ExceptionStatus, PlanStatus
from crm.models import ScopePaths
from crm.querysets import ScopedQuerySet


class AllocationPlan(models.Model):
    """One version of a plan: the product, the period, the quota per shop by grade (cartons for
    the period, keyed by the grade's label: {"1": 30, "2": 20}), who is eligible (structure
    classes, market types, business formats, areas with the areas below them; empty means
    everyone) and the optional total supply. Published: the grade month it read, the demand,
    what was allocated and the scale applied."""

    code = models.CharField(_("plan code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100, blank=True)
    product = models.ForeignKey(
        "orders.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    quotas = models.JSONField(_("quota per shop by grade"), default=dict)
    structure_classes = models.JSONField(_("structure classes"), default=list, blank=True)
    market_types = models.JSONField(_("market types"), default=list, blank=True)
    business_formats = models.JSONField(_("business formats"), default=list, blank=True)
    area_ids = models.JSONField(_("areas"), default=list, blank=True)
    supply = models.PositiveIntegerField(_("total supply (cartons)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    note = models.TextField(_("note"), blank=True)
    # What the sync compares a replayed plan with (its fields as sent).
    content_hash = models.CharField(max_length=32, blank=True, editable=False)
    # Set when published.
    grade_month = models.DateField(_("grade month"), null=True, blank=True)
    shops = models.PositiveIntegerField(_("shops with a quota"), null=True, blank=True)
    demand = models.PositiveIntegerField(_("demand (cartons)"), null=True, blank=True)
    allocated = models.PositiveIntegerField(_("allocated (cartons)"), null=True, blank=True)
    scale = models.FloatField(_("scale applied"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("allocation plan")
        verbose_name_plural = _("allocation plans")
        ordering = ["-starts_on", "code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="allocation_plan_version_uniq"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status__in=["draft"]),
                name="allocation_plan_one_draft",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status__in=["published"]),
                name="allocation_plan_one_published",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="allocation_plan_period_order",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "starts_on", "ends_on"], name="allocation_plan_force_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT

    def quota_for(self, grade: int | None) -> int:
        """Cartons per shop for the period of a shop of `grade` (0 for a grade the plan leaves
        out, or no grade)."""
        if grade is None:
            return 0
        return int(self.quotas.get(str(grade), 0))


class AllocationQuota(models.Model):
    """An eligible shop's quota in a published plan version: its grade and structure class in
    the grade month, what its grade asked for (`requested`), what it got after scaling to the
    supply (`quota`), and the cartons of the product it has ordered in the period (orders not
    cancelled or returned). Remaining = quota − ordered (negative: over).

    Written 200,000 rows at a time by one COPY when a plan is published. Its foreign keys are
    kept by Django (cascade) but not checked by the database, as `GradeResult`'s: PostgreSQL
    checks each inserted row's keys at commit, which took most of a publication
    (bench/bench_allocation.py); the rows take their ids from the plan and the grades just read.
    """

    plan = models.ForeignKey(
        AllocationPlan,
        verbose_name=_("plan"),
        on_delete=models.CASCADE,
        related_name="quota_rows",
        db_index=False,  # served by allocation_quota_uniq (plan, customer)
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="allocation_quotas",
        db_index=False,  # served by allocation_quota_customer_idx
        db_constraint=False,
    )
    grade = models.PositiveSmallIntegerField(_("grade"))
    structure_class = models.PositiveSmallIntegerField(_("structure class"), null=True, blank=True)
    requested = models.PositiveIntegerField(_("quota of the grade"))
    quota = models.PositiveIntegerField(_("quota"))
    ordered = models.PositiveIntegerField(_("ordered"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("allocation quota")
        verbose_name_plural = _("allocation quotas")
        constraints = [
            models.UniqueConstraint(fields=["plan", "customer"], name="allocation_quota_uniq"),
        ]
        indexes = [
            models.Index(fields=["customer", "plan"], name="allocation_quota_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.customer_id}: {self.quota}"

    @property
    def remaining(self) -> int:
        return self.quota - self.ordered


class AllocationException(models.Model):
    """An order that took a shop past its quota. The order is stored as usual (it already
    happened upstream); this keeps it on the supervisors' list until someone has reviewed it."""

    quota = models.ForeignKey(
        AllocationQuota,
        verbose_name=_("quota"),
        on_delete=models.CASCADE,
        related_name="exceptions",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    cartons = models.PositiveIntegerField(_("cartons of the order"))
    ordered = models.PositiveIntegerField(_("ordered in the period"))
    quota_cartons = models.PositiveIntegerField(_("quota"))
    status = models.CharField(
        _("status"), max_length=8, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN
    )
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="quota__customer__area", owner="quota__customer__account_manager")

    class Meta:
        verbose_name = _("allocation exception")
        verbose_name_plural = _("allocation exceptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["quota", "order"], name="allocation_exception_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} over {self.quota_id}"

    @property
    def over_by(self) -> int:
        return self.ordered - self.quota_cartons
