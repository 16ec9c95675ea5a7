"""Demo data for the organisation: areas and a user of every role.

`seed_demo` runs the seeders listed in `DEMO_SEEDERS` in order; each later app adds its own
(customers, products and orders, visits, services) so the demo shows every feature.

The demo is seeded once: a later run (`./scripts/run` runs the command every time) only adds
what is missing — areas, people, shops, products and orders that do not exist yet, months not
graded or valued yet — and never changes or replays what exists, so whatever people did with
the demo (approved a change, imported a phone, moved a visit, changed a password or a
setting, deleted a draft) stays as they left it. The one-off parts (the change requests, the
drafts, the peak months, the overrides, the visit and service histories…) are recorded as
`DemoSeedStep` rows by `seed_once`, in the same transaction as the part.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.module_loading import import_string

from crm.choices import AuditSource, Role
from crm.dates import add_months, month_start
from crm.models import Area, DemoSeedStep, User
from crm.services import Actor, api_client_create, area_upsert, user_create

# Local demo only: seed_demo refuses to run outside DEBUG unless forced.
DEMO_PASSWORD = "crm-demo"  # noqa: S105

DEMO_AREAS = [
    # code, name, parent
    ("GZ", "广州市", None),
    ("GZ-TH", "天河区", "GZ"),
    ("GZ-YX", "越秀区", "GZ"),
    ("GZ-BY", "白云区", "GZ"),
]

DEMO_USERS = [
    # username, role, areas, name
    ("admin", Role.ADMINISTRATOR, [], "王敏"),
    ("sup_city", Role.SUPERVISOR, ["GZ"], "陈静"),
    ("sup_tianhe", Role.SUPERVISOR, ["GZ-TH"], "李强"),
    ("am_zhang", Role.ACCOUNT_MANAGER, ["GZ-TH"], "张伟"),
    ("am_liu", Role.ACCOUNT_MANAGER, ["GZ-TH"], "刘洋"),
    ("am_zhao", Role.ACCOUNT_MANAGER, ["GZ-YX"], "赵磊"),
    ("am_huang", Role.ACCOUNT_MANAGER, ["GZ-BY"], "黄芳"),
    ("lo_sun", Role.LICENSE_OFFICER, ["GZ-TH", "GZ-YX"], "孙丽"),
]

DEMO_API_CLIENT = "ordering-system"

# --- size options ----------------------------------------------------------------------------

DEFAULT_CUSTOMERS = 100
MIN_CUSTOMERS = 50
MAX_CUSTOMERS = 1_000_000
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
DEFAULT_SEED = 2026


@dataclass(frozen=True)
class DemoOptions:
    """How big the demo is: customers, months of orders, grades and values, and the seed of
    every generator (the same options give the same data)."""

    customers: int = DEFAULT_CUSTOMERS
    months: int = DEFAULT_MONTHS
    seed: int = DEFAULT_SEED


def demo_options_check(options: DemoOptions) -> list[str]:
    """What is wrong with the options (empty when they are fine)."""
    problems = []
    if not MIN_CUSTOMERS <= options.customers <= MAX_CUSTOMERS:
        problems.append(
            f"--customers must be between {MIN_CUSTOMERS:,} and {MAX_CUSTOMERS:,} "
            f"(got {options.customers:,}): the demo needs enough shops for every account "
            "manager's book."
        )
    if not 1 <= options.months <= MAX_MONTHS:
        problems.append(f"--months must be between 1 and {MAX_MONTHS} (got {options.months}).")
    if options.seed < 0:
        problems.append(f"--seed must be zero or more (got {options.seed}).")
    return problems


def demo_first_day(months: int, today: dt.date) -> dt.date:
    """The first day of the demo period: the start of the first of the `months` months up to
    and including this one (orders, grades and values cover the period)."""
    return add_months(month_start(today), -(months - 1))


def demo_months(months: int, today: dt.date) -> list[dt.date]:
    """The first days of the period's months, oldest first."""
    return [add_months(month_start(today), -back) for back in range(months - 1, -1, -1)]


# The Spring Festival (春节, first day of the lunar year): its month and the month before are
# the year's sales peak, and its month is flagged as the peak month in grading.
SPRING_FESTIVALS = [
    dt.date(2020, 1, 25),
    dt.date(2021, 2, 12),
    dt.date(2022, 2, 1),
    dt.date(2023, 1, 22),
    dt.date(2024, 2, 10),
    dt.date(2025, 1, 29),
    dt.date(2026, 2, 17),
    dt.date(2027, 2, 6),
    dt.date(2028, 1, 26),
    dt.date(2029, 2, 13),
    dt.date(2030, 2, 3),
    dt.date(2031, 1, 23),
    dt.date(2032, 2, 11),
]
_SPRING_MONTHS = {month_start(day) for day in SPRING_FESTIVALS}
# Monthly volume outside the festival: a dip in spring, summer and Mid-Autumn lifts, the
# National Day (October) holidays, the year-end.
_MONTH_FACTOR = {
    1: 1.0,
    2: 1.0,
    3: 0.9,
    4: 0.92,
    5: 1.0,
    6: 0.96,
    7: 1.06,
    8: 1.06,
    9: 1.05,
    10: 1.15,
    11: 0.97,
    12: 1.02,
}


def season_factor(day: dt.date) -> float:
    """The demand factor of `day`'s month: 1.6 in the Spring Festival's month, 1.35 the month
    before (the festival shopping), 0.85 the month after, the month's own factor otherwise."""
    month = month_start(day)
    if month in _SPRING_MONTHS:
        return 1.6
    if add_months(month, 1) in _SPRING_MONTHS:
        return 1.35
    if add_months(month, -1) in _SPRING_MONTHS:
        return 0.85
    return _MONTH_FACTOR[month.month]


def spring_festival_months(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Spring Festival months from `first`'s month to `last`'s month."""
    return sorted(m for m in _SPRING_MONTHS if month_start(first) <= m <= month_start(last))


# --- the organisation for N customers ----------------------------------------------------------

# The named account managers' books: their share of a small demo (92 shops at the old size);
# they grow with the demo up to ten times that, and the rest goes to generated managers.
NAMED_BOOKS = [
    # area, account manager, market type, shops in a 92-shop demo
    ("GZ-TH", "am_zhang", "C", 24),
    ("GZ-TH", "am_liu", "C", 20),
    ("GZ-YX", "am_zhao", "C", 22),
    ("GZ-BY", "am_huang", "X", 26),
]
NAMED_BOOKS_MAX_SCALE = 10
SHOPS_PER_DISTRICT = 3000  # a district of a big city has a few thousand licensed retailers
SHOPS_PER_MANAGER = 250  # a real account manager looks after 150-400 shops
SHOPS_PER_OFFICER = 2000

# City code, name, customer-code prefix (the administrative division), districts:
# (code, name, share of rural shops). The first three districts are the named users'.
CITIES = [
    (
        "GZ",
        "广州市",
        "4401",
        [
            ("GZ-TH", "天河区", 0.0),
            ("GZ-YX", "越秀区", 0.0),
            ("GZ-BY", "白云区", 0.6),
            ("GZ-HZ", "海珠区", 0.0),
            ("GZ-LW", "荔湾区", 0.0),
            ("GZ-PY", "番禺区", 0.3),
            ("GZ-HP", "黄埔区", 0.2),
            ("GZ-HD", "花都区", 0.6),
            ("GZ-NS", "南沙区", 0.6),
            ("GZ-CH", "从化区", 0.8),
            ("GZ-ZC", "增城区", 0.7),
        ],
    ),
    (
        "SZ",
        "深圳市",
        "4403",
        [
            ("SZ-FT", "福田区", 0.0),
            ("SZ-LH", "罗湖区", 0.0),
            ("SZ-NS", "南山区", 0.0),
            ("SZ-BA", "宝安区", 0.2),
            ("SZ-LG", "龙岗区", 0.2),
            ("SZ-LHQ", "龙华区", 0.1),
            ("SZ-YT", "盐田区", 0.1),
            ("SZ-PS", "坪山区", 0.3),
            ("SZ-GM", "光明区", 0.3),
        ],
    ),
    (
        "FS",
        "佛山市",
        "4406",
        [
            ("FS-CC", "禅城区", 0.0),
            ("FS-NH", "南海区", 0.3),
            ("FS-SD", "顺德区", 0.3),
            ("FS-SS", "三水区", 0.6),
            ("FS-GM", "高明区", 0.6),
        ],
    ),
    (
        "DG",
        "东莞市",
        "4419",
        [
            ("DG-GC", "莞城街道", 0.0),
            ("DG-NC", "南城街道", 0.0),
            ("DG-DC", "东城街道", 0.1),
            ("DG-WJ", "万江街道", 0.3),
            ("DG-HM", "虎门镇", 0.4),
            ("DG-CA", "长安镇", 0.4),
            ("DG-CP", "常平镇", 0.5),
            ("DG-TX", "塘厦镇", 0.5),
        ],
    ),
    (
        "ZH",
        "珠海市",
        "4404",
        [("ZH-XZ", "香洲区", 0.1), ("ZH-DM", "斗门区", 0.6), ("ZH-JW", "金湾区", 0.4)],
    ),
    (
        "ZS",
        "中山市",
        "4420",
        [
            ("ZS-SQ", "石岐街道", 0.0),
            ("ZS-DQ", "东区街道", 0.0),
            ("ZS-XQ", "西区街道", 0.1),
            ("ZS-NQ", "南区街道", 0.3),
            ("ZS-XL", "小榄镇", 0.5),
        ],
    ),
    (
        "HZ",
        "惠州市",
        "4413",
        [
            ("HZ-HC", "惠城区", 0.2),
            ("HZ-HY", "惠阳区", 0.4),
            ("HZ-BL", "博罗县", 0.7),
            ("HZ-HD", "惠东县", 0.7),
            ("HZ-LM", "龙门县", 0.8),
        ],
    ),
    (
        "JM",
        "江门市",
        "4407",
        [
            ("JM-PJ", "蓬江区", 0.1),
            ("JM-JH", "江海区", 0.2),
            ("JM-XH", "新会区", 0.5),
            ("JM-TS", "台山市", 0.7),
            ("JM-KP", "开平市", 0.7),
            ("JM-HS", "鹤山市", 0.6),
            ("JM-EP", "恩平市", 0.7),
        ],
    ),
    (
        "ST",
        "汕头市",
        "4405",
        [
            ("ST-JP", "金平区", 0.0),
            ("ST-LH", "龙湖区", 0.1),
            ("ST-HJ", "濠江区", 0.4),
            ("ST-CY", "潮阳区", 0.6),
            ("ST-CN", "潮南区", 0.6),
            ("ST-CH", "澄海区", 0.5),
        ],
    ),
    (
        "ZJ",
        "湛江市",
        "4408",
        [
            ("ZJ-CK", "赤坎区", 0.0),
            ("ZJ-XS", "霞山区", 0.1),
            ("ZJ-PT", "坡头区", 0.6),
            ("ZJ-MZ", "麻章区", 0.6),
            ("ZJ-LZ", "雷州市", 0.8),
            ("ZJ-LJ", "廉江市", 0.8),
            ("ZJ-WC", "吴川市", 0.7),
        ],
    ),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋"
_GIVEN = "伟芳娜敏静强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红建文辉丽斌宇浩凯鹏"


@dataclass(frozen=True)
class Book:
    """Shops of one account manager in one district; `market` is None when the district's
    rural share decides each shop's market type."""

    area: str
    manager: str
    count: int
    named: bool
    market: str | None = None
    rural_share: float = 0.0
    code_prefix: str = "4401"


@dataclass
class OrganisationPlan:
    """Areas, people and books for a demo of N customers (pure: computed from N alone)."""

    areas: list[tuple[str, str, str | None]]
    users: list[tuple[str, str, list[str], str]]  # the generated ones, after DEMO_USERS
    books: list[Book]

    def role_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _username, role, _areas, _name in [*DEMO_USERS, *self.users]:
            counts[role] = counts.get(role, 0) + 1
        return counts


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder; deterministic)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _person_name(n: int) -> str:
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n * 7 + n // len(_SURNAMES)) % len(_GIVEN)]


def organisation_plan(customers: int) -> OrganisationPlan:
    """The districts, generated people and books for `customers` shops.

    The named users always exist and keep books in their districts (growing with the demo up
    to ten times the small demo's); the rest of the shops go to districts of several cities
    (about 3,000 a district), each with generated account managers (about 250 shops each),
    licence officers (about 2,000 shops each), a supervisor, and a supervisor per city.
    """
    named_total = min(customers, round(92 * NAMED_BOOKS_MAX_SCALE))
    named_sizes = _apportion(named_total, [count for *_r, count in NAMED_BOOKS])
    books = [
        Book(area=area, manager=manager, count=count, named=True, market=market)
        for (area, manager, market, _base), count in zip(NAMED_BOOKS, named_sizes, strict=True)
    ]
    districts = [
        (city, city_name, prefix, code, name, rural)
        for city, city_name, prefix, rows in CITIES
        for code, name, rural in rows
    ]
    used = districts[: min(len(districts), max(3, -(-customers // SHOPS_PER_DISTRICT)))]
    rest = _apportion(customers - named_total, [1.0] * len(used))

    areas: list[tuple[str, str, str | None]] = list(DEMO_AREAS)
    known = {code for code, _n, _p in areas}
    users: list[tuple[str, str, list[str], str]] = []
    numbers = {Role.ACCOUNT_MANAGER: 0, Role.SUPERVISOR: 0, Role.LICENSE_OFFICER: 0}
    prefixes = {Role.ACCOUNT_MANAGER: "am", Role.SUPERVISOR: "sup", Role.LICENSE_OFFICER: "lo"}

    def person(role: str, area_codes: list[str]) -> str:
        numbers[role] += 1
        username = f"{prefixes[role]}_{numbers[role]:04d}"
        users.append((username, role, area_codes, _person_name(len(users) + 11)))
        return username

    cities_with_people = {"GZ"}
    for (city, city_name, prefix, code, name, rural), count in zip(used, rest, strict=True):
        if city not in known:
            areas.append((city, city_name, None))
            known.add(city)
        if code not in known:
            areas.append((code, name, city))
            known.add(code)
        if count == 0:
            continue
        if city not in cities_with_people:
            person(Role.SUPERVISOR, [city])
            cities_with_people.add(city)
        if code != "GZ-TH":
            person(Role.SUPERVISOR, [code])
        for _n in range(-(-count // SHOPS_PER_OFFICER)):
            person(Role.LICENSE_OFFICER, [code])
        managers = -(-count // SHOPS_PER_MANAGER)
        for size in _apportion(count, [1.0] * managers):
            books.append(
                Book(
                    area=code,
                    manager=person(Role.ACCOUNT_MANAGER, [code]),
                    count=size,
                    named=False,
                    rural_share=rural,
                    code_prefix=prefix,
                )
            )
    return OrganisationPlan(areas=areas, users=users, books=books)


@dataclass
class SeedReport:
    """What the seeders did, for the command to print; the options they build to, and a
    `progress` callback for the lines a long run prints as it goes."""

    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    options: DemoOptions = field(default_factory=DemoOptions)
    progress: Callable[[str], None] | None = None

    def step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    @property
    def plan(self) -> OrganisationPlan:
        if getattr(self, "_plan", None) is None:
            self._plan = organisation_plan(self.options.customers)
        return self._plan


def seed_once(key: str, *, made: Callable[[], bool] | None = None) -> bool:
    """Whether a seeder makes the one-off part `key` of the demo now: only the first time.

    The key is recorded in the caller's transaction, so a stage an interrupted run cut off
    makes the part again; `made` tells whether a demo seeded before parts were recorded holds
    it already (asked only when the key is new)."""
    _step, created = DemoSeedStep.objects.get_or_create(key=key)
    return created and not (made is not None and made())


# What the logins list says of a demo user whose password is no longer the demo password, or
# who was deactivated: a later run never resets either.
OWN_PASSWORD = "(own password)"  # noqa: S105
DEACTIVATED = "(deactivated)"


def seed_organisation(report: SeedReport, *, actor: Actor) -> None:
    """Demo areas, one or more users of every role (the named ones, and generated people for
    a bigger demo), and the ordering system's API client. Only what is missing is made: an
    area, a person or the client that exists is left as it is (renamed, moved to other areas,
    given another role, deactivated, with a password of its own)."""
    plan = report.plan
    known = set(Area.objects.values_list("code", flat=True))
    for code, name, parent in plan.areas:
        if code not in known:
            area_upsert(code=code, name=name, parent_code=parent, actor=actor)

    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).prefetch_related(
            "areas"
        )
    }
    for username, role, areas, name in DEMO_USERS:
        user = existing.get(username)
        if user is None:
            user_create(
                username=username,
                role=role,
                area_codes=areas,
                name=name,
                password=DEMO_PASSWORD,
                check_password=False,
                actor=actor,
            )
            report.logins.append(
                (username, DEMO_PASSWORD, Role(role).label, ", ".join(areas) or "*")
            )
            continue
        password = DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else OWN_PASSWORD
        codes = ", ".join(sorted(a.code for a in user.areas.all())) or "*"
        report.logins.append(
            (username, password if user.is_active else DEACTIVATED, Role(user.role).label, codes)
        )
    _seed_generated_people(report, plan, actor)

    if User.objects.filter(username=DEMO_API_CLIENT).exists():
        report.lines.append(
            f"API client '{DEMO_API_CLIENT}' exists "
            f"(new token: manage.py create_api_client {DEMO_API_CLIENT} --rotate)."
        )
    else:
        _client, key = api_client_create(name=DEMO_API_CLIENT, actor=actor)
        report.lines.append(f"API client '{DEMO_API_CLIENT}' token (shown once): {key}")


def _seed_generated_people(report: SeedReport, plan: OrganisationPlan, actor: Actor) -> None:
    """The generated supervisors, licence officers and account managers that do not exist
    yet, with the demo password. Hashing it costs about half a second a person, so it is
    hashed once and set on the new people in one update; the people who exist keep their
    role, areas, name, active flag and password."""
    if not plan.users:
        return
    usernames = [u[0] for u in plan.users]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    created = [
        user_create(username=username, role=role, area_codes=areas, name=name, actor=actor).pk
        for username, role, areas, name in plan.users
        if username not in existing
    ]
    if created:
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
    counts = plan.role_counts()
    report.lines.append(
        f"People: {len(plan.users)} generated ({len(created)} new) — "
        f"{counts.get(Role.ACCOUNT_MANAGER, 0)} account managers, "
        f"{counts.get(Role.SUPERVISOR, 0)} supervisors, "
        f"{counts.get(Role.LICENSE_OFFICER, 0)} licence officers in all; "
        f"the new ones (am_0001, sup_0001, lo_0001, …) sign in with {DEMO_PASSWORD}; the others "
        "keep their password."
    )


# Dotted paths, so crm (which every app depends on) imports no app of its own.
DEMO_SEEDERS = [
    "crm.demo.seed_organisation",
    "customers.demo.seed_customers",
    "orders.demo.seed_orders",
    # Data quality: one shop entered twice and merged, one entered twice and left for the
    # duplicates page (after the orders, before the monthly stages).
    "customers.demo.seed_duplicates",
    "grading.demo.seed_grading",
    "valuation.demo.seed_valuation",
    "visits.demo.seed_visits",
    "services.demo.seed_services",
    "allocation.demo.seed_allocation",
    # After the visits (its audits are logged on visits) and values this month again.
    "audits.demo.seed_audits",
    # Last: the planning job around what the stages after the visits changed.
    "visits.demo.settle_plans",
]


def seed_all(
    options: DemoOptions | None = None, *, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Runs every seeder in order, each in a transaction of its own (a stage cut off leaves
    nothing, and as every seeder makes only what is missing, a run that failed half-way is
    simply run again); `progress` gets a line as each stage starts and ends, with its time."""
    report = SeedReport(options=options or DemoOptions(), progress=progress)
    actor = Actor.system("seed_demo", AuditSource.COMMAND)
    started = time.perf_counter()
    for number, path in enumerate(DEMO_SEEDERS, start=1):
        stage = time.perf_counter()
        report.step(f"[{number}/{len(DEMO_SEEDERS)}] {path.rsplit('.', 1)[-1]} …")
        with transaction.atomic():  # each stage commits: a failed run is run again from there
            import_string(path)(report, actor=actor)
        report.step(
            f"[{number}/{len(DEMO_SEEDERS)}] {path.rsplit('.', 1)[-1]} done in "
            f"{time.perf_counter() - stage:.1f} s (total {time.perf_counter() - started:.1f} s)"
        )
    return report
