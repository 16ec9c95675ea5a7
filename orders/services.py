"""Writes of products, orders and the monthly sales facts derived from them.

Order sync is the hot path (1,000 orders × 20 lines per request), so it is set-based:
codes are resolved in two queries per batch, new orders are inserted with one
`INSERT … ON CONFLICT DO NOTHING RETURNING` per chunk, existing ones are locked in key
order and compared by content hash, lines go in with COPY on PostgreSQL, and the facts of
the touched (customer, month) pairs are recomputed with one INSERT … SELECT. Uniqueness
comes from the database constraint on (source, external_id), never from look-ups.

Concurrency (PostgreSQL, READ COMMITTED): an INSERT that meets another transaction's
uncommitted row waits for it, then sees it committed; existing rows are locked
(`SELECT … FOR UPDATE`, sorted) before they are compared, so two syncs of the same order
serialise and the later one sees the earlier one's lines. Facts are recomputed after the
customers' `CustomerSystem` rows are locked (sorted), so the aggregate runs on a snapshot
that includes every committed order of those customers: no lost update.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.usage import OrderBefore, RecordedOrder, orders_recorded
from crm import faults
from crm.choices import AuditAction
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.pgarrays import array_literal
from crm.services import Actor, AuditRow, audit_build, audit_insert_many
from crm.text import is_storable
from customers.models import Customer, CustomerSystem
from customers.selectors import customer_ids_by_alias
from orders.choices import OrderStatus, PaymentMethod
from orders.models import (
    MonthlySalesFact,
    Order,
    OrderLine,
    OrdersConfig,
    Product,
    SalesFactPending,
)
from orders.sync import (
    CleanOrder,
    ItemError,
    Seen,
    clean_order,
    content_hash,
    iso_date,
    money,
    sent_digest,
    sent_hash,
    text,
    unknown_fields,
)

log = logging.getLogger(__name__)

MAX_ORDERS_PER_SYNC = 1000
MAX_PRODUCTS_PER_SYNC = 1000
# Rows per INSERT statement: 16 parameters each stays far below PostgreSQL's 65,535 limit.
_INSERT_CHUNK = 1000
# (customer, month) pairs per facts statement: keeps the VALUES list and the plan small.
_FACT_KEYS_CHUNK = 2000
_DEADLOCK_RETRIES = 3
# Pending (customer, month) facts refreshed per transaction by the drain: a few seconds of
# work each, so a stop half-way loses little and holds the customers' locks briefly.
_PENDING_PER_TRANSACTION = 5000

Key = tuple[int, dt.date]  # (customer_id, month)
T = TypeVar("T")


def _deadlock_retried(work: Callable[[], T], what: str) -> T:
    """Runs `work` in a transaction, again (up to three times) when PostgreSQL aborts it as
    one side of a deadlock (two writers locking the same rows in different orders): nothing
    of it stuck, so it is run again."""
    for attempt in range(1, _DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            if getattr(getattr(exc, "__cause__", None), "sqlstate", None) != "40P01":
                raise
            if attempt == _DEADLOCK_RETRIES:
                raise
            log.warning("%s deadlocked; retrying (attempt %d)", what, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


# --- reports ---------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync did: counts and the items refused (index, key, errors by field)."""

    key_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Orders stored but worth a word (the order sync's over-allocations); None: the sync has
    # no warnings to give, and its answer no "warnings" key.
    warnings: list[dict[str, Any]] | None = None

    def refuse(self, index: int, key: Any, errors: Mapping[str, list[str]]) -> None:
        # The key as sent, unless it is no key or text no response can carry.
        key = (
            None
            if key is None or isinstance(key, dict | list) or not is_storable(key)
            else str(key)
        )
        self.errors.append({"index": index, self.key_name: key, "errors": dict(errors)})

    def as_dict(self) -> dict[str, Any]:
        answer = {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": sorted(self.errors, key=lambda e: e["index"]),
        }
        if self.warnings is not None:
            answer["warnings"] = self.warnings
        return answer


# --- settings --------------------------------------------------------------------------

PURCHASE_WINDOW_MAX_MONTHS = 36
# The widest order-date range administrators may set: far enough back for any backfill, and
# far enough from year 1 that no month arithmetic on the orders leaves the calendar.
ORDER_DATE_EARLIEST_MIN = dt.date(1900, 1, 1)
ORDER_DATE_DAYS_AHEAD_MAX = 366
CONFIG_FIELDS = (
    "class_1_min",
    "class_2_min",
    "class_3_min",
    "class_4_min",
    "low_tar_max_mg",
    "purchase_window_months",
    "order_date_earliest",
    "order_date_days_ahead",
)


@transaction.atomic
def orders_config_update(*, data: Mapping[str, Any], actor: Actor) -> OrdersConfig:
    """Changes the order settings; re-derives product price classes and refreshes what
    depends on them (facts, purchase figures) in the background. Audited per field."""
    config = OrdersConfig.objects.select_for_update().get(pk=OrdersConfig.current().pk)
    errors: dict[str, list[str]] = {}
    new: dict[str, Any] = {}
    for name in CONFIG_FIELDS:
        value = data.get(name, getattr(config, name))
        try:
            if name == "purchase_window_months":
                value = _whole_number(value)
                if not 1 <= value <= PURCHASE_WINDOW_MAX_MONTHS:
                    raise ValueError(
                        _("Between 1 and %(n)d months.") % {"n": PURCHASE_WINDOW_MAX_MONTHS}
                    )
            elif name == "order_date_days_ahead":
                value = _whole_number(value)
                if value > ORDER_DATE_DAYS_AHEAD_MAX:
                    raise ValueError(
                        _("Between 0 and %(n)d days.") % {"n": ORDER_DATE_DAYS_AHEAD_MAX}
                    )
            elif name == "order_date_earliest":
                value = _earliest_order_date(value)
            elif name == "low_tar_max_mg":
                value = money(value, maximum=Decimal("99.9"), places=1)
            else:
                value = money(value)
                if value <= 0:
                    raise ValueError(_("Must be more than 0."))
        except ValueError as exc:
            errors[name] = [str(exc)]
        new[name] = value
    if not errors:
        bands = [new[f"class_{n}_min"] for n in range(1, 5)]
        for n in range(1, 4):
            if bands[n - 1] <= bands[n]:
                # On the lower band: the one to fix when a person raised it too far.
                errors[f"class_{n + 1}_min"] = [
                    _("Must be below the start of class %(above)d (%(value)s).")
                    % {"above": n, "value": bands[n - 1]}
                ]
    if errors:
        raise DomainError(_("Check the highlighted settings."), errors=errors)

    changes = {
        name: (str(getattr(config, name)), str(value))
        for name, value in new.items()
        if getattr(config, name) != value
    }
    if not changes:
        return config
    for name, value in new.items():
        setattr(config, name, value)
    config.updated_at = timezone.now()
    config.updated_by = actor.user
    config.save()
    AuditEntry.objects.bulk_create(
        audit_build(actor=actor, obj=config, action=AuditAction.UPDATE, changes=changes)
    )
    reclassified = products_reclassify(config=config)
    if reclassified or "low_tar_max_mg" in changes:
        _enqueue_facts_rebuild()
    elif "purchase_window_months" in changes:
        _enqueue_purchase_refresh()
    return config


def _whole_number(value: Any) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError(_("Expected a whole number."))
    return int(value)


def _earliest_order_date(value: Any) -> dt.date:
    if not isinstance(value, dt.date):
        value = iso_date(value)
    today = timezone.localdate()
    if not ORDER_DATE_EARLIEST_MIN <= value <= today:
        raise ValueError(
            _("Between %(least)s and today.") % {"least": ORDER_DATE_EARLIEST_MIN.isoformat()}
        )
    return value


def products_reclassify(*, config: OrdersConfig) -> int:
    """Sets every product's price class from the current bands; returns how many changed."""
    changed = []
    for product in Product.objects.only("id", "wholesale_price", "price_class"):
        price_class = config.price_class_for(product.wholesale_price)
        if price_class != product.price_class:
            product.price_class = price_class
            changed.append(product)
    Product.objects.bulk_update(changed, ["price_class"], batch_size=500)
    return len(changed)


# --- products --------------------------------------------------------------------------

_PRODUCT_FIELDS = (
    "name",
    "brand",
    "manufacturer",
    "wholesale_price",
    "suggested_retail_price",
    "tar_mg",
    "is_key_brand",
    "is_new_product",
    "active",
)
# A change of these changes what the monthly facts count.
_FACT_PRODUCT_FIELDS = frozenset({"price_class", "tar_mg", "is_key_brand", "is_new_product"})


def _clean_product(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ItemError({"non_field_errors": [_("Each product must be a JSON object.")]})
    clean: dict[str, Any] = {}
    parsers: dict[str, Callable[[Any], Any]] = {
        "code": lambda v: text(v, max_length=32),
        "name": lambda v: text(v, max_length=100),
        "wholesale_price": money,
        "suggested_retail_price": _optional_positive_price,
        "brand": lambda v: text(v, max_length=50, required=False),
        "manufacturer": lambda v: text(v, max_length=100, required=False),
        "tar_mg": lambda v: (
            None if v in (None, "") else money(v, maximum=Decimal("99.9"), places=1)
        ),
        "is_key_brand": _strict_bool,
        "is_new_product": _strict_bool,
        "active": _strict_bool,
    }
    errors = unknown_fields(raw, parsers.keys())
    for name, parse in parsers.items():
        # Left out: the required three are errors; the others keep their value.
        if name not in raw and name not in ("code", "name", "wholesale_price"):
            continue
        try:
            clean[name] = parse(raw.get(name))
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ItemError(errors)
    return clean


def _optional_positive_price(value: Any) -> Decimal | None:
    """The suggested retail price per carton: optional (null clears it), above zero."""
    if value is None or value == "":
        return None
    price = money(value)
    if price <= 0:
        raise ValueError(_("Must be above zero."))
    return price


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("Expected true or false."))
    return value


def product_upsert_many(*, rows: Sequence[Any], actor: Actor) -> SyncReport:
    """Creates or updates products by code. A bad item is reported, the others stored;
    a replay changes nothing. Audited per field. Facts are rebuilt (in the background) when a
    product's price class, tar or flags changed."""
    try:
        with transaction.atomic():
            return _product_upsert(rows, actor)
    except IntegrityError:
        # A concurrent sync created one of these codes first; run again, now as updates.
        with transaction.atomic():
            return _product_upsert(rows, actor)


def _product_upsert(rows: Sequence[Any], actor: Actor) -> SyncReport:
    report = SyncReport(key_name="code")
    config = OrdersConfig.current()
    clean: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(rows):
        try:
            item = _clean_product(raw)
        except ItemError as exc:
            report.refuse(index, raw.get("code") if isinstance(raw, Mapping) else None, exc.errors)
            continue
        if item["code"] in seen:
            report.refuse(
                index,
                item["code"],
                {"code": [_("Also at index %(i)d of this request.") % {"i": seen[item["code"]]}]},
            )
            continue
        seen[item["code"]] = index
        clean.append((index, item))

    existing = {p.code: p for p in Product.objects.select_for_update().filter(code__in=seen)}
    now = timezone.now()
    creates: list[Product] = []
    updates: list[Product] = []
    audits: list[AuditEntry] = []
    facts_stale = False
    for _index, item in clean:
        product = existing.get(item["code"])
        if product is None:
            product = Product(code=item["code"], created_at=now, updated_at=now)
            for name in _PRODUCT_FIELDS:
                if name in item:
                    setattr(product, name, item[name])
            product.price_class = config.price_class_for(product.wholesale_price)
            creates.append(product)
            report.created += 1
            continue
        changes = {}
        for name in _PRODUCT_FIELDS:
            if name in item and getattr(product, name) != item[name]:
                changes[name] = (getattr(product, name), item[name])
                setattr(product, name, item[name])
        price_class = config.price_class_for(product.wholesale_price)
        if price_class != product.price_class:
            changes["price_class"] = (product.price_class, price_class)
            product.price_class = price_class
        if not changes:
            report.unchanged += 1
            continue
        facts_stale = facts_stale or bool(_FACT_PRODUCT_FIELDS & changes.keys())
        product.updated_at = now
        updates.append(product)
        audits += audit_build(
            actor=actor,
            obj=product,
            action=AuditAction.UPDATE,
            changes={k: (_jsonable(old), _jsonable(new)) for k, (old, new) in changes.items()},
        )
        report.updated += 1
    Product.objects.bulk_create(creates, batch_size=500)
    for product in creates:
        audits += audit_build(
            actor=actor,
            obj=product,
            action=AuditAction.CREATE,
            snapshot={
                name: _jsonable(getattr(product, name))
                for name in ("code", *_PRODUCT_FIELDS, "price_class")
            },
        )
    Product.objects.bulk_update(updates, [*_PRODUCT_FIELDS, "price_class", "updated_at"])
    AuditEntry.objects.bulk_create(audits, batch_size=500)
    if facts_stale:
        _enqueue_facts_rebuild()
    return report


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# --- orders ----------------------------------------------------------------------------


def order_sync_many(
    *,
    rows: Sequence[Any],
    source: str,
    actor: Actor,
    refresh_facts: bool = True,
    dry_run: bool = False,
) -> SyncReport:
    """Creates, replaces or leaves alone orders by (source, external_id).

    Each order is all-or-nothing: a bad one is reported (`errors`, by index) and the others
    are stored, in one transaction. A replay reports every order unchanged and writes
    nothing (an order sent exactly as it was stored is known by one query before any
    checking: `_replayed`); a changed order replaces its lines. With `refresh_facts` the
    monthly facts and purchase figures of the touched customers are brought up to date in the same
    transaction; otherwise the touched (customer, month) pairs are marked pending in the
    same transaction (`SalesFactPending`), for `sales_facts_pending_drain` to refresh later
    (the backfill command does that once at the end): a load that stops half-way leaves the
    marks of every batch it stored, never a fact nobody will refresh.
    `dry_run` checks and counts what would happen, and writes nothing.
    """
    report = SyncReport(key_name="external_id", warnings=[])
    valid = _clean_orders(rows, report, source)
    if not valid:
        return report
    if dry_run:
        hashes = dict(
            Order.objects.filter(
                source=source, external_id__in=[o.external_id for o in valid]
            ).values_list("external_id", "content_hash")
        )
        for order in valid:
            known = hashes.get(order.external_id)
            if known is None:
                report.created += 1
            elif known == order.content_hash:
                report.unchanged += 1
            else:
                report.updated += 1
        return report

    def store() -> _Outcome:
        outcome = _store_orders(valid, source=source, actor=actor)
        if refresh_facts:
            sales_facts_add(
                orders=[order for _pk, order in outcome.stored], removed=outcome.removed
            )
        else:
            sales_facts_mark_pending(keys=outcome.keys)
        # The quotas the orders use (supply allocation): recounted, and the orders that took
        # a shop past its quota reported — never refused, the order happened upstream.
        counted = set(OrderStatus.counted())
        outcome.warnings = orders_recorded(
            orders=[
                RecordedOrder(
                    index=o.index,
                    order_id=pk,
                    external_id=o.external_id,
                    customer_id=o.customer_id,
                    order_date=o.order_date,
                    lines=[(line[0], line[1]) for line in o.lines],
                    counted=o.status in counted,
                    before=outcome.before.get(pk),
                )
                for pk, o in outcome.stored
            ]
        )
        return outcome

    # Two syncs locking the same orders in different orders deadlock; one is run again.
    outcome = _deadlock_retried(store, "Order sync")
    report.created += outcome.created
    report.updated += outcome.updated
    report.unchanged += outcome.unchanged
    report.warnings = outcome.warnings
    return report


def _clean_orders(rows: Sequence[Any], report: SyncReport, source: str) -> list[CleanOrder]:
    """The orders to store, checked (`clean_order`); the refused ones go to `report`, and so
    do the replayed ones (counted unchanged, see `_replayed`)."""
    # Codes the database cannot hold are not looked up: `clean_order` refuses them.
    customer_codes = set()
    digests: list[str | None] = []
    for raw in rows:
        digests.append(sent_digest(raw))
        if isinstance(raw, Mapping) and isinstance(raw.get("customer_code"), str):
            customer_codes.add(raw["customer_code"].strip())
    customers = _ids_by_code(Customer._meta.db_table, "customer_code", customer_codes)
    if unknown := {code for code in customer_codes - customers.keys() if is_storable(code)}:
        # The code of a customer record merged into another names the survivor (one more
        # query, only when a code is not a customer's): its orders go on arriving under it.
        customers.update(customer_ids_by_alias(codes=unknown))
    dates = OrdersConfig.current().order_date_range(timezone.localdate())
    replayed = _replayed(rows, digests, source=source, customers=customers, dates=dates)
    # The codes as sent first (a few hundred distinct among thousands of lines), then
    # stripped; a line that is a plain dict (all of a JSON body's) spares the ABC check.
    sent_codes = set()
    for index, raw in enumerate(rows):
        if index not in replayed and isinstance(raw, Mapping):
            lines = raw.get("lines")
            if isinstance(lines, list):
                sent_codes.update(
                    code
                    for line in lines
                    if (type(line) is dict or isinstance(line, Mapping))
                    and isinstance(code := line.get("product_code"), str)
                )
    product_codes = {code.strip() for code in sent_codes}
    products = _ids_by_code(Product._meta.db_table, "code", product_codes)
    valid: list[CleanOrder] = []
    first_index: dict[str, int] = {}
    seen = Seen()
    for index, raw in enumerate(rows):
        external_id = replayed.get(index)
        if external_id is None:
            try:
                order = clean_order(
                    raw, index=index, customers=customers, products=products, dates=dates, seen=seen
                )
            except ItemError as exc:
                report.refuse(
                    index, raw.get("external_id") if isinstance(raw, Mapping) else None, exc.errors
                )
                continue
            external_id = order.external_id
        if external_id in first_index:
            report.refuse(
                index,
                external_id,
                {
                    "external_id": [
                        _("This order is also at index %(i)d of this request.")
                        % {"i": first_index[external_id]}
                    ]
                },
            )
            continue
        first_index[external_id] = index
        if index in replayed:
            report.unchanged += 1
        else:
            order.sent_hash = sent_hash(digests[index], order.content_hash)
            valid.append(order)
    return valid


def _ids_by_code(table: str, column: str, codes: set[str]) -> dict[str, int]:
    """{code: id} of the rows of `table` whose `column` is one of `codes` (those the database
    cannot hold are not looked up: `clean_order` refuses them). On PostgreSQL the codes go as
    one array: psycopg spent milliseconds splitting a placeholder per code."""
    codes = sorted(code for code in codes if is_storable(code))
    if not codes:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {column}, id FROM {table} WHERE {column} = ANY(%s::text[])",  # noqa: S608
                [array_literal(codes, "text")],
            )
        else:
            marks = ", ".join(["%s"] * len(codes))
            cursor.execute(f"SELECT {column}, id FROM {table} WHERE {column} IN ({marks})", codes)  # noqa: S608
        return dict(cursor.fetchall())


def _replayed(
    rows: Sequence[Any],
    digests: Sequence[str | None],
    *,
    source: str,
    customers: Mapping[str, int],
    dates: tuple[dt.date, dt.date],
) -> dict[int, str]:
    """The items (index -> order number) that are replays of a stored order: sent exactly as
    it was stored (the same `sent_digest`, bound to the content stored: `sent_hash`), so
    checking them again would give what is stored and storing them would change nothing.
    One query, before any checking; the lines are not read.

    The same text is *not* a replay, and is checked in full, when what the checks compare it
    with has changed since: its customer code now names another customer or none, or its
    order or payment date is outside the dates accepted today (`OrdersConfig`). The checks'
    own rules are in the digest (`orders.sync._SENT_DIGEST_PERSON`). A replay of an order
    that another sync is changing at this moment reads the last committed version, unlocked:
    it is reported unchanged as of that version (as if it had come just before the other)."""
    keys: dict[int, str] = {}
    for index, digest in enumerate(digests):
        if digest is not None and type(number := rows[index].get("external_id")) is str:
            number = number.strip()
            if number and len(number) <= Order._meta.get_field("external_id").max_length:
                keys[index] = number
    wanted = sorted({number for number in keys.values() if is_storable(number)})
    if not wanted:
        return {}
    table = Order._meta.db_table
    columns = "external_id, sent_hash, content_hash, customer_id, order_date, payment_date"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array, not a placeholder per order
            cursor.execute(
                f"SELECT {columns} FROM {table} "  # noqa: S608 - names are ours
                "WHERE source = %s AND external_id = ANY(%s::text[]) AND sent_hash <> ''",
                [source, array_literal(wanted, "text")],
            )
        else:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE source = %s "  # noqa: S608
                f"AND external_id IN ({', '.join(['%s'] * len(wanted))}) "
                "AND sent_hash <> ''",
                [source, *wanted],
            )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
    first, last = dates
    replayed: dict[int, str] = {}
    for index, number in keys.items():
        row = stored.get(number)
        if row is None or row[0] != sent_hash(digests[index], row[1]):
            continue
        _sent, _content, customer_id, order_date, payment_date = row
        code = rows[index].get("customer_code")
        if (
            type(code) is str
            and customers.get(code.strip()) == customer_id
            and first <= order_date <= last
            and (payment_date is None or first <= payment_date <= last)
        ):
            replayed[index] = number
    return replayed


@dataclass
class _Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    keys: set[Key] = field(default_factory=set)
    # The orders written (id, order): new and replaced ones.
    stored: list[tuple[int, CleanOrder]] = field(default_factory=list)
    # What the replaced orders were, by id (their shop, date, status and lines).
    before: dict[int, OrderBefore] = field(default_factory=dict)
    # What the replaced orders that counted were (their facts lose them); their lines'
    # prices and amounts are not read (0).
    removed: list[CleanOrder] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


_ORDER_COLUMNS = (
    "source",
    "external_id",
    "customer_id",
    "order_date",
    "month",
    "status",
    "payment_method",
    "paid_on_time",
    "payment_date",
    "cartons",
    "amount",
    "line_count",
    "content_hash",
    "sent_hash",
    "created_at",
    "updated_at",
)


# What a changed order replaces: everything but its key and when it was first stored.
_ORDER_REPLACED_COLUMNS = [
    c for c in _ORDER_COLUMNS if c not in ("source", "external_id", "created_at")
]
_ORDER_REPLACED_AT = [_ORDER_COLUMNS.index(c) for c in _ORDER_REPLACED_COLUMNS]


def _order_row(order: CleanOrder, source: str, now: dt.datetime) -> tuple:
    """The values of `_ORDER_COLUMNS` of a checked order stored (or replaced) at `now`."""
    return (
        source,
        order.external_id,
        order.customer_id,
        order.order_date,
        order.month,
        order.status,
        order.payment_method,
        order.paid_on_time,
        order.payment_date,
        order.cartons,
        order.amount,
        len(order.lines),
        order.content_hash,
        order.sent_hash,
        now,
        now,
    )


def _store_orders(valid: list[CleanOrder], *, source: str, actor: Actor) -> _Outcome:
    outcome = _Outcome()
    now = timezone.now()
    # Key order everywhere, so two syncs lock shared orders in the same order.
    valid = sorted(valid, key=lambda o: o.external_id)
    by_external_id = {o.external_id: o for o in valid}

    # 1. New orders: inserted; those that exist (or that a concurrent sync inserts first)
    #    are skipped here and handled as existing below.
    created_ids: dict[str, int] = {}
    table = Order._meta.db_table
    columns = ", ".join(_ORDER_COLUMNS)
    with connection.cursor() as cursor:
        for start in range(0, len(valid), _INSERT_CHUNK):
            chunk = valid[start : start + _INSERT_CHUNK]
            rows = [_order_row(o, source, now) for o in chunk]
            if connection.vendor == "postgresql":
                # One array per column, not 16 parameters per order (psycopg spent 30-40 ms
                # splitting the placeholders of a 15,000-parameter statement), written by
                # `array_literal`; the source and the two times, the same for every order
                # (the first and the last two columns), once.
                varying = _ORDER_COLUMNS[1:-2]
                arrays = ", ".join(f"%s::{_ORDER_COLUMN_TYPES[c]}[]" for c in varying)
                sql = (
                    f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names are ours
                    f"SELECT %s, v.*, %s, %s FROM unnest({arrays}) AS v"
                )
                values_by_column = list(zip(*rows, strict=True))[1:-2]
                params: list[Any] = [
                    source,
                    now,
                    now,
                    *(
                        array_literal(values, _ORDER_COLUMN_TYPES[column])
                        for column, values in zip(varying, values_by_column, strict=True)
                    ),
                ]
            else:
                row_marks = "(" + ", ".join(["%s"] * len(_ORDER_COLUMNS)) + ")"
                values = ", ".join([row_marks] * len(chunk))
                sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
                params = [value for row in rows for value in row]
            cursor.execute(
                f"{sql} ON CONFLICT (source, external_id) DO NOTHING RETURNING id, external_id",
                params,
            )
            created_ids.update((external_id, pk) for pk, external_id in cursor.fetchall())

    # 2. Existing orders: locked, compared by content hash, replaced when they differ.
    existing_keys = [o.external_id for o in valid if o.external_id not in created_ids]
    existing = {row[1]: row for row in _lock_orders(source, existing_keys)}
    changed: list[tuple[CleanOrder, tuple]] = []
    for external_id in existing_keys:
        row = existing[external_id]
        order = by_external_id[external_id]
        if row[2] == order.content_hash:
            outcome.unchanged += 1
        else:
            changed.append((order, row))

    line_orders: list[tuple[int, CleanOrder]] = [
        (pk, by_external_id[external_id]) for external_id, pk in created_ids.items()
    ]
    if changed:
        old_lines = _replace_orders(changed, source=source, actor=actor, now=now)
        counted = set(OrderStatus.counted())
        outcome.before = {
            row[0]: OrderBefore(
                customer_id=row[3],
                order_date=row[8],
                counted=row[5] in counted,
                lines=old_lines[row[0]],
            )
            for _order, row in changed
        }
        line_orders += [(row[0], order) for order, row in changed]
        outcome.keys.update((row[3], row[4]) for _order, row in changed)
        # The facts these orders counted in lose them.
        outcome.removed = [
            CleanOrder(
                index=order.index,
                external_id=row[1],
                customer_id=row[3],
                order_date=row[8],
                month=row[4],
                status=row[5],
                payment_method=row[9],
                paid_on_time=row[10],
                payment_date=None,
                lines=[
                    (product_id, cartons, _ZERO, _ZERO) for product_id, cartons in old_lines[row[0]]
                ],
                cartons=row[6],
                amount=row[7],
            )
            for order, row in changed
            if row[5] in counted
        ]
    _insert_lines(line_orders)
    outcome.stored = line_orders
    outcome.created = len(created_ids)
    outcome.updated = len(changed)
    outcome.keys.update((o.customer_id, o.month) for _pk, o in line_orders)
    return outcome


# The columns of the existing orders a sync locks, in this order (`_store_orders` reads
# them by position).
_LOCKED_COLUMNS = (
    "id",
    "external_id",
    "content_hash",
    "customer_id",
    "month",
    "status",
    "cartons",
    "amount",
    "order_date",
    "payment_method",
    "paid_on_time",
)
_ZERO = Decimal("0.00")


def _lock_orders(source: str, external_ids: Sequence[str]) -> list[tuple]:
    """The orders of `source` numbered `external_ids`, locked in key order (`SELECT … FOR
    UPDATE`): `_LOCKED_COLUMNS` of each."""
    if not external_ids:
        return []
    if connection.vendor != "postgresql":
        return list(
            Order.objects.select_for_update()
            .filter(source=source, external_id__in=external_ids)
            .order_by("external_id")
            .values_list(*_LOCKED_COLUMNS)
        )
    with connection.cursor() as cursor:  # one array, not a placeholder per order
        cursor.execute(
            f"SELECT {', '.join(_LOCKED_COLUMNS)} FROM {Order._meta.db_table} "  # noqa: S608
            "WHERE source = %s AND external_id = ANY(%s::text[]) ORDER BY external_id FOR UPDATE",
            [source, array_literal(external_ids, "text")],
        )
        return cursor.fetchall()


def _replace_orders(
    changed: list[tuple[CleanOrder, tuple]], *, source: str, actor: Actor, now
) -> dict[int, list[tuple[int, int]]]:
    """Replaces changed orders (their row, audit and lines; the new lines are inserted by the
    caller). Returns the lines replaced, (product id, cartons) by order id."""
    # (id, the replaced columns' values in `_ORDER_REPLACED_COLUMNS` order) per order, and
    # its audit row: plain tuples (a model instance each cost more than the rest).
    updates: list[tuple[int, tuple]] = []
    audits: list[AuditRow] = []
    for order, row in changed:
        pk, external_id, _hash, customer_id, _month, status, cartons, amount, order_date = row[:9]
        stored = _order_row(order, source, now)
        updates.append((pk, tuple(stored[i] for i in _ORDER_REPLACED_AT)))
        old = {
            "status": status,
            "order_date": order_date.isoformat(),
            "cartons": cartons,
            "amount": str(amount),
        }
        new = {
            "status": order.status,
            "order_date": order.order_date.isoformat(),
            "cartons": order.cartons,
            "amount": str(order.amount),
        }
        if customer_id != order.customer_id:
            old["customer_id"], new["customer_id"] = customer_id, order.customer_id
        audits.append(
            (str(pk), f"{source} {external_id}"[:200], AuditAction.UPDATE, "order", old, new)
        )
    _update_orders(updates)
    # The old lines go, read by the same statement: what the replaced orders were of counts
    # out of the quotas they counted in (supply allocation).
    old_lines: dict[int, list[tuple[int, int]]] = {row[0]: [] for _order, row in changed}
    table = OrderLine._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} WHERE order_id = ANY(%s::bigint[]) "  # noqa: S608 - ours
                "RETURNING order_id, product_id, cartons",
                [array_literal(old_lines, "bigint")],
            )
        else:
            cursor.execute(
                f"DELETE FROM {table} WHERE order_id IN "  # noqa: S608 - ours
                f"({', '.join(['%s'] * len(old_lines))}) RETURNING order_id, product_id, cartons",
                list(old_lines),
            )
        for order_id, product_id, cartons in cursor.fetchall():
            old_lines[order_id].append((product_id, cartons))
    audit_insert_many(actor=actor, model=Order, rows=audits, at=now)
    return old_lines


# PostgreSQL types of the replaced columns: a VALUES list holding only NULLs in a column
# (say, no payment date in the batch) would otherwise be typed text.
_ORDER_COLUMN_TYPES = {
    "source": "text",
    "external_id": "text",
    "created_at": "timestamptz",
    "customer_id": "bigint",
    "order_date": "date",
    "month": "date",
    "status": "text",
    "payment_method": "text",
    "paid_on_time": "boolean",
    "payment_date": "date",
    "cartons": "integer",
    "amount": "numeric",
    "line_count": "integer",
    "content_hash": "text",
    "sent_hash": "text",
    "updated_at": "timestamptz",
}


def _update_orders(updates: list[tuple[int, tuple]]) -> None:
    """Writes the replaced columns of changed orders: (id, the values of
    `_ORDER_REPLACED_COLUMNS` in that order) each.

    On PostgreSQL one `UPDATE … FROM unnest(…)` per chunk: Django's `bulk_update` builds a
    CASE expression per column and row, which cost half of a sync's time when half of a
    1,000-order batch changed (bench/bench_order_sync.py).
    """
    columns = _ORDER_REPLACED_COLUMNS
    if connection.vendor != "postgresql":
        Order.objects.bulk_update(
            [Order(id=pk, **dict(zip(columns, values, strict=True))) for pk, values in updates],
            columns,
            batch_size=500,
        )
        return
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{_ORDER_COLUMN_TYPES[c]}[]" for c in columns)])
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(updates), _INSERT_CHUNK):
            chunk = updates[start : start + _INSERT_CHUNK]
            # One array per column, as the inserts: not 15 placeholders per order.
            params = [array_literal([pk for pk, _values in chunk], "bigint")]
            params += [
                array_literal(values, _ORDER_COLUMN_TYPES[column])
                for column, values in zip(
                    columns, zip(*(values for _pk, values in chunk), strict=True), strict=True
                )
            ]
            cursor.execute(
                f"UPDATE {table} AS o SET {assignments} "  # noqa: S608 - names are ours
                f"FROM unnest({arrays}) AS v(id, {', '.join(columns)}) "
                "WHERE o.id = v.id",
                params,
            )


def orders_bulk_insert(*, orders: Sequence[CleanOrder], source: str) -> int:
    """Stores new orders (checked by `orders.sync.clean_order`, none of them stored yet) and
    their lines, exactly as `order_sync_many` stores new orders, but in bulk: on PostgreSQL
    the ids are drawn from the orders' sequence and orders and lines go in with COPY;
    elsewhere with executemany. Writes no facts but marks them pending in the same
    transaction: the caller runs `sales_facts_rebuild()` (or `sales_facts_pending_drain()`)
    once the load is done, and a load that stops before leaves the marks for the next one.
    For big loads of orders known to be new (the demo data); an order that exists already
    fails the whole call (the unique key on source and order number), so anything else goes
    through `order_sync_many`."""
    if not orders:
        return 0
    with transaction.atomic():
        stored = _orders_insert(orders, source)
        sales_facts_mark_pending(keys={(order.customer_id, order.month) for order in orders})
    return stored


def _orders_insert(orders: Sequence[CleanOrder], source: str) -> int:
    """The orders and lines of `orders_bulk_insert`; call inside its transaction."""
    now = timezone.now()
    table = Order._meta.db_table

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(orders)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            raw = cursor.cursor
            with raw.copy(f"COPY {table} (id, {', '.join(_ORDER_COLUMNS)}) FROM STDIN") as copy:
                for pk, order in zip(ids, orders, strict=True):
                    copy.write_row((pk, *_order_row(order, source, now)))
        _insert_lines(zip(ids, orders, strict=True))
        return len(orders)
    # SQLite (one writer at a time, so the ids after the highest are ours): plain
    # executemany with the values `_store_orders` sends; bulk_create spent most of a small
    # demo's order time building model instances.
    line_table = OrderLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        first_id = cursor.fetchone()[0] + 1
        ids = range(first_id, first_id + len(orders))
        marks = ", ".join(["%s"] * (len(_ORDER_COLUMNS) + 1))
        cursor.executemany(
            f"INSERT INTO {table} (id, {', '.join(_ORDER_COLUMNS)}) VALUES ({marks})",  # noqa: S608
            [(pk, *_order_row(order, source, now)) for pk, order in zip(ids, orders, strict=True)],
        )
        marks = ", ".join(["%s"] * len(_LINE_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {line_table} ({', '.join(_LINE_COLUMNS)}) VALUES ({marks})",  # noqa: S608
            [
                (pk, order.month, product_id, cartons, unit_price, amount)
                for pk, order in zip(ids, orders, strict=True)
                for product_id, cartons, unit_price, amount in order.lines
            ],
        )
    return len(orders)


_LINE_COLUMNS = ("order_id", "month", "product_id", "cartons", "unit_price", "amount")


# Lines of COPY text sent at a time (~40 bytes each).
_COPY_LINES_CHUNK = 10_000


def _insert_lines(line_orders: Iterable[tuple[int, CleanOrder]]) -> None:
    table = OrderLine._meta.db_table
    if connection.vendor == "postgresql":
        # COPY: ~10× faster than INSERT for thousands of rows (see bench/bench_order_sync.py).
        # Its text is written here, a line per f-string: the values are whole numbers, a
        # date and decimals (as `str` writes them, which is what psycopg sends), none with a
        # character COPY escapes; psycopg's `write_row` converted value by value in Python
        # (~1.5 µs a line, 12 ms of a 7,500-line batch).
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(_LINE_COLUMNS)}) FROM STDIN") as copy:
                text: list[str] = []
                for pk, order in line_orders:
                    month = order.month.isoformat()
                    text += [
                        f"{pk}\t{month}\t{product_id}\t{cartons}\t{unit_price}\t{amount}\n"
                        for product_id, cartons, unit_price, amount in order.lines
                    ]
                    if len(text) >= _COPY_LINES_CHUNK:
                        copy.write("".join(text))
                        text = []
                if text:
                    copy.write("".join(text))
        return
    rows = (
        (pk, order.month, product_id, cartons, unit_price, amount)
        for pk, order in line_orders
        for product_id, cartons, unit_price, amount in order.lines
    )
    OrderLine.objects.bulk_create(
        (OrderLine(**dict(zip(_LINE_COLUMNS, row, strict=True))) for row in rows),
        batch_size=2000,
    )


# --- monthly sales facts ---------------------------------------------------------------

_COUNTED = tuple(OrderStatus.counted())
_ELECTRONIC = PaymentMethod.ELECTRONIC.value

_FACT_COLUMNS = (
    "customer_id",
    "month",
    "cartons",
    "amount",
    "orders",
    "lines",
    "class_1_cartons",
    "class_2_cartons",
    "class_3_cartons",
    "class_4_cartons",
    "class_5_cartons",
    "key_brand_cartons",
    "new_product_cartons",
    "low_tar_cartons",
    "electronic_orders",
    "electronic_amount",
    "on_time_orders",
    "late_orders",
    "first_order_date",
    "last_order_date",
)


def _facts_sql(where: str, orders: str = "") -> str:
    """INSERT … SELECT of the facts of the orders matching `where` (over alias o); `orders`
    replaces the plain orders table in FROM (e.g. a join to the keys wanted).

    Order-level figures (cartons, amount, lines, e-settlement, dates) come from the order
    rows, which carry their totals; only the per-product splits read the lines.
    """
    fact, order, line, product = (
        MonthlySalesFact._meta.db_table,
        Order._meta.db_table,
        OrderLine._meta.db_table,
        Product._meta.db_table,
    )
    orders = orders or f"{order} o"
    counted = ", ".join(f"'{status}'" for status in _COUNTED)
    classes = ", ".join(
        f"SUM(CASE WHEN p.price_class = {n} THEN l.cartons ELSE 0 END) AS c{n}" for n in range(1, 6)
    )
    return f"""
        INSERT INTO {fact} ({", ".join(_FACT_COLUMNS)})
        SELECT o_agg.customer_id, o_agg.month, o_agg.cartons, o_agg.amount, o_agg.orders,
               o_agg.lines, l_agg.c1, l_agg.c2, l_agg.c3, l_agg.c4, l_agg.c5, l_agg.kb,
               l_agg.np, l_agg.lt, o_agg.e_orders, o_agg.e_amount, o_agg.on_time, o_agg.late,
               o_agg.first_date,
               o_agg.last_date
        FROM (
            SELECT o.customer_id, o.month, SUM(o.cartons) AS cartons, SUM(o.amount) AS amount,
                   COUNT(*) AS orders, SUM(o.line_count) AS lines,
                   SUM(CASE WHEN o.payment_method = '{_ELECTRONIC}' THEN 1 ELSE 0 END) AS e_orders,
                   SUM(CASE WHEN o.payment_method = '{_ELECTRONIC}' THEN o.amount ELSE 0 END)
                       AS e_amount,
                   SUM(CASE WHEN o.paid_on_time THEN 1 ELSE 0 END) AS on_time,
                   SUM(CASE WHEN o.paid_on_time = FALSE THEN 1 ELSE 0 END) AS late,
                   MIN(o.order_date) AS first_date, MAX(o.order_date) AS last_date
            FROM {orders}
            WHERE o.status IN ({counted}) AND {where}
            GROUP BY o.customer_id, o.month
        ) o_agg
        JOIN (
            SELECT o.customer_id, o.month, {classes},
                   SUM(CASE WHEN p.is_key_brand THEN l.cartons ELSE 0 END) AS kb,
                   SUM(CASE WHEN p.is_new_product THEN l.cartons ELSE 0 END) AS np,
                   SUM(CASE WHEN p.tar_mg <= %s THEN l.cartons ELSE 0 END) AS lt
            FROM {orders}
            JOIN {line} l ON l.order_id = o.id AND l.month = o.month
            JOIN {product} p ON p.id = l.product_id
            WHERE o.status IN ({counted}) AND {where}
            GROUP BY o.customer_id, o.month
        ) l_agg ON l_agg.customer_id = o_agg.customer_id AND l_agg.month = o_agg.month
    """  # noqa: S608 - table names and statuses are ours; values are parameters


def sales_facts_refresh(*, keys: Iterable[Key]) -> int:
    """Recomputes the facts of the given (customer, month) pairs and the purchase figures of
    their customers. Call inside the transaction that changed the orders."""
    keys = sorted(set(keys))
    if not keys:
        return 0
    customer_ids = sorted({customer_id for customer_id, _month in keys})
    _lock_customers(customer_ids)
    written = _facts_recount(keys)
    purchase_figures_refresh(customer_ids=customer_ids)
    return written


def _lock_customers(customer_ids: Sequence[int]) -> None:
    """Locks the customers' system rows (sorted): a concurrent sync of the same customers
    waits here, and its facts, written after we commit, see our orders."""
    if connection.vendor != "postgresql":
        list(
            CustomerSystem.objects.select_for_update()
            .filter(customer_id__in=customer_ids)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
        )
        return
    with connection.cursor() as cursor:  # one array, not a placeholder per customer
        cursor.execute(
            f"SELECT customer_id FROM {CustomerSystem._meta.db_table} "  # noqa: S608 - ours
            "WHERE customer_id = ANY(%s::bigint[]) ORDER BY customer_id FOR UPDATE",
            [array_literal(sorted(customer_ids), "bigint")],
        )


def _facts_recount(keys: Sequence[Key]) -> int:
    """Recomputes the facts of the (customer, month) pairs `keys` (sorted) from the orders."""
    low_tar = OrdersConfig.current().low_tar_max_mg
    written = 0
    table = MonthlySalesFact._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(keys), _FACT_KEYS_CHUNK):
            chunk = keys[start : start + _FACT_KEYS_CHUNK]
            if connection.vendor == "postgresql":
                # Joined to the keys by customer and date range, so each key is an index
                # range scan on (customer, order_date); `IN (VALUES …)` made PostgreSQL hash
                # the keys and scan every order (bench/bench_order_sync.py on 10 M lines).
                # The keys as arrays: psycopg split a placeholder per value otherwise.
                customers = [c for c, _m in chunk]
                cursor.execute(
                    f"DELETE FROM {table} f "  # noqa: S608
                    "USING unnest(%s::bigint[], %s::date[]) AS k(customer_id, month) "
                    "WHERE f.customer_id = k.customer_id AND f.month = k.month",
                    [customers, [m for _c, m in chunk]],
                )
                orders = (
                    f"{Order._meta.db_table} o JOIN "
                    "unnest(%s::bigint[], %s::date[], %s::date[]) "
                    "AS k(customer_id, first_day, next_first_day) "
                    "ON o.customer_id = k.customer_id AND o.order_date >= k.first_day "
                    "AND o.order_date < k.next_first_day"
                )
                bounds = [customers, [m for _c, m in chunk], [add_months(m, 1) for _c, m in chunk]]
                cursor.execute(_facts_sql("1 = 1", orders), [*bounds, low_tar, *bounds])
            else:
                flat = [value for key in chunk for value in key]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    f"DELETE FROM {table} WHERE (customer_id, month) IN (VALUES {values})",  # noqa: S608
                    flat,
                )
                where = f"(o.customer_id, o.month) IN (VALUES {values})"
                cursor.execute(_facts_sql(where), [*flat, low_tar, *flat])
            written += cursor.rowcount
    return written


# The additive columns of a fact, in `_FACT_COLUMNS` order after (customer_id, month).
_FACT_SUMS = _FACT_COLUMNS[2:-2]
# The kind of a line whose product is gone: in no split (the facts' join drops it).
_NO_PRODUCT = (None, False, False, False)


def sales_facts_add(*, orders: Sequence[CleanOrder], removed: Sequence[CleanOrder] = ()) -> None:
    """Brings the facts up to date after a sync stored `orders` (new ones and the new
    versions of changed ones) in place of `removed` (the old versions of the changed ones),
    and the purchase figures of their customers. Call inside the transaction that stored
    them.

    Each (customer, month) gets the figures of its orders added and those of its removed
    orders taken away (`INSERT … ON CONFLICT DO UPDATE`), so a batch costs the same whatever
    the history behind it: each figure is a sum `_facts_sql` takes over the same orders, so
    the result is what a rebuild gives. Only the first and the last order date cannot be
    taken away: a pair whose removed order was dated on its first (last) day, with no order
    of the batch on or before (after) that day, is recounted from the orders."""
    counted = set(_COUNTED)
    adding = [o for o in orders if o.status in counted]
    removed = [o for o in removed if o.status in counted]
    customer_ids = sorted({o.customer_id for o in (*adding, *removed)})
    if not customer_ids:
        return
    _lock_customers(customer_ids)
    kinds = _product_kinds([*adding, *removed])
    added = _facts_of(adding, kinds)
    taken = _facts_of(removed, kinds)
    held = _facts_dates(sorted(taken)) if taken else {}
    removed_days: dict[Key, set[dt.date]] = {}
    for order in removed:
        removed_days.setdefault((order.customer_id, order.month), set()).add(order.order_date)
    recount: set[Key] = set()
    for key, days in removed_days.items():
        first_last, plus = held.get(key), added.get(key)
        if first_last is None:  # no fact, or one pending: nothing to take from, recounted
            recount.add(key)
            continue
        first, last = first_last
        if (first in days and (plus is None or plus[-2] > first)) or (
            last in days and (plus is None or plus[-1] < last)
        ):
            recount.add(key)
    if recount:
        _facts_recount(sorted(recount))
    net = {key: fact for key, fact in added.items() if key not in recount}
    for key, fact in taken.items():
        if key in recount:
            continue
        row = net.get(key)
        if row is None:  # nothing added: its dates stay (LEAST/GREATEST of the same)
            row = net[key] = [_ZERO if "amount" in name else 0 for name in _FACT_SUMS]
            row += held[key]
        for i in range(len(_FACT_SUMS)):
            row[i] -= fact[i]
    # Pairs held are updated (a figure taken away would fail the facts' checks as the row
    # an INSERT … ON CONFLICT proposes); the others are inserted, or added to if a
    # concurrent sync inserted them meanwhile.
    if changing := {key: fact for key, fact in net.items() if key in held}:
        _facts_update(changing)
    if adding_only := {key: fact for key, fact in net.items() if key not in held}:
        _facts_upsert(adding_only)
    purchase_figures_add(customer_ids=customer_ids, changes=net, recounted=recount)


def _facts_dates(keys: Sequence[Key]) -> dict[Key, tuple[dt.date, dt.date]]:
    """The first and last order dates of the facts held for `keys` (sorted), of those not
    marked pending (`SalesFactPending`: a load stored orders it does not count yet, so
    nothing can be taken from it)."""
    table = MonthlySalesFact._meta.db_table
    fresh = (
        f"NOT EXISTS (SELECT 1 FROM {SalesFactPending._meta.db_table} p "  # noqa: S608
        "WHERE p.customer_id = f.customer_id AND p.month = f.month)"
    )
    held: dict[Key, tuple[dt.date, dt.date]] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), _FACT_KEYS_CHUNK):
            chunk = keys[start : start + _FACT_KEYS_CHUNK]
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT f.customer_id, f.month, f.first_order_date, f.last_order_date "  # noqa: S608
                    f"FROM {table} f JOIN unnest(%s::bigint[], %s::date[]) "
                    "AS k(customer_id, month) "
                    f"ON f.customer_id = k.customer_id AND f.month = k.month WHERE {fresh}",
                    [
                        array_literal([c for c, _m in chunk], "bigint"),
                        array_literal([m for _c, m in chunk], "date"),
                    ],
                )
            else:
                values = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    "SELECT customer_id, month, first_order_date, last_order_date "  # noqa: S608
                    f"FROM {table} f WHERE (customer_id, month) IN (VALUES {values}) "
                    f"AND {fresh}",
                    [value for key in chunk for value in key],
                )
            for customer_id, month, first, last in cursor.fetchall():
                held[(customer_id, month)] = (first, last)
    return held


def _product_kinds(orders: Iterable[CleanOrder]) -> dict[int, tuple]:
    """Per product of the orders' lines: (index of its price-class figure in `_FACT_SUMS` or
    None, key brand, new product, low tar)."""
    low_tar = OrdersConfig.current().low_tar_max_mg
    product_ids = {line[0] for order in orders for line in order.lines}
    return {
        pk: (
            _FACT_SUMS.index(f"class_{price_class}_cartons") if 1 <= price_class <= 5 else None,
            is_key_brand,
            is_new_product,
            tar_mg is not None and tar_mg <= low_tar,
        )
        for pk, price_class, is_key_brand, is_new_product, tar_mg in Product.objects.filter(
            id__in=product_ids
        ).values_list("id", "price_class", "is_key_brand", "is_new_product", "tar_mg")
    }


def _facts_of(orders: Sequence[CleanOrder], kinds: Mapping[int, tuple]) -> dict[Key, list]:
    """The fact figures of the (counted) `orders`, by (customer, month): `_FACT_SUMS` then
    the first and the last order date, as `_facts_sql` computes them. `kinds`:
    `_product_kinds` of (at least) their products."""
    key_brand, new_product, low_tar_at = (
        _FACT_SUMS.index(name)
        for name in ("key_brand_cartons", "new_product_cartons", "low_tar_cartons")
    )
    electronic_orders, electronic_amount = (
        _FACT_SUMS.index("electronic_orders"),
        _FACT_SUMS.index("electronic_amount"),
    )
    on_time, late = _FACT_SUMS.index("on_time_orders"), _FACT_SUMS.index("late_orders")
    facts: dict[Key, list] = {}
    for order in orders:
        fact = facts.get((order.customer_id, order.month))
        if fact is None:
            fact = facts[(order.customer_id, order.month)] = [
                *(Decimal("0.00") if "amount" in name else 0 for name in _FACT_SUMS),
                order.order_date,
                order.order_date,
            ]
        fact[0] += order.cartons
        fact[1] += order.amount
        fact[2] += 1
        fact[3] += len(order.lines)
        for product_id, cartons, _price, _amount in order.lines:
            price_class, is_key_brand, is_new_product, is_low_tar = kinds.get(
                product_id, _NO_PRODUCT
            )
            if price_class is not None:
                fact[price_class] += cartons
            if is_key_brand:
                fact[key_brand] += cartons
            if is_new_product:
                fact[new_product] += cartons
            if is_low_tar:
                fact[low_tar_at] += cartons
        if order.payment_method == _ELECTRONIC:
            fact[electronic_orders] += 1
            fact[electronic_amount] += order.amount
        if order.paid_on_time is True:
            fact[on_time] += 1
        elif order.paid_on_time is False:
            fact[late] += 1
        fact[-2] = min(fact[-2], order.order_date)
        fact[-1] = max(fact[-1], order.order_date)
    return facts


# The types of the fact columns, in `_FACT_COLUMNS` order, and the columns as arrays
# (PostgreSQL).
_FACT_KINDS = (
    "bigint",
    "date",
    *("numeric" if "amount" in name else "integer" for name in _FACT_SUMS),
    "date",
    "date",
)
_FACT_ARRAYS = ", ".join(f"%s::{kind}[]" for kind in _FACT_KINDS)


def _fact_arrays(rows: Sequence[tuple]) -> list[str]:
    """The parameters of `_FACT_ARRAYS`: the rows' columns as array literals."""
    return [
        array_literal(column, kind)
        for column, kind in zip(zip(*rows, strict=True), _FACT_KINDS, strict=True)
    ]


def _fact_rows(facts: Mapping[Key, list]) -> tuple[list[tuple], bool, str, str]:
    """(rows of `_FACT_COLUMNS` in key order — as every writer of facts, so no deadlock
    between them —, whether on PostgreSQL, its names of the least and greatest of two)."""
    rows = [(*key, *facts[key]) for key in sorted(facts)]
    postgres = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if postgres else ("MIN", "MAX")
    return rows, postgres, least, greatest


def _facts_upsert(facts: Mapping[Key, list]) -> None:
    """Adds `facts` (`_facts_of`) to the facts held, creating those missing."""
    table = MonthlySalesFact._meta.db_table
    rows, postgres, least, greatest = _fact_rows(facts)
    updates = ", ".join(
        [
            *(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in _FACT_SUMS),
            f"first_order_date = {least}({table}.first_order_date, EXCLUDED.first_order_date)",
            f"last_order_date = {greatest}({table}.last_order_date, EXCLUDED.last_order_date)",
        ]
    )
    conflict = f"ON CONFLICT (customer_id, month) DO UPDATE SET {updates}"
    columns = ", ".join(_FACT_COLUMNS)
    with connection.cursor() as cursor:
        if postgres:
            # One statement with one array per column: no VALUES list of 20,000 parameters.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({_FACT_ARRAYS}) {conflict}",  # noqa: S608
                _fact_arrays(rows),
            )
            return
        marks = ", ".join(["%s"] * len(_FACT_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",  # noqa: S608
            rows,
        )


def _facts_update(facts: Mapping[Key, list]) -> None:
    """Adds `facts` (figures that may be negative, `_facts_of` shape) to facts held."""
    table = MonthlySalesFact._meta.db_table
    rows, postgres, least, greatest = _fact_rows(facts)
    with connection.cursor() as cursor:
        if postgres:
            sets = ", ".join(
                [
                    *(f"{name} = f.{name} + v.{name}" for name in _FACT_SUMS),
                    f"first_order_date = {least}(f.first_order_date, v.first_order_date)",
                    f"last_order_date = {greatest}(f.last_order_date, v.last_order_date)",
                ]
            )
            cursor.execute(
                f"UPDATE {table} AS f SET {sets} "  # noqa: S608 - names are ours
                f"FROM unnest({_FACT_ARRAYS}) AS v({', '.join(_FACT_COLUMNS)}) "
                "WHERE f.customer_id = v.customer_id AND f.month = v.month",
                _fact_arrays(rows),
            )
            return
        sets = ", ".join(
            [
                *(f"{name} = {name} + %s" for name in _FACT_SUMS),
                f"first_order_date = {least}(first_order_date, %s)",
                f"last_order_date = {greatest}(last_order_date, %s)",
            ]
        )
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE customer_id = %s AND month = %s",  # noqa: S608
            [(*row[2:], row[0], row[1]) for row in rows],
        )


@transaction.atomic
def sales_facts_rebuild(*, customer_ids: Sequence[int] | None = None) -> int:
    """Rebuilds the monthly facts from the orders, for everyone or some customers, and then
    the purchase figures. Returns the number of fact rows written. Their pending marks are
    forgotten first, in the same transaction: a mark written after that (by a load still
    running) stays for the next drain."""
    table = MonthlySalesFact._meta.db_table
    low_tar = OrdersConfig.current().low_tar_max_mg
    if customer_ids is None:
        SalesFactPending.objects.all().delete()
    else:
        ids = sorted(set(customer_ids))
        for start in range(0, len(ids), _FACT_KEYS_CHUNK):
            SalesFactPending.objects.filter(
                customer_id__in=ids[start : start + _FACT_KEYS_CHUNK]
            ).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The whole aggregate in memory: a hash aggregate instead of sorting on disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        if customer_ids is None:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(_facts_sql("1 = 1"), [low_tar])
            written = cursor.rowcount
        else:
            written = 0
            ids = sorted(set(customer_ids))
            for start in range(0, len(ids), _FACT_KEYS_CHUNK):
                chunk = ids[start : start + _FACT_KEYS_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"DELETE FROM {table} WHERE customer_id IN ({marks})",  # noqa: S608
                    chunk,
                )
                where = f"o.customer_id IN ({marks})"
                cursor.execute(_facts_sql(where), [*chunk, low_tar, *chunk])
                written += cursor.rowcount
    purchase_figures_refresh(customer_ids=customer_ids)
    return written


def sales_facts_mark_pending(*, keys: Iterable[Key]) -> None:
    """Marks the facts of `keys` out of date (`SalesFactPending`). Call inside the
    transaction that changed their orders, so the marks exist exactly when the orders do.

    An existing mark is updated rather than left alone: that locks it until this transaction
    ends, so a drain running meanwhile skips it (or, holding it first, deletes it before this
    one writes it again) and never forgets orders it did not see."""
    keys = sorted(set(keys))  # key order, as the drain locks them: no deadlock between them
    if not keys:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement whatever the size (a demo chunk marks 60,000): arrays, not a VALUES
        # list of 180,000 parameters or 60,000 model instances.
        table = SalesFactPending._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (customer_id, month, marked_at) "  # noqa: S608 (our table)
                "SELECT k.customer_id, k.month, %s "
                "FROM unnest(%s::bigint[], %s::date[]) AS k(customer_id, month) "
                "ON CONFLICT (customer_id, month) DO UPDATE SET marked_at = EXCLUDED.marked_at",
                [
                    now,
                    array_literal([c for c, _m in keys], "bigint"),
                    array_literal([m for _c, m in keys], "date"),
                ],
            )
        return
    SalesFactPending.objects.bulk_create(
        [
            SalesFactPending(customer_id=customer_id, month=month, marked_at=now)
            for customer_id, month in keys
        ],
        batch_size=_FACT_KEYS_CHUNK,
        update_conflicts=True,
        unique_fields=["customer", "month"],
        update_fields=["marked_at"],
    )


def sales_facts_pending_drain(*, per_transaction: int = _PENDING_PER_TRANSACTION) -> int:
    """Refreshes the facts of every (customer, month) marked pending and forgets the marks,
    `per_transaction` at a time: each chunk's refresh and the deletion of its marks commit
    together, so a drain that stops half-way leaves exactly the rest. Marks a load still
    running holds (its batch is not committed yet) are skipped: that load drains them. Runs
    at the end of `import_orders`, after a demo seed, and every half hour (for a load that
    was stopped and never run again). Returns how many were refreshed."""
    last = SalesFactPending.objects.aggregate(last=Max("id"))["last"]
    if last is None:
        return 0

    def chunk() -> int:
        marks = list(
            SalesFactPending.objects.select_for_update(skip_locked=True)
            .filter(id__lte=last)
            .order_by("customer_id", "month")
            .values_list("id", "customer_id", "month")[:per_transaction]
        )
        if marks:
            sales_facts_refresh(keys=[(customer_id, month) for _pk, customer_id, month in marks])
            SalesFactPending.objects.filter(id__in=[pk for pk, *_key in marks]).delete()
        return len(marks)

    drained = 0
    while done := _deadlock_retried(chunk, "Draining the pending sales facts"):
        drained += done
        faults.point("orders.pending_drained")
    return drained


# --- purchase figures -----------------------------------------------------------------------
#
# The customers' system-generated purchase figures (CustomerSystem: quantity, amount, average
# price and e-settlement rate over the purchase window, the latest order date) are written in
# this section only, two ways:
# - `purchase_figures_refresh` recomputes them from the monthly facts (everyone: the daily
#   task, a rebuild, a settings change; some customers: a recount of their facts);
# - `purchase_figures_add` adds an order sync's own batch to them (the figures its facts
#   gained and lost), reading no fact, and falls back to the first for a customer whose
#   figures it cannot bring up to date exactly that way.
# Both write through `_purchase_set`, so the rounding is the same; the refresh also stores what
# the adding needs: the window's e-settled amount and the first month of the window.
# tests/orders/test_facts.py holds each way equal to a full refresh.

# The customers' purchase figures from the window's cartons, amount and e-settled amount and
# the latest order date. "* 1.0": SQLite stores whole amounts as integers and would divide
# them as integers. Parameters: the first month of the window, the time.
_PURCHASE_SET = """
    UPDATE {system} SET
        purchase_quantity = COALESCE({cartons}, 0),
        purchase_amount = COALESCE({amount}, 0),
        average_price = CASE WHEN {cartons} > 0
            THEN ROUND({amount} * 1.0 / {cartons}, 2) END,
        e_settlement_rate = CASE WHEN {amount} > 0
            THEN ROUND({e_amount} * 1.0 / {amount}, 4) END,
        purchase_e_amount = COALESCE({e_amount}, 0),
        last_order_date = {last_date},
        purchase_window_start = %s,
        computed_at = %s
"""


def _purchase_set(system: str, **figures: str) -> str:
    """`_PURCHASE_SET` of the table `system` from the expressions `figures` (cartons, amount,
    e_amount, last_date), by default the columns of a FROM item `a`."""
    of_a = {name: f"a.{name}" for name in ("cartons", "amount", "e_amount", "last_date")}
    return _PURCHASE_SET.format(system=system, **{**of_a, **figures})


# `purchase_figures_refresh` of some customers on PostgreSQL: the same figures from the
# window's facts and each customer's latest fact only (its last order date is the latest:
# a fact holds the orders of its month, so its dates lie in that month), not from every
# fact a customer has, each a heap page of its own (bench/bench_order_sync.py on 10 M
# lines of history).
_PURCHASE_OF_CUSTOMERS = """
    FROM (
        SELECT s.customer_id, w.cartons, w.amount, w.e_amount, l.last_order_date AS last_date
        FROM unnest(%s::bigint[]) AS s(customer_id)
        CROSS JOIN LATERAL (
            SELECT SUM(f.cartons) AS cartons, SUM(f.amount) AS amount,
                   SUM(f.electronic_amount) AS e_amount
            FROM {fact} f WHERE f.customer_id = s.customer_id AND f.month >= %s
        ) w
        LEFT JOIN LATERAL (
            SELECT f.last_order_date FROM {fact} f WHERE f.customer_id = s.customer_id
            ORDER BY f.month DESC LIMIT 1
        ) l ON true
    ) a
    WHERE {system}.customer_id = a.customer_id AND {system}.customer_id = ANY(%s::bigint[])
"""  # noqa: S608 - table names are ours; values are parameters


def _purchase_window_start(today: dt.date) -> dt.date:
    """The first month of the purchase window on `today`: the configured number of calendar
    months, the current one included (facts of later months, orders dated ahead, count too)."""
    months = OrdersConfig.current().purchase_window_months
    return add_months(month_start(today), -(months - 1))


def purchase_figures_refresh(
    *, customer_ids: Sequence[int] | None = None, today: dt.date | None = None
) -> int:
    """Writes the customers' system-generated purchase figures from their monthly facts:
    quantity, amount, average price and e-settlement rate over the purchase window (the
    current month and the months before it), and the latest order date. Returns rows updated.

    CustomerSystem holds what jobs and order sync compute; this set-based UPDATE and
    `purchase_figures_add` beside it are the one place the purchase figures are written (a
    daily task keeps the window current).
    """
    start = _purchase_window_start(today or timezone.localdate())
    system, fact = CustomerSystem._meta.db_table, MonthlySalesFact._meta.db_table

    def sql(customers: str, where: str = "1 = 1") -> str:
        # One pass over the customers' facts.
        return f"""{_purchase_set(system)}
            FROM (
                SELECT s.customer_id,
                       SUM(CASE WHEN f.month >= %s THEN f.cartons END) AS cartons,
                       SUM(CASE WHEN f.month >= %s THEN f.amount END) AS amount,
                       SUM(CASE WHEN f.month >= %s THEN f.electronic_amount END) AS e_amount,
                       MAX(f.last_order_date) AS last_date
                FROM {customers} LEFT JOIN {fact} f ON f.customer_id = s.customer_id
                WHERE {where}
                GROUP BY s.customer_id
            ) a
            WHERE {system}.customer_id = a.customer_id
        """  # noqa: S608 - table names are ours; values are parameters

    params: list[Any] = [start, timezone.now(), start, start, start]
    updated = 0
    if customer_ids is None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Every system row locked first, in key order as a sync locks its customers:
                # a sync still open is waited for, so the UPDATE (a snapshot taken after the
                # locks) sees its facts — else it would write figures without its batch, which
                # the next batch's deltas would then carry on from — and a sync started
                # meanwhile waits, then adds its batch to these figures.
                cursor.execute(
                    f"SELECT COUNT(*) FROM (SELECT 1 FROM {system} "  # noqa: S608 - ours
                    "ORDER BY customer_id FOR UPDATE) locked"
                )
            cursor.execute(sql(f"{system} s"), params)
            return cursor.rowcount
    with connection.cursor() as cursor:
        ids = sorted(set(customer_ids))
        for chunk_start in range(0, len(ids), _FACT_KEYS_CHUNK):
            chunk = ids[chunk_start : chunk_start + _FACT_KEYS_CHUNK]
            if connection.vendor == "postgresql":
                customers = array_literal(chunk, "bigint")
                # The customers as an array, named again for the rows updated: without it
                # PostgreSQL joined the aggregate to every CustomerSystem row (a sequential
                # scan of 200,000, half of this statement's time in a sync batch).
                cursor.execute(
                    _purchase_set(system) + _PURCHASE_OF_CUSTOMERS.format(system=system, fact=fact),
                    [*params[:2], customers, start, customers],
                )
            else:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(sql(f"{system} s", f"s.customer_id IN ({marks})"), [*params, *chunk])
            updated += cursor.rowcount
    return updated


# The figures of `_FACT_SUMS` the purchase figures add up, by their index there.
_PURCHASE_SUMS = tuple(
    _FACT_SUMS.index(name) for name in ("cartons", "amount", "electronic_amount")
)


def purchase_figures_add(
    *,
    customer_ids: Sequence[int],
    changes: Mapping[Key, list],
    recounted: Iterable[Key] = (),
    today: dt.date | None = None,
) -> None:
    """Brings the purchase figures of `customer_ids` up to date after an order sync changed
    their facts, without reading the facts: what `purchase_figures_refresh` would write, for
    a batch's cost whatever the history behind it. `changes`: what was added to each fact
    (`_facts_of` shape by (customer, month), figures taken away negative; its dates those
    the fact's are LEAST/GREATEST-ed with); `recounted`: the facts recomputed from the orders
    instead. Call inside the transaction that changed the facts, with the customers' system
    rows locked (`_lock_customers`).

    The window's sums move by the changes of the months from the window's first on (later
    months too, as the refresh counts them); the latest order date becomes the later of the
    one held and the latest of the changes, as each fact's last date does. No fact's last
    date goes back but by a recount (`sales_facts_add` recounts a month whose removed order
    was on its last day with no order as late added), and a customer with a recounted fact
    is refreshed from the facts instead, as is one whose figures were computed for another
    window (never, or before the month or the settings changed: the first month stored
    differs)."""
    start = _purchase_window_start(today or timezone.localdate())
    refresh = {customer_id for customer_id, _month in recounted}
    sums: dict[int, list] = {
        customer_id: [0, _ZERO, _ZERO, None]
        for customer_id in customer_ids
        if customer_id not in refresh
    }
    for (customer_id, month), fact in changes.items():
        row = sums.get(customer_id)
        if row is None:
            continue
        if month >= start:
            for i, at in enumerate(_PURCHASE_SUMS):
                row[i] += fact[at]
        if row[3] is None or fact[-1] > row[3]:
            row[3] = fact[-1]
    written = _purchase_deltas_write(sums, start) if sums else set()
    if missed := [customer_id for customer_id in customer_ids if customer_id not in written]:
        purchase_figures_refresh(customer_ids=missed, today=today)


# The columns `_purchase_deltas_write` adds, as arrays (PostgreSQL).
_PURCHASE_DELTA_KINDS = ("bigint", "integer", "numeric", "numeric", "date")
_PURCHASE_DELTAS = ", ".join(f"%s::{kind}[]" for kind in _PURCHASE_DELTA_KINDS)


def _purchase_deltas_write(sums: Mapping[int, list], start: dt.date) -> set[int]:
    """Adds `sums` (customer → [cartons, amount, e-settled amount, latest order date or
    None]) to the purchase figures of the customers whose figures are of the window starting
    `start`; returns those customers."""
    system = CustomerSystem._meta.db_table
    rows = [(customer_id, *sums[customer_id]) for customer_id in sorted(sums)]
    postgres = connection.vendor == "postgresql"
    # SQLite's MAX(x, NULL) is NULL; PostgreSQL's GREATEST leaves NULLs out.
    held, new = f"{system}.last_order_date", "d.last_date"
    latest = (
        f"GREATEST({held}, {new})"
        if postgres
        else f"MAX(COALESCE({held}, {new}), COALESCE({new}, {held}))"
    )
    # The sums held plus the deltas, each row's own (a SET expression reads the row as it
    # was): no second read of the rows.
    figures = _purchase_set(
        system,
        cartons=f"({system}.purchase_quantity + d.cartons)",
        amount=f"({system}.purchase_amount + d.amount)",
        e_amount=f"({system}.purchase_e_amount + d.e_amount)",
        last_date=latest,
    )

    def sql(deltas: str, only: str = "") -> str:
        return f"""WITH d (customer_id, cartons, amount, e_amount, last_date) AS ({deltas})
            {figures}
            FROM d
            WHERE {system}.customer_id = d.customer_id AND {system}.purchase_window_start = %s
                {only}
            RETURNING {system}.customer_id
        """  # noqa: S608 - table names are ours; values are parameters

    written: set[int] = set()
    with connection.cursor() as cursor:
        if postgres:
            # One array per column; the customers named again for the rows updated, as in
            # _PURCHASE_OF_CUSTOMERS.
            columns = zip(*rows, strict=True)
            cursor.execute(
                sql(
                    f"SELECT * FROM unnest({_PURCHASE_DELTAS})",  # noqa: S608 - ours
                    f"AND {system}.customer_id = ANY(%s::bigint[])",
                ),
                [
                    *map(array_literal, columns, _PURCHASE_DELTA_KINDS),
                    start,
                    timezone.now(),
                    start,
                    array_literal([row[0] for row in rows], "bigint"),
                ],
            )
            written.update(customer_id for (customer_id,) in cursor.fetchall())
            return written
        for chunk_start in range(0, len(rows), _FACT_KEYS_CHUNK):
            chunk = rows[chunk_start : chunk_start + _FACT_KEYS_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                sql(f"VALUES {values}"),
                # The dates as text, as SQLite stores them (its adapter for dates is deprecated).
                [
                    *(
                        value.isoformat() if isinstance(value, dt.date) else value
                        for row in chunk
                        for value in row
                    ),
                    start,
                    timezone.now(),
                    start,
                ],
            )
            written.update(customer_id for (customer_id,) in cursor.fetchall())
    return written


def _enqueue_facts_rebuild() -> None:
    from orders.tasks import sales_facts_rebuild_task

    transaction.on_commit(sales_facts_rebuild_task.delay)


def _enqueue_purchase_refresh() -> None:
    from orders.tasks import purchase_figures_refresh_task

    transaction.on_commit(purchase_figures_refresh_task.delay)


# --- merging two customer records (customers.services.customer_merge, crm.merging) ----------


def orders_customer_move(*, survivor_id: int, merged_id: int, actor: Actor) -> dict[str, int]:
    """Gives every order of the merged customer to the survivor, then rebuilds both
    customers' monthly facts and purchase figures from their orders (`sales_facts_rebuild`),
    so the survivor's facts are exact. Each moved order's `content_hash` (its customer is part
    of it) is computed again from its stored lines, and its `sent_hash` is cleared: the
    digest of the text it was sent as is not kept, so a re-send under the old customer code
    (an alias of the survivor now) takes the full checks and is found unchanged. Audited per
    order (its customer, old → new). Call inside the merge's transaction."""
    orders = list(
        Order.objects.filter(customer_id=merged_id)
        .order_by("pk")
        .values_list(
            "pk",
            "external_id",
            "order_date",
            "status",
            "payment_method",
            "paid_on_time",
            "payment_date",
        )
    )
    facts = MonthlySalesFact.objects.filter(customer_id=merged_id).count()
    if orders:
        lines: dict[int, list[tuple[int, int, Decimal, Decimal]]] = {pk: [] for pk, *_ in orders}
        for order_id, *line in OrderLine.objects.filter(order__customer_id=merged_id).values_list(
            "order_id", "product_id", "cartons", "unit_price", "amount"
        ):
            lines[order_id].append(tuple(line))
        now = timezone.now()
        moved = []
        for pk, external_id, order_date, status, method, on_time, paid in orders:
            clean = CleanOrder(
                index=0,
                external_id=external_id,
                customer_id=survivor_id,
                order_date=order_date,
                month=order_date.replace(day=1),
                status=status,
                payment_method=method,
                paid_on_time=on_time,
                payment_date=paid,
                lines=lines[pk],
            )
            moved.append(
                Order(
                    pk=pk,
                    customer_id=survivor_id,
                    content_hash=content_hash(clean),
                    sent_hash="",
                    updated_at=now,
                )
            )
        # A CASE per column over at most this many orders per statement.
        Order.objects.bulk_update(
            moved, ["customer_id", "content_hash", "sent_hash", "updated_at"], batch_size=500
        )
        audit_insert_many(
            actor=actor,
            model=Order,
            rows=[
                (str(pk), external_id, AuditAction.UPDATE, "customer", merged_id, survivor_id)
                for pk, external_id, *_rest in orders
            ],
            at=now,
        )
    sales_facts_rebuild(customer_ids=[survivor_id, merged_id])
    return {"orders": len(orders), "sales_facts": facts}
