"""Demo customers: `--customers` shops over every format and market type in the districts of
`crm.demo.organisation_plan`, with their account managers (and licence officers in the
generated districts), each with a trading profile (`shop_profile`: size, trend, e-settlement
share, new or closing), created through `customer_upsert_many` in chunks; and a few pending
change requests so the approval queue has work. Seeded once: a later run creates only the
shops that do not exist yet and never updates one."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count
from django.utils import timezone

from crm.choices import Role
from crm.demo import (
    NAMED_BOOKS,
    Book,
    DemoOptions,
    SeedReport,
    demo_first_day,
    organisation_plan,
    seed_once,
)
from crm.models import User
from crm.services import Actor
from customers.choices import CustomerStatus
from customers.models import ChangeRequest, Customer, CustomerAlias
from customers.selectors import mergeable_fields
from customers.services import (
    Mode,
    change_request_create,
    customer_merge,
    customer_upsert_many,
)

FORMAT_WEIGHTS = {"Z": 40, "B": 20, "Y": 15, "S": 8, "F": 8, "N": 3, "Q": 6}
NAME_PARTS = {
    "Z": ["食杂店", "小卖部", "杂货铺"],
    "B": ["便利店", "快客便利", "好德便利"],
    "Y": ["烟酒行", "名烟名酒", "烟酒商行"],
    "S": ["超市", "生活超市", "购物广场"],
    "F": ["KTV", "棋牌室", "酒店商务部"],
    "N": ["百货商场"],
    "Q": ["报刊亭", "加油站便利部"],
}
STREETS = {
    "GZ-TH": ["天河路", "体育西路", "林和中路", "龙口西路", "石牌东路"],
    "GZ-YX": ["中山五路", "北京路", "东风中路", "越秀南路"],
    "GZ-BY": ["太和镇大源村", "人和镇方石村", "钟落潭镇", "江高镇"],
}
GENERIC_STREETS = {
    "C": ["人民路", "解放路", "中山路", "建设路", "新华路", "和平路", "文化路", "青年路"],
    "X": ["东村", "西村", "新围村", "上塘村", "石龙村", "大岭村"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
TRADE = {"C": ["commercial", "residential", "transport", "school"], "X": ["village", "residential"]}
# Rows per customer_upsert_many call (it works in batches of 1,000 inside): a progress line
# each, and the rows of one call only in memory.
CHUNK = 10_000
# A closing shop that stopped ordering longer ago than this has its licence cancelled.
CLOSED_AFTER = dt.timedelta(days=45)


@dataclass(frozen=True)
class ShopProfile:
    """How a shop trades over the demo period (from the seed and its code alone, so the
    customers, orders and tests agree): its size, trend, how upmarket it is, its e-settlement
    share, its order weekday, and, for a new or closing shop, when in the period (a fraction
    from 0 to 1) it starts or stops ordering."""

    size: float
    trend: str  # growth / stable / decline
    slope: float  # change of volume per year
    upmarket: float
    e_share: float
    weekday: int
    opens: float | None = None
    closes: float | None = None


def shop_profile(seed: int, code: str, market: str) -> ShopProfile:
    rng = random.Random(f"{seed}:shop:{code}")  # noqa: S311 - demo data
    roll = rng.random()
    if roll < 0.22:
        trend, slope = "growth", rng.uniform(0.15, 0.5)
    elif roll < 0.44:
        trend, slope = "decline", -rng.uniform(0.15, 0.5)
    else:
        trend, slope = "stable", rng.uniform(-0.05, 0.05)
    life = rng.random()
    opens = rng.uniform(0.25, 0.75) if life < 0.06 else None
    closes = rng.uniform(0.3, 0.9) if 0.06 <= life < 0.10 else None
    cash_only = rng.random() < 0.08
    e_share = 0.0 if cash_only else rng.uniform(*((0.75, 1.0) if market == "C" else (0.35, 0.9)))
    return ShopProfile(
        size=rng.lognormvariate(0, 0.5),
        trend=trend,
        slope=slope,
        upmarket=rng.random() * (1.0 if market == "C" else 0.6),
        e_share=e_share,
        weekday=rng.randrange(6),
        opens=opens,
        closes=closes,
    )


def period_day(first: dt.date, today: dt.date, fraction: float) -> dt.date:
    """The day `fraction` of the way through the demo period."""
    return first + dt.timedelta(days=round((today - first).days * fraction))


def order_cadence_days(customers: int, book: Book) -> int:
    """Days between a shop's orders: weekly for the named books and small demos; fortnightly,
    then every four weeks for big ones (the volume a month stays the same)."""
    if book.named or customers <= 5_000:
        return 7
    return 14 if customers <= 50_000 else 28


def demo_books(options: DemoOptions) -> Iterator[tuple[str, Book]]:
    """Each shop's code and book, in code order (the named books first)."""
    n = 0
    for book in organisation_plan(options.customers).books:
        for _i in range(book.count):
            n += 1
            yield f"{book.code_prefix}{n:08d}", book


def customer_rows(options: DemoOptions, today: dt.date) -> Iterator[dict]:
    """The demo's customers as rows for `customer_upsert_many` (the same options and day give
    the same rows)."""
    rng = random.Random(options.seed)  # noqa: S311 - demo data
    first = demo_first_day(options.months, today)
    plan = organisation_plan(options.customers)
    officers: dict[str, list[str]] = {}
    for username, role, areas, _name in plan.users:
        if role == Role.LICENSE_OFFICER:
            officers.setdefault(areas[0], []).append(username)
    names = {code: name for code, name, _p in plan.areas}
    for n, (code, book) in enumerate(demo_books(options), start=1):
        market = book.market or ("X" if rng.random() < book.rural_share else "C")
        profile = shop_profile(options.seed, code, market)
        fmt = rng.choices(list(FORMAT_WEIGHTS), weights=list(FORMAT_WEIGHTS.values()))[0]
        owner = rng.choice(SURNAMES) + rng.choice("伟芳娜敏静强磊军洋勇艳杰")
        city = names[book.area.split("-")[0]]
        street = rng.choice(STREETS.get(book.area) or GENERIC_STREETS[market])
        if book.area not in STREETS:
            street = names[book.area] + street
        issued = f"{rng.randint(2019, 2025)}-0{rng.randint(1, 9)}-15"
        status, operating = "active", "normal"
        if profile.opens is not None:
            issued = (period_day(first, today, profile.opens) - dt.timedelta(days=20)).isoformat()
        if profile.closes is not None:
            stopped = period_day(first, today, profile.closes)
            status = "closed" if stopped < today - CLOSED_AFTER else "active"
            operating = "difficult"
        elif profile.trend == "decline" and rng.random() < 0.3:
            operating = "difficult"
        cadence = order_cadence_days(options.customers, book)
        row = {
            "customer_code": code,
            "license_number": f"{book.code_prefix}{(n + 50000):08d}",
            "store_name": f"{owner[0]}记{rng.choice(NAME_PARTS[fmt])}",
            "legal_representative": owner,
            "business_scope": "卷烟、雪茄烟零售",
            "address": f"{city}{street}{rng.randint(1, 300)}号",
            "business_format": fmt,
            "market_type": market,
            "area": book.area,
            "account_manager": book.manager,
            "premises": rng.choice(["owned", "rented", "rented"]),
            "floor_area_m2": str(rng.choice([12, 18, 25, 30, 45, 60, 80, 120, 300])),
            "registered_capital": str(rng.choice([10000, 30000, 50000, 100000])),
            "license_type": "retail",
            "issuing_bureau": f"{city}烟草专卖局",
            "license_issue_date": issued,
            "license_expiry_date": f"{rng.randint(2027, 2030)}-0{rng.randint(1, 9)}-14",
            "status": status,
            "phone": f"13{rng.randint(100000000, 999999999)}",
            "contact_person": owner,
            "payment_method": "electronic" if profile.e_share >= 0.5 else "cash",
            "order_cycle": {7: "weekly", 14: "fortnightly"}.get(cadence, "monthly"),
            "visit_cycle": rng.choice(["weekly", "fortnightly", "monthly"]),
            "visit_batch": rng.choice(["周一", "周二", "周三", "周四", "周五"]),
            "delivery_route": f"{book.area}-{rng.randint(1, 6):02d}",
            "outlet_size": rng.choice(["small", "small", "medium", "large"]),
            "operating_status": operating,
            "trade_area": rng.choice(TRADE[market]),
            "latitude": f"{23.1 + rng.random() * 0.2:.6f}",
            "longitude": f"{113.25 + rng.random() * 0.2:.6f}",
        }
        if book.area in officers:
            district = officers[book.area]
            row["license_officer"] = district[n % len(district)]
        row.update(shop_attributes(options.seed, code))
        row.update(licence_dates(options.seed, code, today, row["license_issue_date"]))
        yield row


def licence_dates(seed: int, code: str, today: dt.date, issued: str) -> dict[str, Any]:
    """The licence's annual review, somewhere in the coming year, and for about 1 shop in 8 a
    licence that expires in the next 75 days, so the licence officer's home has work in it
    (from the seed and the code alone, so the other rows' random draws do not move)."""
    rng = random.Random(f"{seed}:licence:{code}")  # noqa: S311 - demo data
    values: dict[str, Any] = {
        "annual_review_date": (today + dt.timedelta(days=rng.randint(1, 365))).isoformat()
    }
    if rng.random() < 0.125:
        expiry = today + dt.timedelta(days=rng.randint(0, 75))
        if expiry.isoformat() >= issued:
            values["license_expiry_date"] = expiry.isoformat()
    return values


def shop_attributes(seed: int, code: str) -> dict[str, Any]:
    """What the demo leaves blank about a shop, as real data does (from the seed and the code
    alone, so the other rows' random draws do not move): about 1 shop in 10 has no outlet size
    or trade area entered; the model-outlet flag is entered for about two thirds (1 in 20 a
    model outlet, the others "no") and unknown for the rest. The valuation scores the blanks
    as missing, and the customer page says so."""
    rng = random.Random(f"{seed}:attributes:{code}")  # noqa: S311 - demo data
    values: dict[str, Any] = {}
    if rng.random() < 0.1:
        values.update(outlet_size="", trade_area="")
    roll = rng.random()
    if roll < 0.05:
        values["is_model_outlet"] = "yes"
    elif roll < 0.65:
        values["is_model_outlet"] = "no"
    return values


def seed_customers(report: SeedReport, *, actor: Actor) -> None:
    """The demo's shops that do not exist yet, created through the customer service in
    chunks. A shop that exists is left as people left it (an approved change, an imported
    phone, an edit): the demo never updates one, so a bigger `--customers` only adds shops."""
    options, today = report.options, timezone.localdate()
    totals = {"created": 0, "kept": 0}
    rows = customer_rows(options, today)
    done = 0
    while chunk := list(itertools.islice(rows, CHUNK)):
        existing = set(
            Customer.objects.filter(
                customer_code__in=[row["customer_code"] for row in chunk]
            ).values_list("customer_code", flat=True)
        )
        new = [row for row in chunk if row["customer_code"] not in existing]
        totals["kept"] += len(chunk) - len(new)
        if new:
            result = customer_upsert_many(rows=new, actor=actor, mode=Mode.CREATE)
            if result.errors():  # the demo's own data: a refusal is a bug here
                raise RuntimeError(f"Demo customers refused: {result.errors()[:3]}")
            totals["created"] += result.counts()["created"]
        done += len(chunk)
        if options.customers > CHUNK:
            report.step(f"  customers {done:,} / {options.customers:,}")
    report.lines.append(
        "Customers: {created} created, {kept} existing left as they are.".format(**totals)
    )
    _seed_change_requests(report)
    _seed_catalogue(report, actor=actor)


def demo_sample(options: DemoOptions) -> set[int]:
    """The shops that get the full visit and service history: every shop of the named
    account managers and the first few of every other one (about 1,000 more in all, at least
    one each), so every page has something while nothing per shop runs for all of a big
    demo."""
    named = {manager for _a, manager, _m, _c in NAMED_BOOKS}
    rows = list(
        Customer.objects.filter(account_manager__isnull=False)
        .order_by("customer_code")
        .values_list("pk", "account_manager__username")
    )
    others = {username for _pk, username in rows if username not in named}
    per_manager = max(1, SAMPLE_OTHERS // max(1, len(others)))
    taken: dict[str, int] = {}
    sample = set()
    for pk, username in rows:
        if username in named:
            sample.add(pk)
        elif taken.get(username, 0) < per_manager:
            taken[username] = taken.get(username, 0) + 1
            sample.add(pk)
    return sample


SAMPLE_OTHERS = 1000


def months_missing(results: type[models.Model], months: list[dt.date]) -> list[dt.date]:
    """The months of `months` for which some shop that is not closed has no row in `results`
    (the grading or valuation results: one row per customer and month): never computed, or
    shops added since (a bigger `--customers`, a stage an interrupted run cut off). A month
    every open shop has a result for is left alone, whatever scheme was activated since."""
    open_shops = Customer.objects.exclude(dynamic__status=CustomerStatus.CLOSED)
    wanted = open_shops.count()
    done = dict(
        results.objects.filter(month__in=months, customer__in=open_shops)
        .order_by()
        .values_list("month")
        .annotate(n=Count("id"))
    )
    return [month for month in months if done.get(month, 0) < wanted]


def _seed_change_requests(report: SeedReport) -> None:
    """Two pending requests from account managers, once: the supervisors' decisions stand."""
    if not seed_once("customers.change_requests", made=ChangeRequest.objects.exists):
        return
    for manager, new_name, reason in [
        ("am_zhang", "（新招牌）", "门头招牌已更换，店名随之变更"),
        ("am_zhao", "（扩店）", "店铺扩建，更新店名"),
    ]:
        user = User.objects.get(username=manager)
        customer = Customer.objects.filter(account_manager=user).order_by("customer_code").first()
        if customer is None:
            continue
        change_request_create(
            customer=customer,
            user=user,
            data={"store_name": customer.store_name + new_name},
            reason=reason,
        )
    report.lines.append("Change requests: 2 pending for the supervisors.")


def _seed_catalogue(report: SeedReport, *, actor: Actor) -> None:
    """Once: an active field catalogue version with two overrides, as an administrator would
    set them (the settings page shows them marked): the visit batch is set by supervisors,
    who plan the routes, and a change of order cycle needs approval (it moves the shop's
    deliveries). Through the catalogue services, audited."""
    from customers.models import CatalogueVersion
    from customers.services_catalogue import (
        catalogue_activate,
        catalogue_draft_start,
        catalogue_draft_update,
    )

    if not seed_once("customers.catalogue", made=CatalogueVersion.objects.exists):
        return
    draft = catalogue_draft_start(actor=actor)
    catalogue_draft_update(
        version=draft,
        settings={
            "visit_batch": ("dynamic", "supervisor", False),
            "order_cycle": ("dynamic", "approval", False),
        },
        note="Visit batches by supervisors; order cycles by approval",
        actor=actor,
    )
    catalogue_activate(version=draft, actor=actor)
    report.lines.append("Field catalogue: version 1 active with 2 overrides.")


def _seed_duplicate(report: SeedReport) -> None:
    """Once: a second record of one of am_zhang's shops, entered by a supervisor who typed its
    phone with the country prefix and dashes and its address with a full-width number and a
    traditional 號 — what the duplicates page and the duplicate warnings exist to catch."""
    original = (
        Customer.objects.filter(account_manager__username="am_zhang")
        .select_related("dynamic", "area")
        .order_by("customer_code")
        .first()
    )
    if original is None or not original.address:
        return
    prefix = original.customer_code[:4]
    code = f"{prefix}90000001"

    def made() -> bool:  # a demo seeded before this part was recorded, or merged since
        return (
            Customer.objects.filter(customer_code=code).exists()
            or CustomerAlias.objects.filter(code=code).exists()
        )

    if not seed_once("customers.duplicate", made=made):
        return
    phone = original.dynamic.phone
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    address = re.sub(
        r"(\d+)号$", lambda m: m.group(1).translate(full_width) + "號", original.address
    )
    row = {
        "customer_code": code,
        "license_number": f"{prefix}90050001",
        "store_name": original.store_name + "店",
        "address": address,
        "business_format": original.business_format,
        "market_type": original.market_type,
        "area": original.area.code,
        "account_manager": "am_zhang",
        "phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}" if len(phone) == 11 else phone,
        "status": "active",
    }
    actor = Actor.system("seed_demo")
    result = customer_upsert_many(rows=[row], actor=actor, mode=Mode.CREATE)
    if result.errors():
        raise RuntimeError(f"Demo duplicate refused: {result.errors()}")
    report.lines.append(
        f"Duplicates: {row['customer_code']} is a second record of {original.customer_code} "
        "(same phone and address, typed differently)."
    )


def seed_merge(report: SeedReport, *, actor: Actor) -> None:
    """One shop entered twice, once: a second record of the first demo shop (another code and
    licence, the same phone and address, an order of its own) merged into it, so the demo
    shows a merge — the alias its code became (the shop's page and search find it), the
    merged record's history on the survivor's page, its order moved — and the merge page
    compares two records. After the orders, before the monthly stages that read them."""
    from customers.catalogue import external_value
    from orders.selectors import product_by_code
    from orders.services import order_sync_many

    if not seed_once("customers.merge", made=CustomerAlias.objects.exists):
        return
    shop = Customer.objects.with_parts().select_related("license_officer").first()
    if shop is None:
        return
    product = product_by_code("6901028180566")  # 玉溪(软), one of the demo's products
    prefix = shop.customer_code[:4]
    row = {
        spec.name: value
        for spec in mergeable_fields()
        if (value := external_value(shop, spec.name)) not in (None, "")
    }
    row.update(
        customer_code=f"{prefix}99000001",
        license_number=f"{prefix}99500001",
        store_name=f"{shop.store_name}（重复录入）",
    )
    created = customer_upsert_many(rows=[row], actor=actor, mode=Mode.CREATE)
    if created.errors():  # the demo's own data: a refusal is a bug here
        raise RuntimeError(f"Demo duplicate refused: {created.errors()}")
    duplicate = Customer.objects.get(pk=created.results[0].customer_id)
    if product is not None:
        day = timezone.localdate() - dt.timedelta(days=3)
        order_sync_many(
            rows=[
                {
                    "external_id": "DEMO-DUPLICATE-1",
                    "customer_code": duplicate.customer_code,
                    "order_date": day.isoformat(),
                    "status": "delivered",
                    "payment_method": "electronic",
                    "paid_on_time": True,
                    "payment_date": day.isoformat(),
                    "lines": [
                        {"product_code": product.code, "quantity": 2, "unit_price": "220.00"}
                    ],
                }
            ],
            source=actor.label,
            actor=actor,
        )
    customer_merge(survivor=shop, merged=duplicate, values={}, confirm_months=True, actor=actor)
    report.lines.append(
        f"Merge: record {duplicate.customer_code} merged into {shop.customer_code} "
        "(its code is an alias of the shop now)."
    )


def seed_duplicates(report: SeedReport, *, actor: Actor) -> None:
    """The demo's data-quality stage, after the orders: one shop entered twice and merged
    (`seed_merge`), and one entered twice and not yet noticed (`_seed_duplicate`), which the
    duplicates page lists."""
    seed_merge(report, actor=actor)
    _seed_duplicate(report)
