"""Valuation schemes, the monthly value results per customer, compliance records, early
warnings and job runs.

A result row is written per customer and month by the valuation run
(`valuation.services.valuation_run_execute`), right after the grading run of that month, and
carries every input, input score and indicator score that placed it, so the customer page can
explain it and a later change of scheme never rewrites a past month.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import JobRun, ScopePaths, VersionedScheme
from crm.querysets import ScopedQuerySet
from customers.choices import OutletSize, TradeArea, ValueTier
from valuation.choices import RecordType, WarningKind, WarningStatus


class ValuationScheme(VersionedScheme):
    """One version of the valuation rules: the windows, the percentile group, each input's
    weight and scoring method, the value weights, the tier cut-offs, the core and problem
    list rules and the early-warning thresholds. Checked by
    `valuation.computations.validate_parameters`."""

    class Meta:
        verbose_name = _("valuation scheme")
        verbose_name_plural = _("valuation schemes")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="valuation_one_active_scheme",
            ),
        ]


class ValuationRun(JobRun):
    """One valuation of a month: after the grading run of that month (the monthly chain), or
    started on its own by an administrator or the recompute command."""

    month = models.DateField(_("month"))
    scheme = models.ForeignKey(
        ValuationScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    grading_run = models.ForeignKey(
        "grading.GradingRun",
        verbose_name=_("after grading run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    customers = models.PositiveIntegerField(_("customers"), default=0)
    counts = models.JSONField(_("customers per tier"), default=dict)
    core = models.PositiveIntegerField(_("core customers"), default=0)
    problem = models.PositiveIntegerField(_("problem customers"), default=0)

    class Meta:
        verbose_name = _("valuation run")
        verbose_name_plural = _("valuation runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=models.Q(status__in=["queued", "running"]),
                name="valuation_one_live_run_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.status}"


def _score(label):
    return models.FloatField(label, null=True, blank=True)


class ValueResult(models.Model):
    """A customer's five indicator scores, current and potential value, tier and list flags
    for one month, with every input that placed them (None where the input was missing and
    the scheme's neutral score stood in).

    Written 200,000 rows at a time by one COPY; like `GradeResult`, its foreign keys are
    kept by Django but not checked by the database, and the keys that are the same for every
    row of a run have no index of their own (bench/bench_grading.py). `digest` as in
    `GradeResult`: what a run compares instead of reading the month back.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="value_results",
        db_index=False,  # served by valuation_result_customer_idx
        db_constraint=False,
    )
    month = models.DateField(_("month"))
    scheme = models.ForeignKey(
        ValuationScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run = models.ForeignKey(
        ValuationRun,
        verbose_name=_("run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    group_size = models.PositiveIntegerField(_("customers in percentile group"))
    # inputs
    months_counted = models.PositiveSmallIntegerField(_("months counted"))
    window_amount = models.DecimalField(_("amount in window"), max_digits=16, decimal_places=2)
    avg_amount = models.DecimalField(
        _("monthly average amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    key_brand_share = _score(_("key-brand share"))
    new_product_share = _score(_("new-product share"))
    display_compliance = _score(_("display compliance"))
    e_settlement_rate = _score(_("e-settlement rate"))
    on_time_rate = _score(_("on-time payment rate"))
    violations = models.PositiveSmallIntegerField(_("violations in the credit window"))
    recent_violations = models.PositiveSmallIntegerField(_("violations in the problem window"))
    trend_months = models.PositiveSmallIntegerField(_("months in the trend"))
    amount_trend = _score(_("amount trend per month"))
    tenure_months = _score(_("months as a customer"))
    outlet_size = models.CharField(
        _("outlet size"), max_length=10, choices=OutletSize.choices, blank=True
    )
    trade_area = models.CharField(
        _("trade-area environment"), max_length=12, choices=TradeArea.choices, blank=True
    )
    model_outlet = models.BooleanField(_("model outlet"), null=True, blank=True)
    # input scores (0-100)
    avg_amount_score = _score(_("amount score"))
    key_brand_share_score = _score(_("key-brand score"))
    new_product_share_score = _score(_("new-product score"))
    display_compliance_score = _score(_("display score"))
    e_settlement_rate_score = _score(_("e-settlement score"))
    on_time_rate_score = _score(_("on-time payment score"))
    amount_trend_score = _score(_("trend score"))
    tenure_months_score = _score(_("tenure score"))
    outlet_size_score = _score(_("outlet-size score"))
    trade_area_score = _score(_("trade-area score"))
    model_outlet_score = _score(_("model-outlet score"))
    # indicators and values (0-100)
    contribution_score = models.FloatField(_("contribution"))
    support_score = models.FloatField(_("support"))
    credit_score = models.FloatField(_("credit"))
    growth_score = models.FloatField(_("growth"))
    influence_score = models.FloatField(_("influence"))
    missing = models.CharField(_("missing inputs"), max_length=200, blank=True)
    current_value = models.FloatField(_("current value"))
    potential_value = models.FloatField(_("potential value"))
    value_tier = models.CharField(_("value tier"), max_length=10, choices=ValueTier.choices)
    is_core = models.BooleanField(_("core customer"))
    is_problem = models.BooleanField(_("problem customer"))
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    digest = models.BigIntegerField(_("result digest"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("value result")
        verbose_name_plural = _("value results")
        ordering = ["month", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "customer"], name="valuation_result_month_customer_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "month"], name="valuation_result_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m} {self.value_tier}"

    @property
    def missing_inputs(self) -> list[str]:
        return [name for name in self.missing.split(",") if name]


class ComplianceRecord(models.Model):
    """A licence officer's record of a customer's compliance: a violation (which lowers the
    credit score and puts the customer on the problem list) or a clean inspection. Records
    are never deleted; a mistaken one is voided with a reason."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="compliance_records",
    )
    date = models.DateField(_("date"))
    record_type = models.CharField(_("type"), max_length=12, choices=RecordType.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.TextField(_("reason for voiding"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("compliance record")
        verbose_name_plural = _("compliance records")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["date"], name="valuation_compliance_date_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.record_type}"

    @property
    def is_violation(self) -> bool:
        return self.record_type in RecordType.violations()

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class EarlyWarning(models.Model):
    """A churn sign on one customer, for its account manager (whoever that is now).

    `key` names the episode — the last order date for `no_orders`, the last month of the
    compared window for `amount_drop`, the grade month for `downgrade` — so the daily refresh
    opens each episode once: one whose sign has gone is resolved by the refresh, and a
    resolved warning (by hand, or by the refresh) is not opened again for the same episode
    should its sign come back (a corrected grade corrected back, amounts around the
    threshold): the account manager was told of it once. A new episode (a later last order,
    window or grade month) opens a new warning and resolves the old episode's.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="early_warnings",
        db_index=False,  # served by valuation_warning_episode_uniq
    )
    kind = models.CharField(_("warning"), max_length=12, choices=WarningKind.choices)
    key = models.CharField(_("episode"), max_length=20)
    status = models.CharField(
        _("status"), max_length=12, choices=WarningStatus.choices, default=WarningStatus.OPEN
    )
    details = models.JSONField(_("details"), default=dict, encoder=DjangoJSONEncoder)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "key"], name="valuation_warning_episode_uniq"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="valuation_warning_status_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.key} ({self.status})"

    @property
    def is_unresolved(self) -> bool:
        return self.status in WarningStatus.unresolved()


class WarningRefresh(models.Model):
    """One refresh of the early warnings (daily, and after each valuation run)."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    opened = models.PositiveIntegerField(_("opened"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("warning refresh")
        verbose_name_plural = _("warning refreshes")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} +{self.opened} -{self.resolved}"
