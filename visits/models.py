"""Visits: the plan (which shop to visit when), the visits account managers log, and the
follow-up actions a visit leaves behind.

- `VisitsConfig` holds every number of the planning and logging rules (one row);
- `PlannedVisit` is made by the daily planning job from each customer's visit cycle and batch,
  and rescheduled, skipped or done by the account manager;
- `Visit` is what was logged (on a phone, mostly), with its findings, photo and location;
- `FollowUp` is an action a visit asks for, with its due date and owner.

Visits, plans and follow-ups belong to the customer: whoever sees the customer (the one scope
rule) sees them, and they follow the customer when its account manager changes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import AuditSource
from crm.models import ScopePaths, SettingsRow
from crm.querysets import ScopedQuerySet
from visits.choices import FollowUpStatus, PlanStatus, PriceDisplay, StockLevel, VisitType

CUSTOMER_SCOPE = ScopePaths(area="customer__area", owner="customer__account_manager")

work_days_validator = RegexValidator(
    r"^[1-7]{1,7}$", _("Use the ISO weekday numbers 1 (Monday) to 7 (Sunday), e.g. 12345.")
)


class VisitsConfig(SettingsRow):
    """The visit settings administrators change. One row (pk=1); `VisitsConfig.current()`.

    Defaults: cycles of 7 / 14 / 30 days; a customer without a cycle is visited monthly;
    potential-value customers one step more often (monthly → fortnightly → weekly); two weeks
    planned ahead, Monday to Friday; a visit logged more than 300 m from the shop's recorded
    position is flagged; photos up to 5 MB.
    """

    weekly_days = models.PositiveSmallIntegerField(
        _("weekly cycle (days)"), default=7, validators=[MinValueValidator(1)]
    )
    fortnightly_days = models.PositiveSmallIntegerField(
        _("fortnightly cycle (days)"), default=14, validators=[MinValueValidator(1)]
    )
    monthly_days = models.PositiveSmallIntegerField(
        _("monthly cycle (days)"), default=30, validators=[MinValueValidator(1)]
    )
    default_cycle = models.CharField(
        _("cycle of customers without one"),
        max_length=12,
        default="monthly",
        choices=[
            ("weekly", _("Weekly")),
            ("fortnightly", _("Fortnightly")),
            ("monthly", _("Monthly")),
        ],
    )
    potential_shift = models.PositiveSmallIntegerField(
        _("potential-value customers: steps shorter"),
        default=1,
        validators=[MaxValueValidator(2)],
        help_text=_(
            "Potential-value customers are visited this many cycle steps more often "
            "(1: monthly becomes fortnightly, fortnightly becomes weekly; 0: no change)."
        ),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("days planned ahead"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    work_days = models.CharField(
        _("working days"),
        max_length=7,
        default="12345",
        validators=[work_days_validator],
        help_text=_(
            "Visits are planned on these weekdays (1 = Monday … 7 = Sunday), unless the "
            "customer's visit batch names a weekday."
        ),
    )
    location_radius_m = models.PositiveIntegerField(
        _("location radius (m)"),
        default=300,
        validators=[MinValueValidator(10), MaxValueValidator(100_000)],
        help_text=_(
            "A visit logged farther than this from the shop's recorded position is flagged."
        ),
    )
    photo_max_mb = models.PositiveSmallIntegerField(
        _("largest photo (MB)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )

    class Meta:
        verbose_name = _("visit settings")
        verbose_name_plural = _("visit settings")

    @property
    def cycle_days(self) -> dict[str, int]:
        """Days of each cycle, shortest first."""
        return {
            "weekly": self.weekly_days,
            "fortnightly": self.fortnightly_days,
            "monthly": self.monthly_days,
        }

    @property
    def work_weekdays(self) -> frozenset[int]:
        """ISO weekdays (1 = Monday) visits are planned on."""
        return frozenset(int(d) for d in self.work_days)


class Visit(models.Model):
    """One visit to a shop, as the account manager logged it."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,  # served by visits_visit_cust_seen_idx
    )
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,  # served by visits_visit_user_idx
    )
    visited_at = models.DateTimeField(_("time in"))
    ended_at = models.DateTimeField(_("time out"), null=True, blank=True)
    visit_type = models.CharField(_("visit type"), max_length=12, choices=VisitType.choices)
    purpose = models.CharField(_("purpose"), max_length=200)
    stock_level = models.CharField(
        _("stock of key brands"), max_length=12, choices=StockLevel.choices, blank=True
    )
    stock_notes = models.TextField(_("stock notes"), blank=True)
    price_display = models.CharField(
        _("retail price display"), max_length=14, choices=PriceDisplay.choices, blank=True
    )
    competitor_notes = models.TextField(_("competitor and market notes"), blank=True)
    customer_requests = models.TextField(_("requests and complaints"), blank=True)
    photo = models.FileField(_("photo"), upload_to="visits/%Y/%m/", blank=True)
    photo_thumbnail = models.FileField(_("thumbnail"), upload_to="visits/%Y/%m/", blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    location_accuracy_m = models.FloatField(_("location accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance to the shop (m)"), null=True, blank=True)
    location_flagged = models.BooleanField(_("far from the shop"), default=False)
    # The browser's id of the draft this visit was submitted from: a resubmission of the same
    # draft (after a lost connection) is recognised and refused.
    client_id = models.UUIDField(_("draft id"), null=True, blank=True, editable=False)
    source = models.CharField(
        _("source"), max_length=16, choices=AuditSource.choices, default=AuditSource.PAGE
    )
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visited_by", "client_id"], name="visits_visit_draft_once"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("visited_at")),
                name="visits_visit_out_after_in",
            ),
        ]
        indexes = [
            # A shop's visits newest first (its timeline, its latest visit) and, with the id, the
            # keys of an account manager's visit list read from the index alone (its first page
            # sorted the heap rows of every visit of his ~300 shops, ~1,300 pages: 16-20 ms of
            # PostgreSQL a page; crm.paginators.DeepPagePaginator, first page too).
            models.Index(
                fields=["customer", "-visited_at", "-id"], name="visits_visit_cust_seen_idx"
            ),
            models.Index(fields=["visited_by", "-visited_at"], name="visits_visit_user_idx"),
            # The visit list's sort (newest first: -visited_at, -id) read backwards: without
            # it, a company-wide list sorted every visit (2 s at 870,000 visits).
            models.Index(fields=["visited_at", "id"], name="visits_visit_visited_idx"),
            # The visit list's "far from the shop" filter (about 2-4% of visits), newest first:
            # its page walks this small index instead of the whole one (an account manager's
            # page: 370 → 47 ms for the rows). Its count joins every flagged visit to the
            # scope's shops: the customer carried in the index (PostgreSQL) lets that count
            # read the index alone instead of a heap page per flagged visit (32,000 visits
            # on 15,500 pages at 870,000 visits: 120 → 3 ms for that part of the count).
            models.Index(
                fields=["visited_at", "id"],
                include=["customer"],
                condition=models.Q(location_flagged=True),
                name="visits_visit_flagged_cust_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.visited_at:%Y-%m-%d %H:%M}"

    @property
    def duration_minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.visited_at).total_seconds() / 60)

    @property
    def has_findings(self) -> bool:
        return any(
            (
                self.stock_level,
                self.stock_notes,
                self.price_display,
                self.competitor_notes,
                self.customer_requests,
            )
        )


class PlannedVisit(models.Model):
    """A visit the plan asks for on a day. Made by the planning job; the account manager
    reschedules it (with a reason), skips it (with a reason) or does it (a visit is logged)."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="planned_visits",
        db_index=False,  # served by visits_plan_customer_idx
    )
    planned_for = models.DateField(_("planned for"))
    status = models.CharField(
        _("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.PLANNED
    )
    cycle_days = models.PositiveSmallIntegerField(_("cycle (days)"))
    boosted = models.BooleanField(_("shorter cycle for a potential-value customer"), default=False)
    # Set when a person moved it: the planning job then leaves it where they put it.
    rescheduled_from = models.DateField(_("originally planned for"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    visit = models.OneToOneField(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plan",
    )
    created_at = models.DateTimeField(_("planned at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        ordering = ["planned_for", "id"]
        constraints = [
            # No customer is planned twice on one day.
            models.UniqueConstraint(
                fields=["customer", "planned_for"],
                condition=models.Q(status="planned"),
                name="visits_plan_once_a_day",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "planned_for"], name="visits_plan_customer_idx"),
            models.Index(fields=["status", "planned_for"], name="visits_plan_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.planned_for} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == PlanStatus.PLANNED


class FollowUp(models.Model):
    """An action a visit leaves behind, due on a date, owned by one person."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    action = models.CharField(_("action"), max_length=300)
    due_date = models.DateField(_("due date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,  # served by visits_followup_owner_idx
    )
    status = models.CharField(
        _("status"), max_length=4, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_note = models.TextField(_("outcome"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="visits_followup_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.action[:60]

    def is_overdue(self, today) -> bool:
        return self.status == FollowUpStatus.OPEN and self.due_date < today


class PlanRefresh(models.Model):
    """One run of the planning job: what it planned, withdrew and marked missed."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    customers = models.PositiveIntegerField(_("customers"), default=0)
    planned = models.PositiveIntegerField(_("planned"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    missed = models.PositiveIntegerField(_("missed"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("visit planning run")
        verbose_name_plural = _("visit planning runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} +{self.planned} -{self.withdrawn}"
