"""Demo products and the orders of every demo shop over the demo period, with the Spring
Festival peak (its month and the month before), summer and National Day lifts, each shop's
trend (growth, stable or decline), new shops starting and closing shops stopping mid-period,
and each shop's e-settlement share.

Orders are checked and hashed by `orders.sync.clean_order` (as the REST sync does); new ones
go in with `orders.services.orders_bulk_insert` (COPY on PostgreSQL), changed ones (a run on
a later day: an order's status moves on) through `order_sync_many`, and the monthly facts and
purchase figures are rebuilt once at the end (`sales_facts_rebuild`) — the state the real
services leave. Both mark the facts they make stale in the transaction that stores the
orders, so a seed stopped before the rebuild leaves those marks, and the next run, finding
every order unchanged, refreshes them. A small demo orders weekly; a big one fortnightly or
every four weeks (the named account managers' shops stay weekly), with the same volume a
month.

Deterministic: each order's content comes from a generator seeded by (seed, shop, date). A
second run stores only the orders missing (a run on a later day adds the new weeks) and leaves
every stored order alone, but for the demo's own placed orders nobody changed since, which
move on to their outcome (delivered, cancelled, returned) once they are a few days old.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from decimal import Decimal

from django.utils import timezone

from crm.choices import AuditSource
from crm.demo import DemoOptions, SeedReport, demo_first_day, season_factor
from crm.models import User
from crm.services import Actor
from customers.demo import demo_books, order_cadence_days, period_day, shop_profile
from customers.models import Customer
from orders.models import Order, Product
from orders.services import (
    MAX_ORDERS_PER_SYNC,
    order_sync_many,
    orders_bulk_insert,
    product_upsert_many,
    sales_facts_pending_drain,
    sales_facts_rebuild,
)
from orders.sync import CleanOrder, content_hash

DEMO_SOURCE = "ordering-system"  # the demo API client (crm.demo)
# Shops per round of generating, checking and storing orders (one progress line each).
CHUNK = 5_000
# A new shop takes two months to reach its volume; a closing one fades over its last two.
RAMP_DAYS = 60

# code, name, brand, manufacturer, wholesale price per carton, tar mg, key brand, new product
DEMO_PRODUCTS = [
    ("6901028075862", "中华(硬)", "中华", "上海烟草集团", "450.00", 11, True, False),
    ("6901028075015", "中华(软)", "中华", "上海烟草集团", "620.00", 11, True, False),
    ("6901028180566", "玉溪(软)", "玉溪", "红塔烟草集团", "220.00", 10, True, False),
    ("6901028142014", "黄鹤楼(硬金砂)", "黄鹤楼", "湖北中烟", "270.00", 10, True, False),
    ("6901028211383", "芙蓉王(硬)", "芙蓉王", "湖南中烟", "230.00", 11, True, False),
    ("6901028317184", "利群(新版)", "利群", "浙江中烟", "140.00", 10, True, False),
    ("6901028193498", "云烟(紫)", "云烟", "红云红河集团", "100.00", 10, True, False),
    ("6901028062015", "双喜(硬经典)", "双喜", "广东中烟", "95.00", 10, True, False),
    ("6901028062312", "双喜(红)", "双喜", "广东中烟", "60.00", 11, False, False),
    ("6901028145671", "红塔山(硬经典)", "红塔山", "红塔烟草集团", "75.00", 11, False, False),
    ("6901028165181", "白沙(硬)", "白沙", "湖南中烟", "48.00", 11, False, False),
    ("6901028188098", "红河(软甲)", "红河", "红云红河集团", "30.00", 11, False, False),
    ("6901028001014", "大前门(短支)", "前门", "上海烟草集团", "25.00", 10, False, False),
    ("6901028311014", "经典红双喜(软)", "双喜", "广东中烟", "18.00", 12, False, False),
    ("6901028062619", "双喜(莲香细支)", "双喜", "广东中烟", "180.00", 6, True, True),
    ("6901028318013", "利群(休闲细支)", "利群", "浙江中烟", "210.00", 6, True, True),
    ("6901028180955", "玉溪(和谐)", "玉溪", "红塔烟草集团", "380.00", 8, True, False),
    ("6901028193665", "云烟(小熊猫家园)", "云烟", "红云红河集团", "135.00", 8, False, True),
]
_PRICE = {code: Decimal(price) for code, _n, _b, _m, price, *_rest in DEMO_PRODUCTS}
# Share of the volume a shop puts on each product family, by how upmarket it is.
_PREMIUM = [code for code, *_r in DEMO_PRODUCTS if _PRICE[code] >= 130]
_MIDDLE = [code for code, *_r in DEMO_PRODUCTS if 40 <= _PRICE[code] < 130]
_BUDGET = [code for code, *_r in DEMO_PRODUCTS if _PRICE[code] < 40]
# Cartons a week by business format (before the shop's own size factor): a grocery buys about
# 200 cartons a month, a supermarket 850, so the demo spreads over the eight grades.
_WEEKLY = {"Z": 45, "B": 55, "Y": 120, "S": 200, "F": 25, "N": 150, "Q": 20}


def seed_orders(report: SeedReport, *, actor: Actor) -> None:
    """The product catalogue and the demo period's orders for every demo shop: the products
    and orders that do not exist yet. What exists stays as the ordering system (or anyone)
    left it, but for the demo's own placed orders that nobody changed since it stored them,
    which move on (delivered, cancelled, returned) on a later day."""
    stored = set(Product.objects.filter(code__in=list(_PRICE)).values_list("code", flat=True))
    created = 0
    if len(stored) < len(DEMO_PRODUCTS):
        created = product_upsert_many(
            rows=[
                {
                    "code": code,
                    "name": name,
                    "brand": brand,
                    "manufacturer": maker,
                    "wholesale_price": price,
                    "tar_mg": tar,
                    "is_key_brand": key,
                    "is_new_product": new,
                    "active": True,
                }
                for code, name, brand, maker, price, tar, key, new in DEMO_PRODUCTS
                if code not in stored
            ],
            actor=actor,
        ).created
    report.lines.append(f"Products: {created} created, {len(stored)} existing left as they are.")
    client = User.objects.filter(username=DEMO_SOURCE).first()
    sync_actor = (
        Actor(user=client, source=AuditSource.API, label=client.username) if client else actor
    )
    options, today = report.options, timezone.localdate()
    product_ids = dict(Product.objects.filter(code__in=list(_PRICE)).values_list("code", "id"))
    shops = list(
        Customer.objects.order_by("customer_code").values_list(
            "id", "customer_code", "business_format", "market_type"
        )
    )
    books = dict(demo_books(options))
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    amounts: dict[tuple[str, int], Decimal] = {}
    for start in range(0, len(shops), CHUNK):
        chunk = [shop for shop in shops[start : start + CHUNK] if shop[1] in books]
        # Each stored order's hash, and whether the demo may move it on: still placed, and
        # not changed since the demo stored it (stored and updated at the same moment).
        known = {
            external_id: (content_hash, status == "placed" and created_at == updated_at)
            for external_id, content_hash, status, created_at, updated_at in Order.objects.filter(
                source=DEMO_SOURCE, customer_id__in=[pk for pk, *_rest in chunk]
            ).values_list("external_id", "content_hash", "status", "created_at", "updated_at")
        }
        new, changed = [], []
        for pk, code, business_format, market in chunk:
            shop = {
                "today": today,
                "code": code,
                "business_format": business_format,
                "market": market,
                "cadence": order_cadence_days(options.customers, books[code]),
            }
            stale = set()
            for order in shop_clean_orders(
                options, customer_id=pk, product_ids=product_ids, amounts=amounts, **shop
            ):
                stored = known.get(order.external_id)
                if stored is None:
                    new.append(order)
                elif stored[1] and order.status != "placed" and stored[0] != order.content_hash:
                    stale.add(order.external_id)
                else:
                    totals["unchanged"] += 1
            if stale:  # a run on a later day: the demo's placed orders delivered since
                changed += [o for o in shop_orders(options, **shop) if o["external_id"] in stale]
        totals["created"] += orders_bulk_insert(orders=new, source=DEMO_SOURCE)
        totals["updated"] += _sync(changed, sync_actor)
        if len(shops) > CHUNK:
            report.step(
                f"  orders of {min(start + CHUNK, len(shops)):,} / {len(shops):,} shops: "
                f"{totals['created']:,} new"
            )
    if totals["created"] or totals["updated"]:
        facts = sales_facts_rebuild()
    else:  # what an earlier, interrupted run stored without reaching the rebuild
        facts = sales_facts_pending_drain()
    cadence = "weekly" if options.customers <= 5_000 else "weekly to monthly"
    report.lines.append(
        f"Orders ({options.months} months, {cadence}): {{created}} created, {{updated}} placed "
        "ones moved on, {unchanged} left as they are; {facts} monthly facts rebuilt.".format(
            facts=facts, **totals
        )
    )


def _sync(rows: list[dict], actor: Actor) -> int:
    """Changed orders through the sync (checked, replaced, audited); facts are rebuilt after."""
    updated = 0
    for start in range(0, len(rows), MAX_ORDERS_PER_SYNC):
        result = order_sync_many(
            rows=rows[start : start + MAX_ORDERS_PER_SYNC],
            source=DEMO_SOURCE,
            actor=actor,
            refresh_facts=False,
        )
        if result.errors:  # the demo's own data: a refusal is a bug here
            raise RuntimeError(f"Demo orders refused: {result.errors[:3]}")
        updated += result.updated
    return updated


def _rounds(
    options: DemoOptions,
    *,
    today: dt.date,
    code: str,
    business_format: str,
    market: str,
    cadence: int,
) -> Iterator[tuple[dt.date, str, str, bool, list[tuple[str, int]]]]:
    """One shop's orders over the demo period: (date, status, payment method, paid on time,
    lines as (product code, cartons)). Each order from a generator seeded by (seed, shop,
    date), so an order's content does not depend on when the period starts."""
    first = demo_first_day(options.months, today)
    profile = shop_profile(options.seed, code, market)
    opens = period_day(first, today, profile.opens) if profile.opens is not None else None
    closes = period_day(first, today, profile.closes) if profile.closes is not None else None
    middle = first + (today - first) / 2
    key = (options.seed * 10**13 + int(code)) * 10**6
    # The shop's order day: its weekday, and for a longer cadence a phase of its own.
    day = first + dt.timedelta(days=(profile.weekday - first.weekday()) % 7)
    day += dt.timedelta(weeks=random.Random(key).randrange(cadence // 7))  # noqa: S311
    weekly = _WEEKLY[business_format or "Q"] * profile.size
    skip = 0.06 if cadence == 7 else 0.03  # a round without an order
    settled = today - dt.timedelta(days=3)
    while day <= today:
        this, day = day, day + dt.timedelta(days=cadence)
        if (opens and this < opens) or (closes and this >= closes):
            continue
        rng = random.Random(key + this.toordinal())  # noqa: S311 - demo data
        if rng.random() < skip:
            continue
        volume = weekly * cadence / 7 * _season(this.year, this.month)
        volume *= max(0.2, 1 + profile.slope * (this - middle).days / 365)
        if opens:
            volume *= min(1.0, 0.4 + 0.6 * (this - opens).days / RAMP_DAYS)
        if closes:
            volume *= min(1.0, 0.3 + 0.7 * (closes - this).days / RAMP_DAYS)
        status = "placed"
        if this < settled:
            roll = rng.random()
            status = "delivered" if roll < 0.96 else "cancelled" if roll < 0.99 else "returned"
        method = "electronic" if rng.random() < profile.e_share else "cash"
        paid = rng.random() < (0.97 if profile.e_share else 0.9)
        yield this, status, method, paid, _lines(rng, volume, profile.upmarket)


def shop_orders(
    options: DemoOptions,
    *,
    today: dt.date,
    code: str,
    business_format: str,
    market: str,
    cadence: int = 7,
) -> list[dict]:
    """One shop's orders over the demo period, as the ordering system would send them."""
    return [
        {
            "external_id": f"DEMO-{code}-{day:%Y%m%d}",
            "customer_code": code,
            "order_date": day.isoformat(),
            "status": status,
            "payment_method": method,
            "paid_on_time": paid,
            "lines": [
                {"product_code": product, "quantity": quantity, "unit_price": str(_PRICE[product])}
                for product, quantity in lines
            ],
        }
        for day, status, method, paid, lines in _rounds(
            options,
            today=today,
            code=code,
            business_format=business_format,
            market=market,
            cadence=cadence,
        )
    ]


def shop_clean_orders(
    options: DemoOptions,
    *,
    today: dt.date,
    code: str,
    customer_id: int,
    business_format: str,
    market: str,
    cadence: int,
    product_ids: dict[str, int],
    amounts: dict[tuple[str, int], Decimal],
) -> list[CleanOrder]:
    """The same orders as `shop_orders`, built as `orders.sync.clean_order` would build them
    from those rows (the tests check they agree), without parsing them back: the bulk path's
    hot loop. `amounts` caches each (product, cartons) line amount."""
    orders = []
    for day, status, method, paid, lines in _rounds(
        options,
        today=today,
        code=code,
        business_format=business_format,
        market=market,
        cadence=cadence,
    ):
        clean_lines = []
        for product, quantity in lines:
            amount = amounts.get((product, quantity))
            if amount is None:
                amount = amounts[product, quantity] = (_PRICE[product] * quantity).quantize(_CENT)
            clean_lines.append((product_ids[product], quantity, _PRICE[product], amount))
        order = CleanOrder(
            index=0,
            external_id=f"DEMO-{code}-{day:%Y%m%d}",
            customer_id=customer_id,
            order_date=day,
            month=day.replace(day=1),
            status=status,
            payment_method=method,
            paid_on_time=paid,
            payment_date=None,
            lines=clean_lines,
            cartons=sum(line[1] for line in clean_lines),
            amount=sum((line[3] for line in clean_lines), Decimal("0.00")),
        )
        order.content_hash = content_hash(order)
        orders.append(order)
    return orders


@functools.cache
def _season(year: int, month: int) -> float:
    return season_factor(dt.date(year, month, 1))


_FAMILIES = [(_PREMIUM, 0.15, 0.5), (_MIDDLE, 0.5, 0.0), (_BUDGET, 0.6, -0.5)]
_CENT = Decimal("0.01")


def _lines(rng: random.Random, volume: float, upmarket: float) -> list[tuple[str, int]]:
    """An order's lines: its volume split over premium, middle and budget brands by how
    upmarket the shop is, one to three products of each."""
    shares = [base + tilt * upmarket for _codes, base, tilt in _FAMILIES]
    whole = sum(shares)
    lines = []
    draw = rng.random
    for (codes, _base, _tilt), share in zip(_FAMILIES, shares, strict=True):
        cartons = volume * share / whole
        # One to three products of the family, from a place of its own (distinct products;
        # cheaper than rng.sample in the hot loop of a big demo).
        size = len(codes)
        first = int(draw() * size)
        for step in range(min(size, 1 + int(draw() * 3))):
            quantity = round(cartons * (0.2 + 0.4 * draw()))
            lines.append((codes[(first + step) % size], max(1, quantity)))
    return lines
