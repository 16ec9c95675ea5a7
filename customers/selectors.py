"""Reads on customers, always through the scope rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, Count, FilteredRelation, Min, Q, QuerySet, Window
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import merging
from crm.choices import Role
from crm.exceptions import DomainError
from crm.frames import query_frame
from crm.models import AuditEntry, ScopePaths, User
from crm.scope import scope_q
from customers import policies
from customers.catalogue import FIELDS, FieldSpec, display, external, internal_value
from customers.choices import ChangeRequestStatus, CustomerStatus
from customers.filtersets import CustomerFilterSet
from customers.models import (
    ChangeRequest,
    Customer,
    CustomerAlias,
    CustomerDynamic,
    DuplicateDismissal,
)
from customers.validators import normalise_address, normalise_phone


def customer_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Customer]:
    """Customers `user` may see, with their parts joined, filtered by CustomerFilterSet."""
    qs = Customer.objects.visible_to(user).with_parts()
    filterset = CustomerFilterSet(filters or {}, queryset=qs)
    # An invalid filter value filters nothing rather than failing the page.
    qs = filterset.qs if filterset.is_valid() else qs
    ordering = qs.query.order_by
    if getattr(user, "role", None) != Role.ACCOUNT_MANAGER and any(
        str(key).lstrip("-").startswith("system__") for key in ordering
    ):
        # Sorted by a system figure (purchase amount, grade…) over an area or the company:
        # every customer has its system row (customer_create makes it), so an INNER join gives
        # the same rows and lets the database walk that figure's index from the top (a
        # district's purchase sort hashed and sorted all 200,000 system rows: 250-290 → 75-100
        # ms). An account manager's own few thousand shops are faster sorted whole (80 ms; the
        # index walk probes the company's rows for his: 140 ms), so his list keeps the LEFT join.
        qs = qs.filter(system__isnull=False)
    # customer_code last, so rows with equal sort values keep their page.
    return qs.order_by(*ordering, "customer_code")


def customer_in_scope(*, user: User, customer: Customer) -> bool:
    """Whether `user` may see `customer` (the scope rule; one query). Services check it
    rather than trust their caller."""
    return Customer.objects.visible_to(user).filter(pk=customer.pk).exists()


def customer_get(*, user: User, code: str) -> Customer:
    """One customer by code; 404 when it does not exist or lies outside the user's scope."""
    found = Customer.objects.visible_to(user).with_parts().select_related("license_officer")
    customer = found.filter(customer_code=code).first()
    if customer is None:
        # The code of a record merged into another names the survivor (CustomerAlias): one
        # more query, only for a code no customer holds. The caller can tell by the code.
        customer = found.filter(aliases__code=code).first()
    if customer is None:
        raise Http404
    return customer


def customer_ids_by_alias(*, codes: Iterable[str]) -> dict[str, int]:
    """{merged code: surviving customer's id} for those of `codes` that are aliases (the
    order sync resolves a merged shop's code to the survivor). One query."""
    return dict(
        CustomerAlias.objects.filter(code__in=list(codes)).values_list("code", "customer_id")
    )


def alias_survivors(*, codes: Iterable[str]) -> dict[str, str]:
    """{merged code: surviving customer's code} for those of `codes` that are aliases (a new
    customer may not take one). One query."""
    return dict(
        CustomerAlias.objects.filter(code__in=list(codes)).values_list(
            "code", "customer__customer_code"
        )
    )


def customer_aliases(*, customer: Customer) -> QuerySet[CustomerAlias]:
    """The codes of the records merged into `customer`, oldest merge first."""
    return customer.aliases.order_by("merged_at", "code")


def customer_history(*, customer: Customer, limit: int = 200) -> QuerySet[AuditEntry]:
    """Every recorded change of the customer, newest first, with those of the records merged
    into it (their audit rows keep naming the merged record's id, as written: the log is
    never rewritten; `CustomerAlias.merged_id` finds them)."""
    merged_ids = CustomerAlias.objects.filter(customer=customer).values_list(
        Cast("merged_id", CharField()), flat=True
    )
    return AuditEntry.objects.filter(
        Q(object_id=str(customer.pk)) | Q(object_id__in=merged_ids),
        content_type=ContentType.objects.get_for_model(Customer),
    ).select_related("actor")[:limit]


# Matches listed per duplicate warning (the page, the import report, the sync warnings).
DUPLICATES_SHOWN = 5


@dataclass(frozen=True)
class DuplicateMatch:
    """An existing customer that looks like the one being written: same phone (digits, no
    country prefix) or same address (normalised). Company-wide: a match outside the asking
    user's scope is `visible=False` and shown by its code and area only (`customer` is then
    None: nothing else of it may reach the page)."""

    code: str
    area: str
    visible: bool
    reasons: frozenset[str]  # "phone", "address"
    customer: Customer | None = None


# What one written customer is compared by: (phone, address, its own id or None).
DuplicateProbe = tuple[str, str, "int | None"]


def customer_duplicates_many(
    *, user: User, probes: Sequence[DuplicateProbe], shown: int | None = DUPLICATES_SHOWN
) -> list[list[DuplicateMatch]]:
    """For each probe, the existing customers of the whole company with its normalised phone
    or address (the first `shown` by code; all with None), itself excluded. Four queries per
    call (the ids by phone, by address, the customers, which of them the user may see),
    whatever the number of probes: callers pass a batch (an import's or a sync's rows)."""
    keyed = [
        (normalise_phone(phone), normalise_address(address), exclude)
        for phone, address, exclude in probes
    ]
    phones = {phone for phone, _address, _pk in keyed if phone}
    addresses = {address for _phone, address, _pk in keyed if address}
    if not phones and not addresses:
        return [[] for _probe in probes]
    # Each key by its own index (an OR of the two, or of a subquery, was planned as a scan
    # of every customer: 290 ms at 200,000 shops for one probe), then the customers by id.
    ids = set(
        CustomerDynamic.objects.filter(phone_key__in=phones).values_list("customer_id", flat=True)
    ) | set(Customer.objects.filter(address_key__in=addresses).values_list("pk", flat=True))
    found = list(
        Customer.objects.filter(pk__in=ids)
        .select_related("area", "dynamic", "account_manager")
        .order_by("customer_code")
    )
    visible = set(
        Customer.objects.visible_to(user)
        .filter(pk__in=[customer.pk for customer in found])
        .values_list("pk", flat=True)
    )
    by_key: dict[tuple[str, str], list[Customer]] = {}
    for customer in found:  # by code: each list keeps that order
        by_key.setdefault(("phone", customer.dynamic.phone_key), []).append(customer)
        by_key.setdefault(("address", customer.address_key), []).append(customer)
    results: list[list[DuplicateMatch]] = []
    for phone, address, exclude in keyed:
        reasons: dict[int, set[str]] = {}
        same: dict[int, Customer] = {}
        for reason, value in (("phone", phone), ("address", address)):
            for customer in by_key.get((reason, value), []) if value else []:
                if customer.pk != exclude:
                    reasons.setdefault(customer.pk, set()).add(reason)
                    same[customer.pk] = customer
        listed = sorted(same.values(), key=lambda c: c.customer_code)[:shown]
        results.append(
            [
                DuplicateMatch(
                    code=customer.customer_code,
                    area=customer.area.name,
                    visible=customer.pk in visible,
                    reasons=frozenset(reasons[customer.pk]),
                    customer=customer if customer.pk in visible else None,
                )
                for customer in listed
            ]
        )
    return results


# Rows per duplicate look-up of a batch write (four queries each): a usual file or sync in one,
# while a large import stays under SQLite's 32,766 bound parameters (two per row).
DUPLICATE_LOOKUP_BATCH = 5000


@dataclass(frozen=True)
class WrittenDuplicates:
    """The possible duplicates of one row a batch write (import, sync) created, or whose
    phone or address it changed: `keys` holds the normalised phone and address compared
    (kind -> key, those the row wrote), `matches` every customer found, by code."""

    index: int
    keys: dict[str, str]
    matches: list[DuplicateMatch]


def written_duplicates(
    *, user: User, rows: Sequence[Mapping[str, Any]], results: Sequence[Any]
) -> list[WrittenDuplicates]:
    """The rows of a batch upsert (`customers.services.customer_upsert_many`: its
    `results`, the `rows` it was given) that created a customer or changed a phone or an
    address, with the customers of the whole company having the same phone or address
    (`customer_duplicates_many`). A created row's own customer is not its duplicate, but two
    rows of the batch with the same phone are each other's once stored."""
    probed: list[tuple[int, str, str, int | None]] = []
    for result in results:
        created = result.outcome == "created"
        changed = result.outcome == "updated" and {"phone", "address"} & result.changes.keys()
        if not (created or changed):
            continue
        row = rows[result.index]
        wrote = {
            kind: str(row.get(kind) or "") if created or kind in result.changes else ""
            for kind in ("phone", "address")
        }
        probed.append((result.index, wrote["phone"], wrote["address"], result.customer_id))
    written: list[WrittenDuplicates] = []
    for start in range(0, len(probed), DUPLICATE_LOOKUP_BATCH):
        batch = probed[start : start + DUPLICATE_LOOKUP_BATCH]
        found = customer_duplicates_many(
            user=user, probes=[probe[1:] for probe in batch], shown=None
        )
        for (index, phone, address, _pk), matches in zip(batch, found, strict=True):
            keys = {"phone": normalise_phone(phone), "address": normalise_address(address)}
            written.append(WrittenDuplicates(index, {k: v for k, v in keys.items() if v}, matches))
    return written


def customer_duplicates(
    *, user: User, phone: str = "", address: str = "", exclude_pk: int | None = None
) -> list[DuplicateMatch]:
    """`customer_duplicates_many` of one customer being created or edited: the duplicate
    warning of the create and change pages."""
    return customer_duplicates_many(user=user, probes=[(phone, address, exclude_pk)])[0]


# A phone or address shared by more shops than this is not read as pairs (a placeholder
# number, a market hall's address: 30 shops would be 435 pairs); the page lists such values
# once, with how many shops share them.
DUPLICATE_GROUP_MAX = 8
# Values shared that widely listed on the page, most shared first.
SHARED_VALUES_SHOWN = 20
# Store names this alike (difflib's ratio, 0-1) at the same address mark the pair as having
# similar names: two records of one shop rather than two shops in one building.
SIMILAR_NAME_RATIO = 0.6
DUPLICATE_KINDS = ("phone", "address")
# The column holding each kind's comparison key.
_KEY_COLUMN = {"phone": "phone_key", "address": "address_key"}
# The customer's id and code from the table holding each kind's key.
_KEY_CUSTOMER = {
    "phone": ("customer_id", "customer__customer_code"),
    "address": ("pk", "customer_code"),
}


@dataclass
class DuplicatePair:
    """Two customers in the user's scope that are likely the same shop."""

    first: Customer  # the lower code first
    second: Customer
    reasons: set[str]  # "phone", "address", "name" (similar names at the same address)


@dataclass(frozen=True)
class SharedValue:
    """A phone or address shared by more than DUPLICATE_GROUP_MAX customers of the scope."""

    kind: str  # "phone" or "address"
    value: str  # as one of the customers has it
    count: int


class DuplicatePairs:
    """The likely duplicates among the customers `user` sees, for a paginator: pairs with the
    same phone or the same address (both normalised: `customers.validators`; `kind` narrows
    them to one), both reasons first, then by code; minus the pairs dismissed as two shops
    (`DuplicateDismissal`) and the values shared by more than DUPLICATE_GROUP_MAX shops
    (`shared_values`). The pairs are found, counted and paged in SQL (a self-join of the
    scope's customers on each key), so a page reads its 25 pairs whatever the number of
    pairs: at 200,000 shops a company-wide page must not build every pair in Python. A page's
    pairs at one address are marked "name" when their names are alike."""

    def __init__(self, *, user: User, kind: str = ""):
        self.user = user
        self.kinds = (kind,) if kind in DUPLICATE_KINDS else DUPLICATE_KINDS
        # Per kind, the customers of the scope whose key two to DUPLICATE_GROUP_MAX of them
        # share: built by the ORM (the scope rule, `crm.scope`, through each table's path to
        # the customer), found by a GROUP BY over the key's column and then the key's index
        # (few rows when duplicates are rare). The pairs are their self-join, in SQL.
        ctes, self._sql_params = [], []
        for key_kind in self.kinds:
            try:
                sql, params = self._members(key_kind).query.sql_with_params()
            except EmptyResultSet:  # a scope that can hold no customer
                sql, params = "SELECT NULL, NULL, NULL WHERE 1 = 0", ()
            ctes.append(f"m_{key_kind} (id, code, k) AS ({sql})")
            self._sql_params += params
        self._with = "WITH " + ", ".join(ctes)
        dismissal = DuplicateDismissal._meta.db_table
        pairs = " UNION ALL ".join(
            f"""SELECT a.id AS a, b.id AS b, a.code AS a_code, b.code AS b_code,
                       '{key_kind}' AS kind
                FROM m_{key_kind} a JOIN m_{key_kind} b ON a.k = b.k AND a.code < b.code"""  # noqa: S608
            for key_kind in self.kinds
        )
        self._grouped = f"""SELECT a, b, a_code, b_code, COUNT(*) AS n,
                   MAX(CASE WHEN kind = 'phone' THEN 1 ELSE 0 END) AS phone,
                   MAX(CASE WHEN kind = 'address' THEN 1 ELSE 0 END) AS address
            FROM ({pairs}) p
            WHERE NOT EXISTS (
                SELECT 1 FROM {dismissal} x
                WHERE x.customer_a_id = CASE WHEN a < b THEN a ELSE b END
                  AND x.customer_b_id = CASE WHEN a < b THEN b ELSE a END
            )
            GROUP BY a, b, a_code, b_code"""  # noqa: S608
        self._count: int | None = None

    def _keyed(self, kind: str) -> QuerySet:
        """The rows holding `kind`'s key (customers, or their dynamic parts) of the scope."""
        if kind == "phone":
            paths = ScopePaths(area="customer__area", owner="customer__account_manager")
            return CustomerDynamic.objects.filter(scope_q(self.user, paths, CustomerDynamic))
        return Customer.objects.visible_to(self.user)

    def _members(self, kind: str) -> QuerySet:
        """(customer id, code, key) of the scope's customers whose `kind` key two to
        DUPLICATE_GROUP_MAX of them share."""
        column = _KEY_COLUMN[kind]
        shared = (
            self._keyed(kind)
            .exclude(**{column: ""})
            .order_by()
            .values(column)
            .annotate(n=Count("pk"))
            .filter(n__gte=2, n__lte=DUPLICATE_GROUP_MAX)
            .values(column)
        )
        id_path, code_path = _KEY_CUSTOMER[kind]
        return (
            self._keyed(kind)
            .filter(**{f"{column}__in": shared})
            .order_by()
            .values_list(id_path, code_path, column)
        )

    def _params(self) -> list:
        return list(self._sql_params)

    def count(self) -> int:
        if self._count is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{self._with} SELECT COUNT(*) FROM ({self._grouped}) g",  # noqa: S608
                    self._params(),
                )
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[DuplicatePair]:
        offset, stop = window.start or 0, window.stop
        with connection.cursor() as cursor:
            cursor.execute(
                f"{self._with} SELECT a, b, phone, address FROM ({self._grouped}) g "  # noqa: S608
                "ORDER BY n DESC, a_code, b_code LIMIT %s OFFSET %s",
                [*self._params(), stop - offset, offset],
            )
            rows = cursor.fetchall()
        customers = Customer.objects.select_related("dynamic", "area", "account_manager").in_bulk(
            [pk for a, b, _p, _a in rows for pk in (a, b)]
        )
        listed = []
        for a, b, phone, address in rows:
            pair = DuplicatePair(
                customers[a],
                customers[b],
                {kind for kind, same in (("phone", phone), ("address", address)) if same},
            )
            if address and _similar_names(pair.first, pair.second):
                pair.reasons.add("name")
            listed.append(pair)
        return listed

    def shared_values(self) -> list[SharedValue]:
        """The phones and addresses shared by more than DUPLICATE_GROUP_MAX customers of the
        scope, most shared first (at most SHARED_VALUES_SHOWN)."""
        found = []
        for kind in self.kinds:
            column = _KEY_COLUMN[kind]
            found += [
                SharedValue(kind, value, count)
                for value, count in self._keyed(kind)
                .exclude(**{column: ""})
                .order_by()
                .values(column)
                .annotate(value=Min(kind), count=Count("pk"))
                .filter(count__gt=DUPLICATE_GROUP_MAX)
                .order_by("-count", "value")
                .values_list("value", "count")[:SHARED_VALUES_SHOWN]
            ]
        found.sort(key=lambda value: (-value.count, value.kind, value.value))
        return found[:SHARED_VALUES_SHOWN]


def duplicate_pairs(*, user: User, kind: str = "") -> DuplicatePairs:
    """`DuplicatePairs` of `user` (of one `kind`, "phone" or "address", when given)."""
    return DuplicatePairs(user=user, kind=kind)


def _similar_names(first: Customer, second: Customer) -> bool:
    a, b = (normalise_address(c.store_name) for c in (first, second))  # the same folding
    return bool(a and b) and SequenceMatcher(None, a, b).ratio() >= SIMILAR_NAME_RATIO


def duplicate_dismissals(*, user: User) -> QuerySet[DuplicateDismissal]:
    """The pairs dismissed as two shops, both of which `user` sees, latest first."""
    visible = Customer.objects.visible_to(user).values("pk")
    return (
        DuplicateDismissal.objects.filter(customer_a__in=visible, customer_b__in=visible)
        .select_related("customer_a", "customer_b", "dismissed_by")
        .order_by("-dismissed_at", "-id")
    )


def change_requests_with_duplicates(
    *, user: User, requests: list[ChangeRequest]
) -> list[ChangeRequest]:
    """Sets `duplicates` on each pending request that would give its customer another
    customer's phone or address (`customer_duplicates_many`: one batch for the whole queue,
    no query when no request changes either), for the one who decides it."""
    pending = [
        (cr, {item["field"]: item["new"] for item in cr.changes})
        for cr in requests
        if cr.status == ChangeRequestStatus.PENDING and {"phone", "address"} & set(cr.fields)
    ]
    for cr in requests:
        cr.duplicates = []
    if pending:
        found = customer_duplicates_many(
            user=user,
            probes=[
                (str(new.get("phone") or ""), str(new.get("address") or ""), cr.customer_id)
                for cr, new in pending
            ],
        )
        for (cr, _new), matches in zip(pending, found, strict=True):
            cr.duplicates = matches
    return requests


def change_request_queue(*, user: User, status: str = ChangeRequestStatus.PENDING):
    """Change requests on customers the user sees (a supervisor's area; all for administrators)."""
    return (
        ChangeRequest.objects.visible_to(user)
        .filter(status=status)
        .select_related("customer", "customer__area", "requested_by", "decided_by")
        .order_by("created_at", "id")
    )


def change_request_mine(*, user: User) -> QuerySet[ChangeRequest]:
    return (
        ChangeRequest.objects.filter(requested_by=user)
        .select_related("customer", "decided_by")
        .order_by("-created_at", "-id")
    )


def change_request_get(*, user: User, pk: int) -> ChangeRequest:
    change_request = (
        ChangeRequest.objects.visible_to(user)
        .select_related("customer", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if change_request is None:
        # Authors may always see their own request, even after a reassignment.
        change_request = ChangeRequest.objects.filter(pk=pk, requested_by=user).first()
    if change_request is None:
        raise Http404
    return change_request


def change_requests_for(*, customer: Customer) -> QuerySet[ChangeRequest]:
    """The customer page's list of change requests: who asked and when (not who decided)."""
    return customer.change_requests.select_related("requested_by").order_by("-created_at")


def customer_monthly_frame(
    *, area_ids: Sequence[int] | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every customer that is not closed (or those of `area_ids`), one row each, with what
    the monthly steps read — the grading: market type, format, floor area (NaN when
    unknown); the valuation and the early warnings: outlet size, trade-area environment and
    order cycle ("" when unknown), model-outlet flag (None when unknown), last order date
    (NaT when none); all: area and account manager. One bulk read through `crm.frames`,
    shared by the steps of a chain (one join of the customers with their dynamic and system
    rows instead of one per step). `columns` (customer_id always comes first) reads only
    those: supply allocation's eligibility needs four of the eleven."""
    qs = Customer.objects.exclude(dynamic__status=CustomerStatus.CLOSED)
    if area_ids is not None:
        qs = qs.filter(area_id__in=list(area_ids))
    fields = {
        "customer_id": ("id", "int64"),
        "market_type": ("market_type", object),
        "business_format": ("business_format", object),
        "floor_area_m2": ("floor_area_m2", "float64"),
        "outlet_size": ("dynamic__outlet_size", object),
        "trade_area": ("dynamic__trade_area", object),
        "order_cycle": ("dynamic__order_cycle", object),
        "model_outlet": ("is_model_outlet", object),
        "last_order_date": ("system__last_order_date", "date"),
        "area_id": ("area", "Int64"),
        "account_manager_id": ("account_manager", "Int64"),
    }
    if columns is not None:
        fields = {k: v for k, v in fields.items() if k == "customer_id" or k in columns}
    qs = qs.order_by().values_list(*(path for path, _kind in fields.values()))
    sql, params = qs.query.sql_with_params()
    frame = query_frame(
        sql, params, columns=tuple(fields), dtypes={k: kind for k, (_p, kind) in fields.items()}
    )
    for name in ("outlet_size", "trade_area", "order_cycle"):
        if name in frame:
            frame[name] = frame[name].fillna("").astype(str)
    if "model_outlet" not in frame:
        return frame
    # PostgreSQL's CSV writes booleans as t / f; SQLite gives 1 / 0. Three states: a flag
    # nobody entered stays None (unknown is not "no").
    flag = frame["model_outlet"]
    frame["model_outlet"] = np.select(
        [flag.isin([True, 1, "t", "true", "True"]), flag.isin([False, 0, "f", "false", "False"])],
        [True, False],
        default=None,
    )
    return frame


# --- home page ----------------------------------------------------------------------------


def change_request_home_panel(*, user: User, limit: int = 5) -> dict[str, Any]:
    """The home page's change requests: for people who decide them (supervisors,
    administrators), the pending queue of their scope, oldest first; for everyone else, their
    own pending requests, newest first. One query: the total is counted over every pending row
    before the LIMIT (pending requests are a few dozen, not thousands)."""
    deciding = policies.can_decide_requests(user)
    if deciding:
        qs = change_request_queue(user=user)
    else:
        qs = change_request_mine(user=user).filter(status=ChangeRequestStatus.PENDING)
    requests = list(qs.annotate(pending_total=Window(Count("pk")))[:limit])
    total = requests[0].pending_total if requests else 0
    return {"deciding": deciding, "total": total, "requests": requests}


def customer_portfolio_counts(*, user: User) -> dict[str, Any]:
    """The customers `user` sees, counted by their current grade and by their current value
    tier (the system fields the latest graded and valued month wrote; None for none yet), and
    how many are core and problem customers. One grouped query, whatever the number of
    customers."""
    rows = (
        Customer.objects.visible_to(user)
        .order_by()
        .values_list("system__grade", "system__value_tier", "system__is_core", "system__is_problem")
        .annotate(n=Count("pk"))
    )
    by_grade: dict[int | None, int] = {}
    by_tier: dict[str | None, int] = {}
    core = problem = 0
    for grade, tier, is_core, is_problem, n in rows:
        by_grade[grade] = by_grade.get(grade, 0) + n
        tier = tier or None
        by_tier[tier] = by_tier.get(tier, 0) + n
        core += n if is_core else 0
        problem += n if is_problem else 0
    return {"by_grade": by_grade, "by_tier": by_tier, "core": core, "problem": problem}


def customers_with_month_pair(
    *, user: User, relation: str, month, previous_month
) -> QuerySet[Customer]:
    """The customers `user` sees that have a `relation` row (grade_results, value_results) for
    `month`, joined to it as `now` and to the one for `previous_month` as `before` (null when
    there is none). PostgreSQL hashes or probes the pair by the (customer, month) index: a
    correlated subquery per result was 4× slower at 200,000 customers."""
    return (
        Customer.objects.visible_to(user)
        .annotate(
            now=FilteredRelation(relation, condition=Q(**{f"{relation}__month": month})),
            before=FilteredRelation(
                relation, condition=Q(**{f"{relation}__month": previous_month})
            ),
        )
        .filter(now__isnull=False)
        .order_by()
    )


def month_pair_counts(
    *, user: User, relation: str, field: str, month, previous_month
) -> dict[tuple[Any, Any], int]:
    """How many of the customers `user` sees went from each `field` value of their `relation`
    row in `previous_month` (None: no row then) to each value in `month`: {(before, now): n},
    what a monthly result's transition matrix counts (`crm.monthly.transition_matrix`). One
    grouped query over `customers_with_month_pair`."""
    pairs = (
        customers_with_month_pair(
            user=user, relation=relation, month=month, previous_month=previous_month
        )
        .values_list(f"before__{field}", f"now__{field}")
        .annotate(n=Count("pk"))
    )
    return {(before, now): n for before, now, n in pairs}


# The licence officer's look-ahead for licence expiries and annual reviews, in days.
LICENCE_HORIZON_DAYS = 60
# Rows each of those home panels lists (the total is shown, the list links to the rest).
LICENCE_PANEL_ROWS = 10
# The dates those panels read.
LICENCE_DATES = ("license_expiry_date", "annual_review_date")


def licence_due_panel(
    *,
    user: User,
    field: str,
    days: int = LICENCE_HORIZON_DAYS,
    limit: int = LICENCE_PANEL_ROWS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The customers in `user`'s scope (not closed) whose `field` — the licence expiry or the
    annual review date — falls from today to `days` days ahead, soonest first: the first
    `limit` and how many there are. Two queries."""
    if field not in LICENCE_DATES:
        raise ValueError(f"not a licence date: {field}")
    today = today or timezone.localdate()
    until = today + dt.timedelta(days=days)
    customers = (
        Customer.objects.visible_to(user)
        .exclude(dynamic__status=CustomerStatus.CLOSED)
        .filter(**{f"{field}__range": (today, until)})
    )
    rows = list(customers.select_related("area").order_by(field, "customer_code")[:limit])
    total = len(rows) if len(rows) < limit else customers.count()
    return {
        "field": field,
        "rows": [
            {"customer": c, "date": getattr(c, field), "days": (getattr(c, field) - today).days}
            for c in rows
        ],
        "total": total,
        "today": today,
        "until": until,
        "days": days,
    }


# --- merging two customer records ---------------------------------------------------------

# Which record a merged field's value comes from.
SURVIVOR, MERGED = "survivor", "merged"


def mergeable_fields() -> list[FieldSpec]:
    """The catalogue fields whose value a merge chooses, one side or the other: every field
    people maintain except the code (the survivor keeps its own; the merged one becomes its
    alias). System fields are the jobs' to compute again."""
    return [spec for spec in FIELDS if not spec.is_system and spec.name != "customer_code"]


def customer_merge_conflicts(*, survivor: Customer, merged: Customer) -> list[dt.date]:
    """The months in which both customers have orders that count, when their account
    managers differ (a merge must then be confirmed); [] otherwise. The orders are the
    orders app's: asked through its merge step (crm.merging)."""
    if survivor.account_manager_id == merged.account_manager_id:
        return []
    months: set[dt.date] = set()
    for step in merging.steps():
        if step.shared_months is not None:
            months.update(step.shared_months(survivor.pk, merged.pk))
    return sorted(months)


@dataclass
class MergePreview:
    """What the merge page shows before the merge: the two records field by field, what
    would move, and the months to confirm."""

    survivor: Customer
    merged: Customer
    # One per mergeable field: its spec, each side's value as shown, whether they differ.
    fields: list[dict[str, Any]]
    # (label, rows of the merged record) per kind of row that moves.
    moves: list[tuple[str, int]]
    months: list[dt.date]


def customer_merge_preview(*, user: User, survivor_code: str, merged_code: str) -> MergePreview:
    """The merge page's comparison of two customers `user` sees, by code (a merged code names
    its survivor). DomainError naming `a` or `b` when a code names no customer, or both the
    same. A fixed number of queries: each record with its parts, one count per kind of row."""
    records = []
    for name, code in (("a", survivor_code), ("b", merged_code)):
        try:
            records.append(customer_get(user=user, code=code.strip()))
        except Http404:
            raise DomainError(
                _("No customer with the code %(code)s.") % {"code": code}, field=name
            ) from None
    survivor, merged = records
    if survivor.pk == merged.pk:
        raise DomainError(_("Both codes name the same customer record."), field="b")
    fields = []
    for spec in mergeable_fields():
        theirs, ours = internal_value(merged, spec.name), internal_value(survivor, spec.name)
        fields.append(
            {
                "spec": spec,
                "survivor": display(spec.name, ours),
                "merged": display(spec.name, theirs),
                "differs": external(spec.name, ours) != external(spec.name, theirs),
            }
        )
    moves = []
    for step in merging.steps():
        counts = step.count(merged.pk)
        moves += [(str(label), counts.get(kind, 0)) for kind, label in step.kinds.items()]
    moves.append((str(_("Change requests")), merged.change_requests.count()))
    return MergePreview(
        survivor=survivor,
        merged=merged,
        fields=fields,
        moves=moves,
        months=customer_merge_conflicts(survivor=survivor, merged=merged),
    )
