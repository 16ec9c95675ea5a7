"""Grading schemes, the monthly results per customer, overrides and job runs.

A result row is written per customer and grade month by the recompute job
(`grading.services.grading_recompute`) and carries the inputs that placed it, so the
customer page can explain it and a later change of scheme never rewrites a past month.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import JobRun, ScopePaths, VersionedScheme
from crm.querysets import ScopedQuerySet
from customers.choices import BusinessScale
from grading.choices import (
    GradeBasis,
    OverrideStatus,
    PublicationStatus,
    SchemeKind,
)


class GradingScheme(VersionedScheme):
    """One version of the grading rules: the grade scheme (kind + parameters), the reference
    window, the new-customer rule, the business-scale cuts and the structure matrix.
    `parameters` is checked by `grading.computations.validate_parameters`.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=SchemeKind.choices)

    class Meta:
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="grading_one_active_scheme",
            ),
        ]

    @property
    def grade_count(self) -> int:
        from grading.computations import grade_count

        return grade_count(self.kind, self.parameters)


class PeakMonth(models.Model):
    """A peak-season month (Spring Festival, a public holiday) that schemes may leave out of
    the reference window."""

    month = models.DateField(_("month"), unique=True)
    label = models.CharField(_("label"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("flagged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)

    class Meta:
        verbose_name = _("peak month")
        verbose_name_plural = _("peak months")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.label}"


class GradeAssessment(models.Model):
    """An account manager's assessment (0-100) of a customer for a grade month: the optional
    share of the score scheme."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="grade_assessments",
        db_index=False,  # served by grading_assessment_customer_month_uniq
    )
    month = models.DateField(_("grade month"))
    score = models.PositiveSmallIntegerField(
        _("assessment"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("grade assessment")
        verbose_name_plural = _("grade assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"], name="grading_assessment_customer_month_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(score__lte=100), name="grading_assessment_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} {self.score}"


class GradingRun(JobRun):
    """One recompute of a grade month: who or what started it, with which scheme, how it went."""

    month = models.DateField(_("grade month"))
    scheme = models.ForeignKey(
        GradingScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    parts_total = models.PositiveIntegerField(_("parts"), default=1)
    parts_done = models.PositiveIntegerField(_("parts done"), default=0)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    counts = models.JSONField(_("customers per grade"), default=dict)

    class Meta:
        verbose_name = _("grading run")
        verbose_name_plural = _("grading runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two live runs of one month would race to write it; the second start is refused.
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(status__in=["queued", "running"]),
                name="grading_one_live_run_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}"


class GradingRunPart(models.Model):
    """The figures one part of a split run computed (the window inputs of its areas' customers),
    handed to the chord's body through the database rather than the broker: an Arrow IPC
    stream of the frame, types included. Written by the part, read and deleted by the body in
    its write's transaction; a redelivered part replaces its row."""

    run = models.ForeignKey(
        GradingRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="parts"
    )
    first_area_id = models.BigIntegerField(_("first area of the part"))
    rows = models.PositiveIntegerField(_("customers"))
    inputs = models.BinaryField(_("window inputs (Arrow IPC)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grading run part")
        verbose_name_plural = _("grading run parts")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "first_area_id"], name="grading_run_part_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} part {self.first_area_id} ({self.rows})"


class GradeOverride(models.Model):
    """A supervisor's proposal to give a customer another grade for one month, with a reason;
    effective once a second person approves it. Survives recomputes of that month."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="grade_overrides",
    )
    month = models.DateField(_("grade month"))
    computed_grade = models.PositiveSmallIntegerField(_("computed grade"), null=True, blank=True)
    grade = models.PositiveSmallIntegerField(_("proposed grade"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=9, choices=OverrideStatus.choices, default=OverrideStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("grade override")
        verbose_name_plural = _("grade overrides")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"],
                condition=models.Q(status__in=["proposed", "approved"]),
                name="grading_one_open_override",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} → {self.grade} ({self.status})"


class GradeResult(models.Model):
    """A customer's grade, business scale, category code and structure class for one month,
    with the inputs that placed them. `grade` is the effective grade: `computed_grade`
    unless an approved override says otherwise.

    Written 200,000 rows at a time by one COPY. Its foreign keys are kept by Django (cascade,
    protect, set null) but not checked by the database: PostgreSQL checks a foreign key once
    per inserted row at commit, which cost 6 of a 24-second run (bench/bench_grading.py); the
    recompute takes its ids from the tables it has just read. The keys that are the same for
    every row of a run (scheme, run) or rarely set (override) have no index of their own.
    `digest` is what a run compares instead of reading the month back (`crm.frames.row_digests`);
    a write outside the runs sets it to NULL (the row is rewritten by the next run).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="grade_results",
        db_index=False,  # served by grading_result_customer_idx
        db_constraint=False,
    )
    month = models.DateField(_("grade month"))
    scheme = models.ForeignKey(
        GradingScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run = models.ForeignKey(
        GradingRun,
        verbose_name=_("run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    basis = models.CharField(_("basis"), max_length=7, choices=GradeBasis.choices)
    window = models.CharField(_("window months"), max_length=100, blank=True)
    months_used = models.PositiveSmallIntegerField(_("months counted"))
    avg_cartons = models.DecimalField(_("monthly average cartons"), max_digits=12, decimal_places=2)
    avg_amount = models.DecimalField(_("monthly average amount"), max_digits=14, decimal_places=2)
    avg_price = models.DecimalField(
        _("average price per carton"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    structure_share = models.FloatField(_("structure share"), null=True, blank=True)
    assessment = models.PositiveSmallIntegerField(_("assessment"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    floor_area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    quantity_pct = models.FloatField(_("quantity percentile in group"))
    amount_pct = models.FloatField(_("amount percentile in group"))
    scale_score = models.FloatField(_("scale score"))
    group_size = models.PositiveIntegerField(_("customers in group"))
    computed_grade = models.PositiveSmallIntegerField(_("computed grade"))
    grade = models.PositiveSmallIntegerField(_("grade"))
    override = models.ForeignKey(
        GradeOverride,
        verbose_name=_("override"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    business_scale = models.CharField(
        _("business scale"), max_length=6, choices=BusinessScale.choices
    )
    category_code = models.CharField(_("category code"), max_length=3)
    price_band = models.PositiveSmallIntegerField(_("price band"))
    structure_class = models.PositiveSmallIntegerField(_("structure class"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    digest = models.BigIntegerField(_("result digest"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("grade result")
        verbose_name_plural = _("grade results")
        ordering = ["month", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "customer"], name="grading_result_month_customer_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "month"], name="grading_result_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} grade {self.grade}"

    @property
    def is_overridden(self) -> bool:
        return self.grade != self.computed_grade


class GradePublication(models.Model):
    """A grade month published (locked) after review: its effective grades (overrides
    included) are what supply allocation reads, and the month is not recomputed. Unlocking
    takes a reason from one person and the approval of another; the row then stays, unlocked,
    as the month's history (a month is published again by a new row)."""

    month = models.DateField(_("grade month"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PublicationStatus.choices,
        default=PublicationStatus.PUBLISHED,
    )
    note = models.TextField(_("note"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    unlock_reason = models.TextField(_("reason to unlock"), blank=True)
    unlock_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unlock requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    unlock_requested_at = models.DateTimeField(_("unlock requested at"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unlock approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("grade publication")
        verbose_name_plural = _("grade publications")
        ordering = ["-month", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(status__in=["published", "unlock_req"]),
                name="grading_one_live_publication",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.status})"

    @property
    def locked(self) -> bool:
        """Published or waiting for its unlock: the month's grades stand."""
        return self.status != PublicationStatus.UNLOCKED
