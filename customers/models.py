"""Customers (licensed retail shops), split by maintenance class:

- `Customer` holds the **static** information (identity, licence, format, market type) and the
  two assignment keys the scope rule reads (area, account manager);
- `CustomerDynamic` (one-to-one) the **dynamic** information account managers keep current;
- `CustomerSystem` (one-to-one) the **system-generated** figures that only jobs and order sync
  write.

`customers.catalogue` says, for every field, its content category, class, labels and change
policy; pages, forms, change requests, the API and exports read it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from crm import stored_text
from crm.choices import SchemeStatus
from crm.models import ScopePaths
from crm.querysets import ScopedQuerySet
from crm.uploads import RandomName
from customers import choices
from customers.validators import validate_code, validate_phone


def _label(name: str):
    """The catalogue's label for a field, resolved lazily (the catalogue imports this module)."""

    def resolve() -> str:
        from customers.catalogue import CATALOGUE

        return str(CATALOGUE[name].label_en)

    return lazy(resolve, str)()


# What a customer's audit rows may name besides its catalogue fields.
AUDIT_ONLY_LABELS = {
    # a pair of likely duplicates judged two shops (`customers.services.duplicate_dismiss`)
    "not_duplicate_of": _("Not a duplicate of"),
}


class CustomerQuerySet(ScopedQuerySet):
    def with_parts(self) -> CustomerQuerySet:
        """Joins the dynamic and system parts, the area and the account manager (one query)."""
        return self.select_related("dynamic", "system", "area", "account_manager")


class Customer(models.Model):
    """A licensed retail shop and its static information."""

    customer_code = models.CharField(
        _label("customer_code"), max_length=32, unique=True, validators=[validate_code]
    )
    store_name = models.CharField(_label("store_name"), max_length=200)
    license_number = models.CharField(
        _label("license_number"), max_length=32, unique=True, validators=[validate_code]
    )
    legal_representative = models.CharField(
        _label("legal_representative"), max_length=100, blank=True
    )
    business_scope = models.CharField(_label("business_scope"), max_length=200, blank=True)
    address = models.CharField(_label("address"), max_length=255, blank=True)
    # Normalised address, kept in step by the services, for the duplicate warning.
    address_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    business_format = models.CharField(
        _label("business_format"), max_length=1, choices=choices.BusinessFormat.choices
    )
    market_type = models.CharField(
        _label("market_type"), max_length=1, choices=choices.MarketType.choices
    )
    area = models.ForeignKey(
        "crm.Area", verbose_name=_label("area"), on_delete=models.PROTECT, related_name="customers"
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_label("account_manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        # Indexed by customers_manager_idx below, which carries the customer's id.
        db_index=False,
    )
    registered_capital = models.DecimalField(
        _label("registered_capital"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    premises = models.CharField(
        _label("premises"), max_length=10, choices=choices.Premises.choices, blank=True
    )
    floor_area_m2 = models.DecimalField(
        _label("floor_area_m2"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    license_type = models.CharField(
        _label("license_type"), max_length=10, choices=choices.LicenseType.choices, blank=True
    )
    issuing_bureau = models.CharField(_label("issuing_bureau"), max_length=100, blank=True)
    license_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_label("license_officer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    license_issue_date = models.DateField(_label("license_issue_date"), null=True, blank=True)
    license_expiry_date = models.DateField(_label("license_expiry_date"), null=True, blank=True)
    annual_review_date = models.DateField(_label("annual_review_date"), null=True, blank=True)
    is_monitored = models.BooleanField(_label("is_monitored"), default=False)
    # Three states: yes, no, or None when nobody has entered it. Unknown is not "no": the
    # valuation scores a missing flag as missing (the brief's "Unknown is not no").
    is_model_outlet = models.BooleanField(
        _label("is_model_outlet"), null=True, blank=True, default=None
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = CustomerQuerySet.as_manager()
    scope_paths = ScopePaths(area="area", owner="account_manager")

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["customer_code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(license_expiry_date__isnull=True)
                | models.Q(license_issue_date__isnull=True)
                | models.Q(license_expiry_date__gte=models.F("license_issue_date")),
                name="customers_expiry_not_before_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(registered_capital__isnull=True)
                | models.Q(registered_capital__gte=0),
                name="customers_registered_capital_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(floor_area_m2__isnull=True) | models.Q(floor_area_m2__gt=0),
                name="customers_floor_area_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["area", "account_manager"], name="customers_scope_idx"),
            # An account manager's customers, with their ids (PostgreSQL: INCLUDE): each of his
            # pages joins his ~300 shops to their plans, requests, system rows…, which the
            # index alone answers (5 pages read, not one heap page per shop).
            models.Index(fields=["account_manager"], include=["id"], name="customers_manager_idx"),
            models.Index(fields=["market_type", "business_format"], name="customers_group_idx"),
            models.Index(fields=["store_name"], name="customers_store_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_code} {self.store_name}"

    @staticmethod
    def audit_field_label(name: str) -> str:
        """The label of a field named in the customer's audit rows (its parts' fields
        included): the catalogue's, in the active language."""
        from customers.catalogue import field_label

        if name in AUDIT_ONLY_LABELS:
            return str(AUDIT_ONLY_LABELS[name])
        return field_label(name)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (
            self.license_issue_date
            and self.license_expiry_date
            and self.license_expiry_date < self.license_issue_date
        ):
            raise ValidationError(
                {"license_expiry_date": _("The expiry date cannot be before the issue date.")}
            )


class CustomerDynamic(models.Model):
    """Dynamic information: what changes with the shop's situation and the service model."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="dynamic"
    )
    status = models.CharField(
        _label("status"),
        max_length=10,
        choices=choices.CustomerStatus.choices,
        default=choices.CustomerStatus.ACTIVE,
    )
    phone = models.CharField(
        _label("phone"), max_length=32, blank=True, validators=[validate_phone], db_index=True
    )
    # The phone's digits without country prefix (`normalise_phone`), kept in step by the
    # services, for the company-wide duplicate check ("139-0000-0001" is 13900000001).
    phone_key = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    contact_person = models.CharField(_label("contact_person"), max_length=100, blank=True)
    payment_method = models.CharField(
        _label("payment_method"), max_length=20, choices=choices.PaymentMethod.choices, blank=True
    )
    bank_account = models.CharField(_label("bank_account"), max_length=64, blank=True)
    order_cycle = models.CharField(
        _label("order_cycle"), max_length=12, choices=choices.Cycle.choices, blank=True
    )
    visit_cycle = models.CharField(
        _label("visit_cycle"), max_length=12, choices=choices.Cycle.choices, blank=True
    )
    visit_batch = models.CharField(_label("visit_batch"), max_length=20, blank=True)
    order_batch = models.CharField(_label("order_batch"), max_length=20, blank=True)
    order_frequency = models.PositiveSmallIntegerField(
        _label("order_frequency"), null=True, blank=True, validators=[MaxValueValidator(31)]
    )
    delivery_route = models.CharField(_label("delivery_route"), max_length=50, blank=True)
    delivery_segment = models.CharField(_label("delivery_segment"), max_length=50, blank=True)
    delivery_person = models.CharField(_label("delivery_person"), max_length=100, blank=True)
    order_taker = models.CharField(_label("order_taker"), max_length=100, blank=True)
    outlet_size = models.CharField(
        _label("outlet_size"), max_length=10, choices=choices.OutletSize.choices, blank=True
    )
    operating_status = models.CharField(
        _label("operating_status"),
        max_length=12,
        choices=choices.OperatingStatus.choices,
        blank=True,
    )
    cooperation = models.CharField(
        _label("cooperation"), max_length=10, choices=choices.Cooperation.choices, blank=True
    )
    business_characteristics = models.CharField(
        _label("business_characteristics"), max_length=200, blank=True
    )
    trade_area = models.CharField(
        _label("trade_area"), max_length=12, choices=choices.TradeArea.choices, blank=True
    )
    credit_rating = models.CharField(
        _label("credit_rating"), max_length=3, choices=choices.CreditRating.choices, blank=True
    )
    home_address = models.CharField(_label("home_address"), max_length=255, blank=True)
    mailing_address = models.CharField(_label("mailing_address"), max_length=255, blank=True)
    care_need = models.CharField(
        _label("care_need"), max_length=14, choices=choices.CareNeed.choices, blank=True
    )
    owner_birthday = models.DateField(_label("owner_birthday"), null=True, blank=True)
    latitude = models.DecimalField(
        _label("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _label("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    class Meta:
        verbose_name = _("dynamic customer information")
        verbose_name_plural = _("dynamic customer information")
        indexes = [
            # The customer list's status filter: the statuses people filter by (suspended,
            # closed) are about 1% of the shops each; without it the list joined every
            # shop's dynamic row to find them (290 ms for a district's supervisor).
            models.Index(fields=["status"], name="customers_dynamic_status_idx"),
            # The care services due (services.selectors._due_rows), which read every shop's
            # dynamic row at 200,000 shops: the few with a care need (family service) …
            models.Index(
                fields=["customer"],
                condition=~models.Q(care_need=""),
                name="customers_dynamic_care_idx",
            ),
            # … and the owners whose birthday falls in the week (month and day, any year).
            models.Index(
                ExtractMonth("owner_birthday"),
                ExtractDay("owner_birthday"),
                condition=models.Q(owner_birthday__isnull=False),
                name="customers_dynamic_birthday_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} dynamic"


class CustomerSystem(models.Model):
    """System-generated figures: written only by jobs and order sync, never by a form or the API."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="system"
    )
    grade = models.PositiveSmallIntegerField(_label("grade"), null=True, blank=True)
    business_scale = models.CharField(
        _label("business_scale"), max_length=6, choices=choices.BusinessScale.choices, blank=True
    )
    category_code = models.CharField(_label("category_code"), max_length=3, blank=True)
    structure_class = models.PositiveSmallIntegerField(
        _label("structure_class"), null=True, blank=True
    )
    value_tier = models.CharField(
        _label("value_tier"), max_length=10, choices=choices.ValueTier.choices, blank=True
    )
    contribution_score = models.FloatField(_label("contribution_score"), null=True, blank=True)
    support_score = models.FloatField(_label("support_score"), null=True, blank=True)
    credit_score = models.FloatField(_label("credit_score"), null=True, blank=True)
    growth_score = models.FloatField(_label("growth_score"), null=True, blank=True)
    influence_score = models.FloatField(_label("influence_score"), null=True, blank=True)
    current_value = models.FloatField(_label("current_value"), null=True, blank=True)
    potential_value = models.FloatField(_label("potential_value"), null=True, blank=True)
    is_core = models.BooleanField(_label("is_core"), null=True, blank=True)
    is_problem = models.BooleanField(_label("is_problem"), null=True, blank=True)
    purchase_quantity = models.IntegerField(_label("purchase_quantity"), null=True, blank=True)
    purchase_amount = models.DecimalField(
        _label("purchase_amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    average_price = models.DecimalField(
        _label("average_price"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    e_settlement_rate = models.DecimalField(
        _label("e_settlement_rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    last_order_date = models.DateField(_label("last_order_date"), null=True, blank=True)
    # What the figures above were computed over, so an order sync can add its own batch to
    # them instead of reading every synced shop's facts again
    # (orders.services.purchase_figures_add): the window's e-settled amount (the rate alone
    # is rounded) and the first month of the window. Neither is shown anywhere.
    purchase_e_amount = models.DecimalField(
        _("e-settled purchase amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
    )
    purchase_window_start = models.DateField(
        _("purchase window start"), null=True, blank=True, editable=False
    )
    compliance_flag = models.BooleanField(_label("compliance_flag"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("system-generated customer information")
        verbose_name_plural = _("system-generated customer information")
        indexes = [
            models.Index(fields=["grade"], name="customers_system_grade_idx"),
            models.Index(fields=["value_tier"], name="customers_system_tier_idx"),
            # The customer list sorted by purchase amount (customers.filtersets joins the
            # system rows INNER for it): the page walks this index from the top instead of
            # hashing and sorting every system row (a district: 340 → 70 ms).
            models.Index(fields=["purchase_amount"], name="customers_system_purchase_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} system"


class ChangeRequest(models.Model):
    """A proposed change to fields that need a supervisor's approval.

    `changes` is a list of {"field", "old", "new"} in the catalogue's external form (codes,
    usernames, ISO dates), so a diff reads the same in pages and the API, and approval can tell
    whether a field moved since the request was made.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    reason = models.TextField(_("reason"))
    # Checked by content and stored under a random name (crm.uploads); served only by the
    # change_request_attachment view, to people who see the request.
    attachment = models.FileField(
        _("attachment"), upload_to=RandomName("change_requests"), blank=True
    )
    changes = models.JSONField(_("changes"), encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.ChangeRequestStatus.choices,
        default=choices.ChangeRequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # A comment the decider typed is kept as typed; one the system words (a stale request)
    # is a catalogue key and its parameters, shown in the reader's language.
    decision_comment = models.TextField(_("comment"), blank=True)
    decision_comment_key = models.CharField(_("comment key"), max_length=100, blank=True)
    decision_comment_params = models.JSONField(
        _("comment parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "customer"], name="customers_cr_status_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer.customer_code}"

    @property
    def fields(self) -> list[str]:
        return [item["field"] for item in self.changes]

    @property
    def decision_comment_text(self) -> str:
        return stored_text.shown(
            self.decision_comment_key, self.decision_comment_params, self.decision_comment
        )


class CustomerImport(models.Model):
    """One import of a customer file: its dry-run report, then whether it was applied."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    # Stored under a random name; `original_name` keeps the uploaded one. Never served.
    file = models.FileField(_("file"), upload_to=RandomName("imports"))
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.ImportStatus.choices,
        default=choices.ImportStatus.CHECKED,
    )
    report = models.JSONField(_("report"), default=dict, encoder=DjangoJSONEncoder)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    # Rows processed so far by the running check or apply (the page shows a progress bar).
    progress_done = models.PositiveIntegerField(_("rows processed"), default=0)
    progress_total = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def in_progress(self) -> bool:
        return self.status in (choices.ImportStatus.CHECKING, choices.ImportStatus.APPLYING)

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class DuplicateDismissal(models.Model):
    """Two customers someone with the right to judge (a supervisor, an administrator) said are
    not duplicates, with why: the duplicates page no longer lists the pair. The pair is kept
    with the lower id first, so it is stored once whichever way it was shown."""

    customer_a = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    customer_b = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("other customer")
    )
    reason = models.CharField(_("reason"), max_length=500)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed at"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissed duplicate")
        verbose_name_plural = _("dismissed duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="customers_dup_dismissal_pair_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")),
                name="customers_dup_dismissal_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_a_id}/{self.customer_b_id}"


class CustomerAlias(models.Model):
    """The code of a customer record merged into another (`customers.services.customer_merge`):
    the merged record is deleted, its code stays here naming the survivor, so the page, the
    list search, the API and the order sync still find the shop by it. A code is unique
    across customers and aliases: a customer cannot be created under an alias code."""

    code = models.CharField(_label("customer_code"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("surviving customer"),
        on_delete=models.CASCADE,
        related_name="aliases",
    )
    # The merged record's id (its audit rows still name it: the survivor's history reads
    # them through this) and its licence number, as they were.
    merged_id = models.PositiveBigIntegerField(_("merged record"), unique=True)
    license_number = models.CharField(_label("license_number"), max_length=32, blank=True)
    store_name = models.CharField(_label("store_name"), max_length=200, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    merged_by_label = models.CharField(_("merged by"), max_length=150, blank=True)
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("customer alias")
        verbose_name_plural = _("customer aliases")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} → {self.customer_id}"


class CatalogueVersion(models.Model):
    """A version of the administrators' overrides of the field catalogue (`customers.catalogue`
    stays the default): drafted, previewed, then activated; the active one is what every
    reader sees (`customers.catalogue.effective`). At most one draft and one active version;
    an activated version is never edited again (a new draft starts from it)."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SchemeStatus.choices,
        default=SchemeStatus.DRAFT,
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="draft"),
                name="customers_catalogue_one_draft",
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="customers_catalogue_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class CatalogueOverride(models.Model):
    """One field of a catalogue version that differs from the code's default: its maintenance
    class, change policy and whether it is needed to create a customer. The field's storage
    never changes."""

    version = models.ForeignKey(
        CatalogueVersion,
        verbose_name=_("catalogue version"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    field = models.CharField(_("field"), max_length=64)
    maintenance = models.CharField(
        _("class"), max_length=10, choices=choices.OverridableMaintenance.choices
    )
    policy = models.CharField(_("policy"), max_length=10, choices=choices.OverridablePolicy.choices)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("catalogue override")
        verbose_name_plural = _("catalogue overrides")
        ordering = ["version", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "field"], name="customers_catalogue_override_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.maintenance}/{self.policy}"
