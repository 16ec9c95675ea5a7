"""Reads of the grading app. Results and overrides always go through the scope rule."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from crm import jobs, monthly, versioning
from crm.choices import SchemeStatus
from crm.dates import add_months, month_start
from crm.frames import query_frame
from customers.choices import BusinessFormat, BusinessScale, MarketType
from grading import policies
from grading.choices import GradeBasis, OverrideStatus, PublicationStatus, SchemeKind
from grading.filtersets import GradeResultFilterSet
from grading.models import (
    GradeAssessment,
    GradeOverride,
    GradePublication,
    GradeResult,
    GradingScheme,
    PeakMonth,
)
from orders.selectors import customer_first_order_date

if TYPE_CHECKING:
    from crm.models import User
    from customers.models import Customer


# The previous grade of a transition given by another scheme version (`grading_overview`).
OTHER_SCHEME = monthly.OTHER_SCHEME


def latest_result_month() -> dt.date | None:
    """The latest graded month not after this one (the customers' current grades)."""
    return jobs.results_current_month(GradeResult)


def grade_results(
    *, user: User, month: dt.date, filters: Mapping[str, Any] | None = None
) -> QuerySet[GradeResult]:
    """`month`'s results of the customers `user` may see, each annotated with
    `previous_grade` (the effective grade of the month before, None if not graded) and
    `previous_scheme_id` (the scheme version that gave it: a grade of another version is not
    comparable), filtered and sorted by GradeResultFilterSet (default: by customer code)."""
    previous = GradeResult.objects.filter(
        customer_id=OuterRef("customer_id"), month=add_months(month_start(month), -1)
    ).order_by()
    qs = (
        GradeResult.objects.visible_to(user)
        .filter(month=month_start(month))
        .annotate(
            previous_grade=Subquery(previous.values("grade")[:1]),
            previous_scheme_id=Subquery(previous.values("scheme_id")[:1]),
        )
        .select_related("customer", "customer__area", "customer__account_manager")
    )
    filterset = GradeResultFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by(*qs.query.order_by, "customer__customer_code")


def grading_overview(
    *, user: User, month: dt.date, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The overview of `month` for `user` (scoped, filtered): counts by grade, category code
    and structure class, the month-over-month transition matrix and the movement totals.

    Returns::

        {"month": date, "previous_month": date, "customers": int,
         "by_grade": {grade: n}, "by_category": {"CZ1": n}, "by_structure": {class: n},
         "transitions": {(previous_grade, None or OTHER_SCHEME, grade): n},
         "grades": [1, …, n] (every grade seen in either month, for the matrix axes),
         "movements": {"up": n, "down": n, "same": n, "new": n, "not_comparable": n},
         "overridden": n}

    A customer graded by another scheme version the month before is `not_comparable` (its
    transition's previous grade is OTHER_SCHEME): grade numbers of two scales are not compared.
    """
    qs = grade_results(user=user, month=month, filters=filters).order_by()
    pairs = qs.values("previous_grade", "previous_scheme_id", "scheme_id", "grade").annotate(
        n=Count("id")
    )
    transitions: dict[tuple[int | str | None, int], int] = {}
    for row in pairs:
        before = row["previous_grade"]
        if before is not None and row["previous_scheme_id"] != row["scheme_id"]:
            before = OTHER_SCHEME
        key = (before, row["grade"])
        transitions[key] = transitions.get(key, 0) + row["n"]
    by_grade: dict[int, int] = {}
    movements = {"up": 0, "down": 0, "same": 0, "new": 0, "not_comparable": 0}
    for (before, after), n in transitions.items():
        by_grade[after] = by_grade.get(after, 0) + n
        if before is None:
            movements["new"] += n
        elif before == OTHER_SCHEME:
            movements["not_comparable"] += n
        elif after < before:
            movements["up"] += n
        elif after > before:
            movements["down"] += n
        else:
            movements["same"] += n
    by_category = dict(
        qs.values_list("category_code").annotate(n=Count("id")).order_by("category_code")
    )
    by_structure = dict(
        qs.values_list("structure_class").annotate(n=Count("id")).order_by("structure_class")
    )
    seen = {g for pair in transitions for g in pair if isinstance(g, int)}
    return {
        "month": month_start(month),
        "previous_month": add_months(month_start(month), -1),
        "customers": sum(by_grade.values()),
        "by_grade": dict(sorted(by_grade.items())),
        "by_category": by_category,
        "by_structure": by_structure,
        "transitions": transitions,
        "grades": sorted(seen),
        "movements": movements,
        "overridden": qs.filter(override__isnull=False).count(),
    }


def customer_grade_history(
    *, customer: Customer, months: int = 12, today: dt.date | None = None
) -> list[GradeResult]:
    """The customer's results of the last `months` months up to this month, oldest first.
    The caller reached `customer` through the scope rule."""
    end = month_start(today or timezone.localdate())
    start = add_months(end, -(months - 1))
    return list(
        GradeResult.objects.filter(customer=customer, month__gte=start, month__lte=end)
        .select_related("scheme", "override")
        .order_by("month")
    )


def customer_grade_summary(*, customer: Customer) -> GradeResult | None:
    """The customer's latest result (not after this month), its grades and structure class
    only: the customer page's summary header (`customer_grade_result` joins the scheme and the
    override, the card's needs)."""
    return (
        GradeResult.objects.filter(customer=customer, month__lte=jobs.this_month())
        .only("month", "grade", "computed_grade", "structure_class")
        .order_by("-month")
        .first()
    )


def customer_grade_result(
    *, customer: Customer, month: dt.date | None = None
) -> GradeResult | None:
    """The customer's result for `month` (default: the latest one not after this month),
    with its scheme."""
    # The override's approver is shown with the grade; who proposed it is shown in the list of
    # overrides (overrides_for), not here.
    qs = GradeResult.objects.filter(customer=customer).select_related(
        "scheme", "override", "override__decided_by"
    )
    if month is not None:
        qs = qs.filter(month=month_start(month))
    else:
        qs = qs.filter(month__lte=jobs.this_month())
    return qs.order_by("-month").first()


def override_list(*, user: User, status: str | None = OverrideStatus.PROPOSED) -> QuerySet:
    """Overrides of customers `user` may see (by status; None for all), newest first."""
    qs = GradeOverride.objects.visible_to(user).select_related(
        "customer", "proposed_by", "decided_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-proposed_at", "-id")


def override_get(*, user: User, pk: int) -> GradeOverride:
    override = override_list(user=user, status=None).filter(pk=pk).first()
    if override is None:
        raise Http404
    return override


def overrides_for(*, customer: Customer) -> QuerySet[GradeOverride]:
    return customer.grade_overrides.select_related("proposed_by", "decided_by").order_by(
        "-proposed_at", "-id"
    )


def scheme_active_or_none() -> GradingScheme | None:
    return versioning.scheme_active_or_none(GradingScheme)


def peak_month_list() -> QuerySet[PeakMonth]:
    return PeakMonth.objects.select_related("created_by").order_by("-month")


# --- customer card ------------------------------------------------------------------------
# What the customer page's grading card shows and offers. The customer was reached through
# the scope rule (customers.selectors.customer_get), so "sees the customer" holds here; what
# the user may do comes from grading.policies, the rules the services enforce.


def override_status_counts(*, user: User) -> dict[str, int]:
    """Overrides `user` may see, counted per status (one query)."""
    rows = (
        GradeOverride.objects.visible_to(user)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def _plain(value: Any) -> Any:
    """A parameter as the page shows it: 500.0 → 500."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def category_meaning(code: str) -> dict[str, str] | None:
    """The parts of a 42-category code ("CZ1" → Urban, Grocery store, Large); None if the
    code is not one of the standard's."""
    if len(code or "") != 3 or code[2] not in "123":
        return None
    try:
        market = MarketType(code[0])
        business_format = BusinessFormat(code[1])
        scale = list(BusinessScale)[int(code[2]) - 1]
    except (ValueError, IndexError):
        return None
    return {
        "market": str(market.label),
        "format": str(business_format.label),
        "scale": str(scale.label),
    }


def _band(falling: list[Any], index: int) -> dict[str, Any]:
    """The `index`-th (0-based) band of a falling list of lower bounds: from, and below."""
    return {
        "from": _plain(falling[index]) if index < len(falling) else None,
        "below": _plain(falling[index - 1]) if 0 < index <= len(falling) else None,
    }


def _grade_rule(result: GradeResult) -> dict[str, Any] | None:
    """Which rule of the result's scheme placed the computed grade (window basis)."""
    grades = result.scheme.parameters.get("grades") or {}
    g = result.computed_grade
    kind = result.scheme.kind
    try:
        if kind == SchemeKind.THRESHOLDS:
            thresholds = grades["thresholds"]
            if not 1 <= g <= len(thresholds):
                return None
            return {"kind": "thresholds", "grade": g, **_band(thresholds, g - 1)}
        if kind == SchemeKind.MATRIX:
            volume, price = grades["volume"], grades["price"]
            segment, interval = divmod(g - 1, len(price))
            if segment >= len(volume):
                return None
            return {
                "kind": "matrix",
                "grade": g,
                "segment": segment + 1,
                "segments": len(volume),
                "volume": _band(volume, segment),
                "interval": interval + 1,
                "intervals": len(price),
                "price": _band(price, interval),
            }
        bands = grades["bands"]
        if not 1 <= g <= len(bands):
            return None
        weights = grades.get("weights") or {}
        return {
            "kind": "score",
            "grade": g,
            "score": result.score,
            "top_from": _plain(round(sum(bands[: g - 1]), 4)),
            "top_to": _plain(round(sum(bands[:g]), 4)),
            # In a fixed order: PostgreSQL's jsonb does not keep the keys' order.
            "weights": {
                name: _plain(round(100 * weights[name], 2))
                for name in ("quantity", "amount", "structure", "assessment")
                if weights.get(name)
            },
            "structure_share": (
                None if result.structure_share is None else round(100 * result.structure_share, 2)
            ),
            "assessment": result.assessment,
        }
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def _window_months(result: GradeResult) -> dict[str, Any]:
    """The window months counted and, for the scheme's months that were not, why: a flagged
    peak month the scheme leaves out, or a month before the one of the customer's first order;
    and `partial`, the month of the first order when it counted only from that order on (its
    days of trade, see `computations.window_inputs`), else None. Peak flags are read as they
    are now (a flag removed since is not shown)."""
    window = result.scheme.parameters.get("window") or {}
    size = int(window.get("months") or 0)
    full = [add_months(result.month, -k) for k in range(size, 0, -1)]
    counted = set(result.window.split())
    missing = [m for m in full if f"{m:%Y-%m}" not in counted]
    # The month of the first order counts as its share of days from that order on.
    first = customer_first_order_date(customer_id=result.customer_id, before=result.month)
    partial = None
    if first is not None and first.day > 1 and f"{first:%Y-%m}" == min(counted, default=""):
        days = calendar.monthrange(first.year, first.month)[1]
        partial = {
            "month": month_start(first),
            "first_order": first,
            "days": days - first.day + 1,
            "of": days,
        }
    peaks: dict[dt.date, str] = {}
    if missing and window.get("exclude_peak_months", True):
        peaks = dict(PeakMonth.objects.filter(month__in=missing).values_list("month", "label"))
    return {
        "counted": sorted(counted),
        "scheme_months": size,
        "left_out": [{"month": m, "peak": peaks.get(m)} for m in missing],
        "partial": partial,
    }


def _scale_and_structure(result: GradeResult) -> dict[str, Any]:
    """The business-scale percentiles and the price band × scale cell of the structure class."""
    parameters = result.scheme.parameters
    cuts = parameters.get("scale") or {}
    code = result.category_code or ""
    try:
        market, business_format = MarketType(code[0]).label, BusinessFormat(code[1]).label
    except (ValueError, IndexError):
        market = business_format = ""
    structure = parameters.get("structure") or {}
    price_bands = structure.get("price_bands") or []
    matrix = structure.get("matrix") or {}
    columns = [_band(price_bands, i) for i in range(len(price_bands) + 1)]
    rows = [
        {
            "scale": str(BusinessScale(scale).label),
            "current": scale == result.business_scale,
            "classes": [
                {
                    "value": value,
                    "current": scale == result.business_scale and i == result.price_band - 1,
                }
                for i, value in enumerate(matrix.get(scale) or [])
            ],
        }
        for scale in BusinessScale.values
    ]
    return {
        "scale": {
            "quantity_pct": result.quantity_pct,
            "amount_pct": result.amount_pct,
            "score": result.scale_score,
            "group_size": result.group_size,
            "market": market,
            "format": business_format,
            "cuts": {name: _plain(share) for name, share in cuts.items()},
        },
        "structure": {
            "band": result.price_band,
            "no_price": result.avg_price is None,
            **_band(price_bands, result.price_band - 1),
            "columns": columns,
            "rows": rows,
        },
    }


def _initial_rule(result: GradeResult) -> dict[str, Any]:
    """The new-customer rule: market type × floor area (unknown counts as the smaller)."""
    initial = result.scheme.parameters.get("initial") or {}
    limit = _plain(initial.get("floor_area_m2"))
    area = result.floor_area_m2
    code = result.category_code or ""
    try:
        market = MarketType(code[0])
    except (ValueError, IndexError):
        market = None
    return {
        "market": str(market.label) if market else "",
        "floor_area": area,
        "limit": limit,
        "above": area is not None and limit is not None and float(area) > float(limit),
        "grades": (initial.get("grades") or {}).get(market.value if market else "", {}),
        "grade": result.computed_grade,
    }


def grade_explanation(*, result: GradeResult) -> dict[str, Any]:
    """Why `result` came out as it did, from its stored inputs and its scheme's parameters:
    the window months, the averages and the grade rule (or the new-customer rule), the scale
    percentiles and the structure cell. Plain data; the template words it."""
    why: dict[str, Any] = {"basis": result.basis, **_scale_and_structure(result)}
    if result.basis == GradeBasis.INITIAL:
        why["initial"] = _initial_rule(result)
    else:
        why["window"] = _window_months(result)
        why["rule"] = _grade_rule(result)
    return why


def _history_chart(history: list[GradeResult], end: dt.date) -> dict[str, Any]:
    """The 12 months up to `end` for the chart: effective and computed grade and structure
    class per month (None where the month was not graded)."""
    by_month = {r.month: r for r in history}
    months = [add_months(end, -k) for k in range(11, -1, -1)]

    def series(name: str) -> list[int | None]:
        return [getattr(by_month[m], name) if m in by_month else None for m in months]

    return {
        "labels": [f"{m:%Y-%m}" for m in months],
        "grade": series("grade"),
        "computed": series("computed_grade"),
        "structure": series("structure_class"),
        "grade_count": max(r.scheme.grade_count for r in history),
    }


def customer_grading_card(
    *, customer: Customer, user: User, today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the customer page's grading card shows, for `user` (who reached `customer`
    through the scope rule): the latest result and why, the 12-month history, the overrides
    with what `user` may do with them, this month's assessment. Six or seven queries."""
    result = customer_grade_result(customer=customer)
    decides = policies.may_decide_overrides(user)
    overrides = list(overrides_for(customer=customer)[:25])
    open_overrides = [
        {"override": o, "actions": policies.override_actions(user, o)}
        for o in overrides
        if o.status in (OverrideStatus.PROPOSED, OverrideStatus.APPROVED)
    ]
    closed = [
        o for o in overrides if o.status not in (OverrideStatus.PROPOSED, OverrideStatus.APPROVED)
    ]
    assessment_month = month_start(today or timezone.localdate())
    assessment = (
        GradeAssessment.objects.filter(customer=customer, month=assessment_month)
        .select_related("assessed_by")
        .first()
    )
    card: dict[str, Any] = {
        "result": result,
        "overrides": open_overrides,
        "closed_overrides": closed[:5],
        "assessment": assessment,
        "assessment_month": assessment_month,
        "can_assess": policies.may_assess(user),
        "may_decide": decides,
        "can_propose": False,
        "locked": False,
        "history": [],
        "chart": None,
        "category_changes": [],
    }
    # The result's own scheme is usually the active one (one at most is: a constraint): no
    # second read of it then; otherwise only the active scheme's parameters are read.
    if result is not None and result.scheme.status == SchemeStatus.ACTIVE:
        parameters = result.scheme.parameters
    else:
        parameters = (
            GradingScheme.objects.filter(status=SchemeStatus.ACTIVE)
            .values_list("parameters", flat=True)
            .first()
        )
    weights = ((parameters or {}).get("grades") or {}).get("weights") or {}
    card["active_assessment_weight"] = _plain(round(100 * (weights.get("assessment") or 0), 2))
    if result is None:
        return card
    history = customer_grade_history(customer=customer, today=result.month)
    changes = [
        {"month": after.month, "before": before.category_code, "after": after.category_code}
        for before, after in zip(history, history[1:], strict=False)
        if before.category_code != after.category_code
    ]
    open_months = {item["override"].month for item in open_overrides}
    # A published month takes no override (nor an approval or revocation) until it is
    # unlocked: the card says so instead of offering what the services refuse.
    locked = published_months(months=[result.month, *open_months])
    for item in open_overrides:
        if item["override"].month in locked:
            item["actions"] = [
                a for a in item["actions"] if a in policies.LOCKED_MONTH_OVERRIDE_ACTIONS
            ]
    card.update(
        {
            "locked": result.month in locked,
            "category": category_meaning(result.category_code),
            "why": grade_explanation(result=result),
            "history": history,
            "chart": _history_chart(history, result.month) if history else None,
            "category_changes": changes,
            "can_propose": decides
            and result.month not in open_months
            and result.month not in locked,
            "grade_choices": [
                g for g in range(1, result.scheme.grade_count + 1) if g != result.computed_grade
            ],
        }
    )
    return card


def grade_pairs_frame(*, up_to: dt.date, fallen_by: int | None = None) -> pd.DataFrame:
    """The effective grades of the latest graded month up to `up_to` and of the month before
    it: columns customer_id, month, grade, previous_grade. Empty when no month is graded. For
    the early warnings (a fall of grades).

    previous_grade is NaN without a grade the month before, and also when that grade was
    given by another scheme version: grade numbers are positions on their own scheme's scale
    (grade 13 of 30 is no fall from grade 4 of 8), so only grades of the same version are
    compared.

    `fallen_by`: only the customers whose grade fell by at least that many steps against a
    grade of the same version (a larger number is a lower grade), filtered in SQL — the few
    hundred rows a downgrade warning needs, not one per customer (at 100,000 customers half
    of the read's 0.26 s went to rows the warnings then dropped)."""
    month = (
        GradeResult.objects.filter(month__lte=up_to)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    columns = ["customer_id", "month", "grade", "previous_grade"]
    if month is None:
        return pd.DataFrame(columns=columns)
    # One read of both months, joined in SQL (through Arrow on PostgreSQL; the ORM's 400,000
    # tuples and two pandas maps took about 1.1 s at 200,000 customers).
    table = connection.ops.quote_name(GradeResult._meta.db_table)
    if fallen_by is None:
        join, fall, params = "LEFT JOIN", "", [add_months(month, -1), month]
    else:
        join, fall = "JOIN", " AND p.scheme_id = g.scheme_id AND g.grade - p.grade >= %s"
        params = [add_months(month, -1), month, fallen_by]
    sql = (
        "SELECT g.customer_id, g.month, g.grade,"  # noqa: S608 (the table's name only)
        " CASE WHEN p.scheme_id = g.scheme_id THEN p.grade END"
        f" FROM {table} g {join} {table} p"
        " ON p.customer_id = g.customer_id AND p.month = %s"
        f" WHERE g.month = %s{fall} ORDER BY g.customer_id"
    )
    return query_frame(
        sql,
        params,
        columns=columns,
        dtypes={
            "customer_id": "int64",
            "month": "date",
            "grade": "int64",
            "previous_grade": "float64",
        },
    )


def grade_movements(*, user: User, month: dt.date | None = None) -> dict[str, Any] | None:
    """How the grades of the customers `user` sees moved in `month` (default: the latest
    graded month) against the month before, by the overview's rule (a smaller grade is an
    upgrade; `GradeResultFilterSet.filter_movement`):

        {"month": date, "previous_month": date, "customers": n,
         "up": n, "down": n, "same": n, "new": n, "not_comparable": n}

    Only grades of the same scheme version are compared: a customer graded by another
    version the month before is `not_comparable`. None when no month is graded. One
    aggregate query (two without `month`) over
    `customers.selectors.customers_with_month_pair`."""
    from customers.selectors import customers_with_month_pair

    month = month or latest_result_month()
    if month is None:
        return None
    month = month_start(month)
    previous_month = add_months(month, -1)
    qs = customers_with_month_pair(
        user=user, relation="grade_results", month=month, previous_month=previous_month
    )
    same_scheme = Q(now__scheme_id=F("before__scheme_id"))
    counts = qs.aggregate(
        customers=Count("pk"),
        up=Count("pk", filter=same_scheme & Q(now__grade__lt=F("before__grade"))),
        down=Count("pk", filter=same_scheme & Q(now__grade__gt=F("before__grade"))),
        same=Count("pk", filter=same_scheme & Q(now__grade=F("before__grade"))),
        new=Count("pk", filter=Q(before__grade__isnull=True)),
        not_comparable=Count(
            "pk", filter=Q(before__grade__isnull=False) & ~Q(now__scheme_id=F("before__scheme_id"))
        ),
    )
    return {"month": month, "previous_month": previous_month, **counts}


def publication_of(*, month: dt.date) -> GradePublication | None:
    """The live publication of grade `month` (published, or waiting for its unlock), or None
    when the month is not published."""
    return (
        GradePublication.objects.filter(month=month_start(month))
        .exclude(status=PublicationStatus.UNLOCKED)
        .select_related("published_by", "unlock_requested_by")
        .first()
    )


def published_months(*, months: list[dt.date] | None = None) -> set[dt.date]:
    """The published (locked) grade months, or those of `months` that are."""
    if months is not None and not months:
        return set()  # no query for an empty page
    qs = GradePublication.objects.exclude(status=PublicationStatus.UNLOCKED)
    if months is not None:
        qs = qs.filter(month__in=[month_start(m) for m in months])
    return set(qs.values_list("month", flat=True))


def published_grades_frame(*, month: dt.date) -> pd.DataFrame | None:
    """The effective grades (approved overrides included) and structure classes of a published
    grade month, one row per customer: customer_id, grade, structure_class. None when the month
    is not published — what supply allocation reads, and nothing else."""
    month = month_start(month)
    if publication_of(month=month) is None:
        return None
    qs = (
        GradeResult.objects.filter(month=month)
        .order_by()
        .values_list("customer_id", "grade", "structure_class")
    )
    sql, params = qs.query.sql_with_params()
    return query_frame(
        sql,
        params,
        columns=("customer_id", "grade", "structure_class"),
        dtypes={"customer_id": "int64", "grade": "int64", "structure_class": "int64"},
    )
