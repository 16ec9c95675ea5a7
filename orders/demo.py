"""Demo products and a year of weekly orders for the demo shops, sent through the same
services as the REST sync (so facts and purchase figures are computed the real way).

Deterministic: each order's content comes from a generator seeded by (shop, date), so a
second run reports every order unchanged; a run on a later day adds the new weeks.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from crm.choices import AuditSource
from crm.demo import SeedReport
from crm.models import User
from crm.services import Actor
from customers.models import Customer
from orders.services import MAX_ORDERS_PER_SYNC, order_sync_many, product_upsert_many

DEMO_SOURCE = "ordering-system"  # the demo API client (crm.demo)
WEEKS = 52

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
# Monthly volume factor: the Spring Festival peak (Jan-Feb), summer and National Day lifts.
_SEASON = {1: 1.6, 2: 1.35, 3: 0.85, 4: 0.9, 5: 1.0, 6: 0.95, 7: 1.0, 8: 1.0, 9: 1.05, 10: 1.15}
# Cartons a week by business format (before the shop's own size factor): a grocery buys about
# 200 cartons a month, a supermarket 850, so the demo spreads over the eight grades.
_WEEKLY = {"Z": 45, "B": 55, "Y": 120, "S": 200, "F": 25, "N": 150, "Q": 20}


def seed_orders(report: SeedReport, *, actor: Actor) -> None:
    """The product catalogue and a year of weekly orders for every demo shop."""
    products = product_upsert_many(
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
        ],
        actor=actor,
    )
    report.lines.append(
        "Products: {created} created, {updated} updated, {unchanged} unchanged.".format(
            **products.as_dict()
        )
    )
    client = User.objects.filter(username=DEMO_SOURCE).first()
    sync_actor = (
        Actor(user=client, source=AuditSource.API, label=client.username) if client else actor
    )
    orders = demo_orders(today=timezone.localdate())
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(orders), MAX_ORDERS_PER_SYNC):
        result = order_sync_many(
            rows=orders[start : start + MAX_ORDERS_PER_SYNC], source=DEMO_SOURCE, actor=sync_actor
        )
        if result.errors:
            raise RuntimeError(f"Demo orders refused: {result.errors[:3]}")
        for key in totals:
            totals[key] += getattr(result, key)
    report.lines.append(
        "Orders (a year, weekly): {created} created, {updated} updated, "
        "{unchanged} unchanged.".format(**totals)
    )


def demo_orders(*, today: dt.date) -> list[dict]:
    """A year of weekly orders per demo shop, as the ordering system would send them."""
    orders = []
    shops = Customer.objects.order_by("customer_code").values_list(
        "customer_code", "business_format"
    )
    for code, business_format in shops:
        shop = random.Random(code)  # noqa: S311 - demo data
        size = shop.lognormvariate(0, 0.5)
        trend = shop.choice([-0.4, -0.15, 0, 0, 0.1, 0.3])  # change over the year
        upmarket = shop.random()
        electronic = shop.random() < 0.8
        weekday = shop.randrange(5)
        first = today - dt.timedelta(weeks=WEEKS)
        first += dt.timedelta(days=(weekday - first.weekday()) % 7)
        for week in range(WEEKS + 1):
            day = first + dt.timedelta(weeks=week)
            if day > today:
                break
            rng = random.Random(f"{code}:{day.isoformat()}")  # noqa: S311
            if rng.random() < 0.06:  # a week without an order
                continue
            volume = _WEEKLY[business_format or "Q"] * size * _SEASON.get(day.month, 1.0)
            volume *= 1 + trend * (week / WEEKS - 0.5)
            orders.append(
                {
                    "external_id": f"DEMO-{code}-{day:%Y%m%d}",
                    "customer_code": code,
                    "order_date": day.isoformat(),
                    "status": rng.choices(
                        ["delivered", "cancelled", "returned"], weights=[96, 3, 1]
                    )[0]
                    if day < today - dt.timedelta(days=3)
                    else "placed",
                    "payment_method": "electronic"
                    if electronic and rng.random() < 0.95
                    else "cash",
                    "paid_on_time": rng.random() < 0.97,
                    "lines": _lines(rng, volume, upmarket),
                }
            )
    return orders


def _lines(rng: random.Random, volume: float, upmarket: float) -> list[dict]:
    weights = {"premium": 0.15 + 0.5 * upmarket, "middle": 0.5, "budget": 0.6 - 0.5 * upmarket}
    lines = {}
    for family, share in weights.items():
        codes = {"premium": _PREMIUM, "middle": _MIDDLE, "budget": _BUDGET}[family]
        cartons = round(volume * share / sum(weights.values()))
        for code in rng.sample(codes, k=min(len(codes), 1 + rng.randrange(3))):
            quantity = max(1, round(cartons * rng.uniform(0.2, 0.6)))
            lines[code] = {
                "product_code": code,
                "quantity": quantity,
                "unit_price": str(_PRICE[code]),
            }
    return list(lines.values())
