"""Products, orders with their lines, and the monthly sales facts every computation reads.

Orders arrive from the ordering system (REST sync or a backfill file); the CRM never edits
them by hand. `MonthlySalesFact` is derived from orders and lines and is kept right by the
order services (and rebuildable from scratch), so grading, valuation and the customer page
read one small table instead of the order lines.

Scale: a province has ~200,000 shops ordering weekly, i.e. 100-300 million order lines a
year. Lines are kept narrow (no text, no per-line audit) and carry their order's `month`, the
key they would be partitioned by on PostgreSQL (see the README, "Orders at scale").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ScopePaths, SettingsRow
from crm.querysets import ScopedQuerySet
from orders.choices import OrderStatus, PaymentMethod, PriceClass

_money = {"max_digits": 14, "decimal_places": 2}
_price = {"max_digits": 10, "decimal_places": 2}


class OrdersConfig(SettingsRow):
    """The order settings administrators change: price-class bands, the low-tar limit and the
    window of the customers' purchase figures. One row (pk=1); `OrdersConfig.current()`.

    Defaults: the national price classes are set on the allocation price per carton (≥100,
    ≥70, ≥30, ≥16.5 CNY); the wholesale price retailers pay is about 1.3× that, hence
    130 / 90 / 40 / 22 CNY. Low tar: ≤ 8 mg per stick.
    """

    class_1_min = models.DecimalField(
        _("class 1 from (CNY per carton)"), default=Decimal("130.00"), **_price
    )
    class_2_min = models.DecimalField(
        _("class 2 from (CNY per carton)"), default=Decimal("90.00"), **_price
    )
    class_3_min = models.DecimalField(
        _("class 3 from (CNY per carton)"), default=Decimal("40.00"), **_price
    )
    class_4_min = models.DecimalField(
        _("class 4 from (CNY per carton)"), default=Decimal("22.00"), **_price
    )
    low_tar_max_mg = models.DecimalField(
        _("low tar: at most (mg per stick)"), max_digits=4, decimal_places=1, default=Decimal("8.0")
    )
    purchase_window_months = models.PositiveSmallIntegerField(
        _("purchase figures window (months)"),
        default=12,
        validators=[MinValueValidator(1)],
        help_text=_(
            "The customer's purchase quantity, amount, average price and e-settlement rate "
            "cover this many calendar months, the current one included."
        ),
    )
    # The plausible order dates: a sync or import refuses an order (or payment) dated outside
    # them, so a mistyped year can neither crash the monthly figures nor set a customer's last
    # order date to 9999.
    order_date_earliest = models.DateField(
        _("earliest order date accepted"),
        default=dt.date(2000, 1, 1),
        help_text=_("Orders and payments dated before this day are refused."),
    )
    order_date_days_ahead = models.PositiveSmallIntegerField(
        _("order dates accepted up to (days after today)"),
        default=31,
        help_text=_("Orders and payments dated more than this many days after today are refused."),
    )

    class Meta:
        verbose_name = _("order settings")
        verbose_name_plural = _("order settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(class_1_min__gt=models.F("class_2_min"))
                & models.Q(class_2_min__gt=models.F("class_3_min"))
                & models.Q(class_3_min__gt=models.F("class_4_min"))
                & models.Q(class_4_min__gt=0),
                name="orders_config_bands_descending",
            ),
        ]

    def order_date_range(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The first and the last day an order or its payment may be dated."""
        return self.order_date_earliest, today + dt.timedelta(days=self.order_date_days_ahead)

    def price_class_for(self, wholesale_price: Decimal) -> int:
        """The price class (1 best … 5) of a wholesale price per carton."""
        for price_class, minimum in (
            (1, self.class_1_min),
            (2, self.class_2_min),
            (3, self.class_3_min),
            (4, self.class_4_min),
        ):
            if wholesale_price >= minimum:
                return price_class
        return 5


class Product(models.Model):
    """A cigarette specification (卷烟规格), kept in sync by the ordering system."""

    code = models.CharField(_("product code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=50, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    wholesale_price = models.DecimalField(_("wholesale price per carton"), **_price)
    # What shops are asked to sell at (建议零售价); retail audits compare the prices they see.
    suggested_retail_price = models.DecimalField(
        _("suggested retail price per carton"), null=True, blank=True, **_price
    )
    price_class = models.PositiveSmallIntegerField(_("price class"), choices=PriceClass.choices)
    tar_mg = models.DecimalField(
        _("tar (mg)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    is_key_brand = models.BooleanField(_("key brand"), default=False)
    is_new_product = models.BooleanField(_("new product"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(wholesale_price__gte=0), name="orders_product_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Order(models.Model):
    """One order of a customer, as the ordering system (`source`) sent it.

    `cartons`, `amount` and `line_count` are the sums of its lines; `content_hash` digests
    everything a sync may send, so a replayed order is recognised without reading its lines.
    """

    source = models.CharField(
        _("source"), max_length=150, help_text=_("The integration client that sent the order")
    )
    external_id = models.CharField(_("order number"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # served by orders_order_cust_date_id_idx
    )
    order_date = models.DateField(_("order date"))
    month = models.DateField(_("month"), help_text=_("First day of the order's month"))
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices)
    payment_method = models.CharField(
        _("payment method"), max_length=10, choices=PaymentMethod.choices
    )
    paid_on_time = models.BooleanField(_("paid on time"), null=True, blank=True)
    payment_date = models.DateField(_("payment date"), null=True, blank=True)
    cartons = models.PositiveIntegerField(_("cartons"))
    amount = models.DecimalField(_("amount"), **_money)
    line_count = models.PositiveIntegerField(_("lines"))
    content_hash = models.CharField(max_length=32, editable=False)
    # A digest of the order exactly as the sync received it, bound to `content_hash`
    # (`orders.sync.sent_hash`): a replay whose every order is the text already stored is
    # recognised before any checking. Empty for orders stored otherwise (a bulk load, rows
    # from before it existed, rows written in SQL): those take the full checks; and one whose
    # content another writer changed no longer matches.
    sent_hash = models.CharField(max_length=32, blank=True, db_default="", editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="orders_order_source_external_id_uniq"
            ),
        ]
        indexes = [
            # A customer's orders by date; with the id, an account manager's deep order page
            # finds its 50 ids in this index alone (crm.paginators.DeepPagePaginator).
            models.Index(
                fields=["customer", "order_date", "id"], name="orders_order_cust_date_id_idx"
            ),
            # The order list's sort (newest first: -order_date, -id) read backwards, so a page
            # is the index's first 50 entries; date ranges use it too. order_date alone left
            # an incremental sort of every order of the latest day (57 ms at 400,000 orders).
            models.Index(fields=["order_date", "id"], name="orders_order_date_id_idx"),
            # The order list filtered by status (placed: 5% of orders), newest first: the page
            # and its capped count walk that status's entries alone instead of reading every
            # order (a district's placed orders: 170-250 → 80-130 ms). Costs the sync about
            # as much as orders_order_date_id_idx (bench/README.md, "List pages").
            models.Index(
                fields=["status", "order_date", "id"], name="orders_order_status_date_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def counts(self) -> bool:
        """Whether the order counts in sales figures (cancelled and returned ones do not)."""
        return self.status in OrderStatus.counted()


class OrderLine(models.Model):
    """One product of an order: cartons × unit price = amount (amount may carry a discount)."""

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,  # served by orders_line_order_product_uniq
        # No database foreign key (like the product's, below): PostgreSQL checks one per
        # line at commit, a deferred trigger each, which cost as much again as the COPY of
        # the lines (bench/bench_order_sync.py: "with its foreign keys"). Lines are written
        # only by the order services, for orders they inserted or locked (`SELECT … FOR
        # UPDATE`) in the same transaction; orders are never deleted (customers PROTECT
        # them, nothing else deletes one), and if one were, Django's CASCADE deletes its
        # lines first.
        db_constraint=False,
    )
    # The order's month, repeated: the partition key of lines on PostgreSQL at scale.
    month = models.DateField(_("month"))
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
        # No index: at 100-300 M lines a year it would cost every insert, and no page reads
        # lines by product (facts carry the per-product-class figures).
        db_index=False,
        # No database foreign key either: PostgreSQL checks one per line at commit, which was
        # a quarter of an order sync's time (bench/bench_order_sync.py). The sync resolves
        # every product code to an id in the same transaction, products are never deleted
        # (PROTECT is still enforced by Django), and the order foreign key stays.
        db_constraint=False,
    )
    cartons = models.PositiveIntegerField(_("cartons"))
    unit_price = models.DecimalField(_("unit price"), **_price)
    amount = models.DecimalField(_("amount"), **_money)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product"], name="orders_line_order_product_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(cartons__gt=0), name="orders_line_cartons_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.product_id} × {self.cartons}"


class SalesFactPending(models.Model):
    """A (customer, month) whose monthly sales fact is out of date: written in the same
    transaction as the orders that made it so (a batch of `import_orders`, a bulk load of
    demo orders), deleted in the transaction that refreshes the fact
    (`orders.services.sales_facts_pending_drain`). So a load that stops half-way leaves a
    durable list of what to refresh, never a wrong fact that a rerun — seeing its orders
    unchanged — would not touch again."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # served by orders_fact_pending_uniq
    )
    month = models.DateField(_("month"))
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now)

    class Meta:
        verbose_name = _("sales fact to refresh")
        verbose_name_plural = _("sales facts to refresh")
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="orders_fact_pending_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class MonthlySalesFact(models.Model):
    """A customer's purchases in one calendar month, from its placed and delivered orders.

    Kept right by the order services whenever an order arrives, changes or is cancelled, and
    rebuilt from scratch by `rebuild_sales_facts`. Product attributes (price class, key brand,
    new product, tar) are read as they are now: changing them rebuilds the facts.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="sales_facts",
        db_index=False,  # served by orders_fact_customer_month_uniq
    )
    month = models.DateField(_("month"))
    cartons = models.PositiveIntegerField(_("cartons"))
    amount = models.DecimalField(_("amount"), **_money)
    orders = models.PositiveIntegerField(_("orders"))
    lines = models.PositiveIntegerField(_("lines"))
    class_1_cartons = models.PositiveIntegerField(_("class 1 cartons"))
    class_2_cartons = models.PositiveIntegerField(_("class 2 cartons"))
    class_3_cartons = models.PositiveIntegerField(_("class 3 cartons"))
    class_4_cartons = models.PositiveIntegerField(_("class 4 cartons"))
    class_5_cartons = models.PositiveIntegerField(_("class 5 cartons"))
    key_brand_cartons = models.PositiveIntegerField(_("key-brand cartons"))
    new_product_cartons = models.PositiveIntegerField(_("new-product cartons"))
    low_tar_cartons = models.PositiveIntegerField(_("low-tar cartons"))
    electronic_orders = models.PositiveIntegerField(_("e-settled orders"))
    electronic_amount = models.DecimalField(_("e-settled amount"), **_money)
    # Orders whose payment is known to have come on time / late (unknown ones in neither).
    on_time_orders = models.PositiveIntegerField(_("orders paid on time"), default=0)
    late_orders = models.PositiveIntegerField(_("orders paid late"), default=0)
    first_order_date = models.DateField(_("first order date"))
    last_order_date = models.DateField(_("last order date"))

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="customer__area", owner="customer__account_manager")

    class Meta:
        verbose_name = _("monthly sales fact")
        verbose_name_plural = _("monthly sales facts")
        ordering = ["customer", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"], name="orders_fact_customer_month_uniq"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="orders_fact_month_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"

    @property
    def average_price(self) -> Decimal | None:
        """Amount per carton (单条值)."""
        return (self.amount / self.cartons).quantize(Decimal("0.01")) if self.cartons else None

    @property
    def e_settlement_share(self) -> Decimal | None:
        """Share of the amount settled electronically (0-1)."""
        if not self.amount:
            return None
        return (self.electronic_amount / self.amount).quantize(Decimal("0.0001"))

    def class_cartons(self) -> list[int]:
        return [getattr(self, f"class_{n}_cartons") for n in range(1, 6)]


FACT_CLASS_FIELDS = [f"class_{n}_cartons" for n in range(1, 6)]
