"""Supply allocation (货源投放): plans that give each eligible shop a quota of a scarce
product for a period by its published grade, the quotas they store when published, and the
orders that took a shop past its quota.

A plan is identified by its code; changing a published plan makes a new version (the old one
is superseded and its quotas stay). Quotas are written once, when a version is published
(`allocation.services.plan_publish`); `ordered` follows the orders
(`allocation.usage.orders_recorded`).

Quota take-up is allocation's monthly result on the engine (`crm.monthly`, allocation/monthly.py):
its scheme (`AllocationScheme`), runs (`AllocationRun`) and one row per shop and month
(`AllocationTakeUp`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation.choices import ExceptionStatus, PlanStatus, TakeUpStatus
from crm.models import JobRun, ScopePaths, VersionedScheme
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


# --- quota take-up: allocation's monthly result (`crm.monthly`, allocation/monthly.py) -------


class AllocationScheme(VersionedScheme):
    """One version of the take-up rules: below `low_share` % of its quotas used a shop's
    take-up is low, at or above `full_share` % it is full (`allocation.computations.
    validate_takeup_parameters`)."""

    class Meta:
        verbose_name = _("take-up scheme")
        verbose_name_plural = _("take-up schemes")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="allocation_one_active_scheme",
            ),
        ]


class AllocationRun(JobRun):
    """One take-up computation of a month (the runs page or `crm.monthly_runs.recompute`)."""

    month = models.DateField(_("month"))
    scheme = models.ForeignKey(
        AllocationScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    customers = models.PositiveIntegerField(_("customers"), default=0)
    counts = models.JSONField(_("customers per take-up status"), default=dict)

    class Meta:
        verbose_name = _("take-up run")
        verbose_name_plural = _("take-up runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(status__in=["queued", "running"]),
                name="allocation_one_live_run_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}"


class AllocationTakeUp(models.Model):
    """A shop's take-up of its quotas in one month: over the published or closed plan versions
    whose period overlaps the month (a plan of two months counts in both), the sum of its
    quotas, of what it ordered, of what it used (per quota at most the quota) and of what it
    ordered beyond a quota; its grade (that of its largest quota) and area when computed, and
    the status the scheme's shares give. Written by the take-up run
    (`allocation.takeup.allocation_results_write`), like `ValueResult` with a digest.
    Scoped, like every result, by the shop's area and account manager now; `area` is the
    shop's area when the month was computed, what the take-up by area groups by."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="allocation_takeups",
        db_index=False,  # served by allocation_takeup_customer_idx
        db_constraint=False,
    )
    month = models.DateField(_("month"))
    scheme = models.ForeignKey(
        AllocationScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run = models.ForeignKey(
        AllocationRun,
        verbose_name=_("run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    grade = models.PositiveSmallIntegerField(_("grade"))
    area = models.ForeignKey(
        "crm.Area",
        verbose_name=_("area"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    plans = models.PositiveSmallIntegerField(_("plans"))
    quota = models.PositiveIntegerField(_("quota"))
    ordered = models.PositiveIntegerField(_("ordered"))
    used = models.PositiveIntegerField(_("quota used"))
    over_quota = models.PositiveIntegerField(_("ordered over the quota"))
    status = models.CharField(_("take-up"), max_length=8, choices=TakeUpStatus.choices)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    digest = models.BigIntegerField(_("result digest"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("quota take-up")
        verbose_name_plural = _("quota take-ups")
        ordering = ["month", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "customer"], name="allocation_takeup_month_customer_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "month"], name="allocation_takeup_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} {self.status}"

    @property
    def unused(self) -> int:
        return self.quota - self.used
