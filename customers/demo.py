"""Demo customers: shops over every format and market type in the demo areas, with their
account managers, and a few pending change requests so the approval queue has work."""

from __future__ import annotations

import random

from crm.demo import SeedReport
from crm.models import User
from crm.services import Actor
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, Customer
from customers.services import change_request_create, customer_upsert_many

# (area, account manager, market type, number of shops)
DEMO_BOOKS = [
    ("GZ-TH", "am_zhang", "C", 24),
    ("GZ-TH", "am_liu", "C", 20),
    ("GZ-YX", "am_zhao", "C", 22),
    ("GZ-BY", "am_huang", "X", 26),
]
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
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
TRADE = {"C": ["commercial", "residential", "transport", "school"], "X": ["village", "residential"]}


def _rows(rng: random.Random) -> list[dict]:
    rows, n = [], 0
    for area, manager, market, count in DEMO_BOOKS:
        for _ in range(count):
            n += 1
            fmt = rng.choices(list(FORMAT_WEIGHTS), weights=list(FORMAT_WEIGHTS.values()))[0]
            owner = rng.choice(SURNAMES) + rng.choice("伟芳娜敏静强磊军洋勇艳杰")
            street = rng.choice(STREETS[area])
            rows.append(
                {
                    "customer_code": f"4401{n:08d}",
                    "license_number": f"4401{(n + 50000):08d}",
                    "store_name": f"{owner[0]}记{rng.choice(NAME_PARTS[fmt])}",
                    "legal_representative": owner,
                    "business_scope": "卷烟、雪茄烟零售",
                    "address": f"广州市{street}{rng.randint(1, 300)}号",
                    "business_format": fmt,
                    "market_type": market,
                    "area": area,
                    "account_manager": manager,
                    "premises": rng.choice(["owned", "rented", "rented"]),
                    "floor_area_m2": str(rng.choice([12, 18, 25, 30, 45, 60, 80, 120, 300])),
                    "registered_capital": str(rng.choice([10000, 30000, 50000, 100000])),
                    "license_type": "retail",
                    "issuing_bureau": "广州市烟草专卖局",
                    "license_issue_date": f"{rng.randint(2019, 2025)}-0{rng.randint(1, 9)}-15",
                    "license_expiry_date": f"{rng.randint(2027, 2030)}-0{rng.randint(1, 9)}-14",
                    "status": "active",
                    "phone": f"13{rng.randint(100000000, 999999999)}",
                    "contact_person": owner,
                    "payment_method": rng.choice(["electronic", "electronic", "cash"]),
                    "order_cycle": "weekly",
                    "visit_cycle": rng.choice(["weekly", "fortnightly", "monthly"]),
                    "visit_batch": rng.choice(["周一", "周二", "周三", "周四", "周五"]),
                    "delivery_route": f"{area}-{rng.randint(1, 6):02d}",
                    "outlet_size": rng.choice(["small", "small", "medium", "large"]),
                    "operating_status": "normal",
                    "trade_area": rng.choice(TRADE[market]),
                    "latitude": f"{23.1 + rng.random() * 0.2:.6f}",
                    "longitude": f"{113.25 + rng.random() * 0.2:.6f}",
                }
            )
    return rows


def seed_customers(report: SeedReport, *, actor: Actor) -> None:
    """About 90 shops; idempotent (a second run reports every shop unchanged)."""
    result = customer_upsert_many(rows=_rows(random.Random(2026)), actor=actor)  # noqa: S311
    counts = result.counts()
    report.lines.append(
        "Customers: {created} created, {updated} updated, {unchanged} unchanged.".format(**counts)
    )
    _seed_change_requests(report)


def _seed_change_requests(report: SeedReport) -> None:
    """Two pending requests from account managers, once."""
    if ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).exists():
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
