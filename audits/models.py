"""Retail audits (终端检查 / 零售价格监测): the forms the company defines, and what account managers
found when they filled them in on a visit.

- `AuditForm` is one *version* of a form (code + version, like the grading schemes): edited as a
  draft, activated (the previous active version of the code is retired), never edited once
  active. It says which shops it is for (business formats, market types, value tiers,
  structure classes, areas with the areas below them; empty means every shop) and how often it
  is due (every visit, once a month, once).
- `AuditQuestion` belongs to one form version. Per-product questions (on the shelf, retail
  price, facings) are asked once per product: the products listed, or the shop's eligible
  products. A question may apply only when an earlier question's answer is one of
  `condition_values`. `key` is stable across versions, so reports join versions.
- `Audit` is one form filled in on one visit; `AuditAnswer` one answer (per product for the
  per-product questions). `display_yes` / `display_answered` count the answers to the form's
  display questions, the input of the valuation's support indicator.
- `ProductObservation` keeps, per shop, product and month, the latest audit's findings (on the
  shelf, retail price per carton, facings): the reports read it, not the answers, so four visits
  to one shop count once. `PriceTally` counts the shops per (month, product, area, price): the
  price report reads the tallies, so it does not sort millions of rows.

Audits belong to the customer: whoever sees the customer (the one scope rule) sees them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import FormStatus, Frequency, PriceUnit, ProductScope, QuestionKind
from crm.models import ScopePaths
from crm.querysets import ScopedQuerySet

CUSTOMER_SCOPE = ScopePaths(area="customer__area", owner="customer__account_manager")

# Retail prices are stored per carton; a carton holds this many packs (the Chinese standard
# carton of 10 packs of 20 cigarettes).
PACKS_PER_CARTON = 10

_price = {"max_digits": 10, "decimal_places": 2}


class AuditForm(models.Model):
    """One version of an audit form: its target shops, how often it is due, its questions."""

    code = models.CharField(_("form code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=FormStatus.choices, default=FormStatus.DRAFT
    )
    frequency = models.CharField(
        _("due"), max_length=12, choices=Frequency.choices, default=Frequency.EVERY_VISIT
    )
    # Targeting: empty means every shop; a shop whose attribute is blank does not pass a
    # filter that is set (as allocation plans do).
    business_formats = models.JSONField(_("business formats"), default=list, blank=True)
    market_types = models.JSONField(_("market types"), default=list, blank=True)
    value_tiers = models.JSONField(_("value tiers"), default=list, blank=True)
    structure_classes = models.JSONField(_("structure classes"), default=list, blank=True)
    area_ids = models.JSONField(_("areas"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit form")
        verbose_name_plural = _("audit forms")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="audits_form_version_once"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status="active"),
                name="audits_form_one_active",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status="draft"),
                name="audits_form_one_draft",
            ),
        ]
        indexes = [models.Index(fields=["status", "code"], name="audits_form_status_idx")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class AuditQuestion(models.Model):
    """One question of a form version."""

    form = models.ForeignKey(
        AuditForm, verbose_name=_("form"), on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.SlugField(_("key"), max_length=40)
    kind = models.CharField(_("type"), max_length=16, choices=QuestionKind.choices)
    label = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    # Single and multiple choice: the choices offered, as strings.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # Number, facings and price: the accepted range (prices in the question's unit).
    minimum = models.DecimalField(_("minimum"), null=True, blank=True, **_price)
    maximum = models.DecimalField(_("maximum"), null=True, blank=True, **_price)
    price_unit = models.CharField(
        _("price unit"), max_length=8, choices=PriceUnit.choices, blank=True
    )
    product_scope = models.CharField(
        _("products asked about"), max_length=10, choices=ProductScope.choices, blank=True
    )
    products = models.ManyToManyField(
        "orders.Product", verbose_name=_("products"), blank=True, related_name="+"
    )
    # A yes / no question about the display (price tags shown, display as agreed…): its share
    # of "yes" is the shop's display compliance.
    is_display = models.BooleanField(_("counts for display compliance"), default=False)
    # Asked only when this earlier question's answer is one of `condition_values`.
    condition_question = models.ForeignKey(
        "self",
        verbose_name=_("only when"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dependants",
    )
    condition_values = models.JSONField(_("has one of the values"), default=list, blank=True)

    class Meta:
        verbose_name = _("audit question")
        verbose_name_plural = _("audit questions")
        ordering = ["form", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="audits_question_key_once"),
        ]

    def __str__(self) -> str:
        return self.label[:60]


class Audit(models.Model):
    """One form filled in on one visit."""

    visit = models.ForeignKey(
        "visits.Visit", verbose_name=_("visit"), on_delete=models.CASCADE, related_name="audits"
    )
    form = models.ForeignKey(
        AuditForm, verbose_name=_("form"), on_delete=models.PROTECT, related_name="audits"
    )
    # The visit's customer, person and time, repeated so that reports and the due check
    # don't join the visits.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="audits",
        db_index=False,  # served by audits_audit_customer_idx
    )
    audited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("audited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    audited_at = models.DateTimeField(_("audited at"))
    display_yes = models.PositiveSmallIntegerField(_("display answers yes"), default=0)
    display_answered = models.PositiveSmallIntegerField(_("display answers"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("audit")
        verbose_name_plural = _("audits")
        ordering = ["-audited_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "form"], name="audits_audit_once_a_visit"),
        ]
        indexes = [
            models.Index(fields=["customer", "-audited_at"], name="audits_audit_customer_idx"),
            models.Index(fields=["audited_at"], name="audits_audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} {self.customer_id} {self.audited_at:%Y-%m-%d}"


class AuditAnswer(models.Model):
    """One answer: `value` as given and checked (true/false, a number as a string, a choice,
    a list of choices, a text); `number` the numeric value (a price per carton, facings, a
    number); `photo` for photo questions; `product` for per-product questions."""

    audit = models.ForeignKey(
        Audit, verbose_name=_("audit"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        AuditQuestion, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "orders.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    value = models.JSONField(_("answer"), null=True, blank=True)
    number = models.DecimalField(_("number"), max_digits=12, decimal_places=2, null=True)
    photo = models.FileField(_("photo"), upload_to="audits/%Y/%m/", blank=True)
    photo_thumbnail = models.FileField(_("thumbnail"), upload_to="audits/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("audit answer")
        verbose_name_plural = _("audit answers")
        ordering = ["audit", "question__position", "product_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "question"],
                condition=models.Q(product__isnull=True),
                name="audits_answer_once",
            ),
            models.UniqueConstraint(
                fields=["audit", "question", "product"],
                condition=models.Q(product__isnull=False),
                name="audits_answer_once_a_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"


class ProductObservation(models.Model):
    """A shop's latest findings about one product in one month (the last audit of the month
    that asked about it wins): on the shelf, the retail price per carton, the facings."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    product = models.ForeignKey(
        "orders.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    # The shop's area when observed: the tallies are counted by it.
    area = models.ForeignKey(
        "crm.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    audit = models.ForeignKey(
        Audit, verbose_name=_("audit"), on_delete=models.CASCADE, related_name="+"
    )
    observed_at = models.DateTimeField(_("observed at"))
    on_shelf = models.BooleanField(_("on the shelf"), null=True, blank=True)
    price = models.DecimalField(_("retail price per carton"), null=True, blank=True, **_price)
    facings = models.PositiveSmallIntegerField(_("facings"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("product observation")
        verbose_name_plural = _("product observations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product", "month"], name="audits_observation_once"
            ),
        ]
        indexes = [
            models.Index(fields=["month", "product", "price"], name="audits_observation_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product_id} {self.month:%Y-%m}"


class PriceTally(models.Model):
    """How many shops of an area were last seen at a price for a product in a month."""

    month = models.DateField(_("month"))
    product = models.ForeignKey(
        "orders.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "crm.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    price = models.DecimalField(_("retail price per carton"), **_price)
    shops = models.PositiveIntegerField(_("shops"), default=0)

    class Meta:
        verbose_name = _("price tally")
        verbose_name_plural = _("price tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "product", "area", "price"], name="audits_tally_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.product_id} {self.area_id} {self.price}: {self.shops}"
