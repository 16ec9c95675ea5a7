"""Selectors of the audit reports (price monitoring, shelf presence), over the caller's scope.

One scope rule (`crm.scope`, as `visible_to` applies it): whoever sees a shop sees its
observations. The price report reads `PriceTally` (a few thousand rows a month, summed per
product and price) for callers whose scope is areas or everything — administrators,
integration clients, supervisors, licence officers — and, for account managers (scope: the
shops they own, which the area tallies cannot tell apart), their shops' `ProductObservation`
rows grouped the same way. Either way the maths is `audits.computations` on {price: shops}.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from audits import computations
from audits.models import PriceTally, ProductObservation
from crm.choices import Role
from crm.scope import area_ids_in_scope, descendant_area_ids, sees_everything

TREND_MONTHS = 12


def _owner_scoped(user: Any) -> bool:
    """Account managers see the shops they own, not whole areas (crm.scope)."""
    return not sees_everything(user) and getattr(user, "role", None) == Role.ACCOUNT_MANAGER


def _area_ids(user: Any, area: Any | None) -> frozenset[int] | None:
    """The areas whose tallies the caller may read, narrowed to `area` and the areas below
    it; None for every area."""
    wanted = descendant_area_ids([area.pk]) if area is not None else None
    if sees_everything(user):
        return wanted
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    mine = area_ids_in_scope(user)
    return mine & wanted if wanted is not None else mine


def observations_in_scope(user: Any, area: Any | None = None) -> QuerySet[ProductObservation]:
    """The observations of the shops `user` sees, in `area` and below when given."""
    rows = ProductObservation.objects.visible_to(user)
    if area is not None:
        rows = rows.filter(area_id__in=descendant_area_ids([area.pk]))
    return rows


def latest_month(user: Any, *, until: dt.date) -> dt.date | None:
    """The latest month up to `until` in which a shop `user` sees was observed: the reports
    open on it, so early in a month they show the month just ended rather than nothing."""
    rows = observations_in_scope(user).filter(month__lte=until)
    return rows.aggregate(latest=Max("month"))["latest"]


def _tallies(user: Any, area: Any | None, **filters: Any) -> dict[tuple, dict[Decimal, int]]:
    """{(product id, month): {price: shops}} over the caller's scope (one query)."""
    if _owner_scoped(user):
        rows = (
            observations_in_scope(user, area)
            .filter(price__isnull=False, **filters)
            .values("product_id", "month", "price")
            .annotate(shops=Count("pk"))
            .values_list("product_id", "month", "price", "shops")
            .order_by()
        )
    else:
        tallies = PriceTally.objects.filter(shops__gt=0, **filters)
        area_ids = _area_ids(user, area)
        if area_ids is not None:
            tallies = tallies.filter(area_id__in=area_ids)
        rows = (
            tallies.values("product_id", "month", "price")
            .annotate(n=Sum("shops"))
            .values_list("product_id", "month", "price", "n")
            .order_by()
        )
    found: dict[tuple, dict[Decimal, int]] = defaultdict(dict)
    for product_id, month, price, shops in rows:
        found[(product_id, month)][Decimal(price)] = shops
    return found


def _products(ids: set[int]) -> dict[int, Any]:
    from orders.selectors import products_by_ids

    return products_by_ids(ids)


def price_monitoring(user: Any, month: dt.date, area: Any | None = None) -> list[dict]:
    """Per product observed in `month` (first day): product_code, name, observations,
    median, min, max, suggested_retail_price, share_above — in product code order. Two
    queries."""
    tallies = _tallies(user, area, month=month)
    products = _products({product_id for product_id, _m in tallies})
    report = []
    for (product_id, _month), tally in tallies.items():
        product = products[product_id]
        srp = product.suggested_retail_price
        report.append(
            {
                "product_id": product_id,
                "product_code": product.code,
                "name": product.name,
                "suggested_retail_price": srp,
                **computations.price_summary(tally, srp),
            }
        )
    return sorted(report, key=lambda row: row["product_code"])


def price_trend(
    user: Any, product: Any, last: dt.date, area: Any | None = None, months: int = TREND_MONTHS
) -> list[dict]:
    """The product's monthly observations, median, min and max over the `months` months
    ending with `last` (first days), oldest first; months without observations included
    (empty). One query."""
    firsts = [_add_months(last, -k) for k in range(months - 1, -1, -1)]
    tallies = _tallies(user, area, product_id=product.pk, month__gte=firsts[0], month__lte=last)
    srp = product.suggested_retail_price
    return [
        {"month": month, **computations.price_summary(tallies.get((product.pk, month), {}), srp)}
        for month in firsts
    ]


def shops_above(user: Any, month: dt.date, product: Any, area: Any | None = None) -> QuerySet:
    """The shops that priced `product` above its suggested retail price in `month`, highest
    price first (for follow-up): observations with their shop, area and account manager.
    Empty when the product has no suggested price."""
    if product.suggested_retail_price is None:
        return ProductObservation.objects.none()
    return (
        observations_in_scope(user, area)
        .filter(month=month, product=product, price__gt=product.suggested_retail_price)
        .select_related("customer", "customer__account_manager", "area")
        .order_by("-price", "customer__customer_code")
    )


def shelf_presence(user: Any, month: dt.date, area: Any | None = None) -> list[dict]:
    """Per product asked about in `month`: product_code, name, is_key_brand, audited (shops
    asked), on_shelf (shops that had it), share. Two queries."""
    rows = (
        observations_in_scope(user, area)
        .filter(month=month, on_shelf__isnull=False)
        .values("product_id")
        .annotate(audited=Count("pk"), on=Count("pk", filter=Q(on_shelf=True)))
        .values_list("product_id", "audited", "on")
        .order_by()
    )
    counts = {product_id: (audited, on) for product_id, audited, on in rows}
    products = _products(set(counts))
    report = [
        {
            "product_id": product_id,
            "product_code": products[product_id].code,
            "name": products[product_id].name,
            "is_key_brand": products[product_id].is_key_brand,
            "audited": audited,
            "on_shelf": on,
            "share": computations.share(on, audited),
        }
        for product_id, (audited, on) in counts.items()
    ]
    return sorted(report, key=lambda row: row["product_code"])


def shops_missing_key_brand(user: Any, month: dt.date, area: Any | None = None) -> QuerySet:
    """The shops audited in `month` that did not have a key brand on the shelf: one row per
    shop and product, by area and shop."""
    return (
        observations_in_scope(user, area)
        .filter(month=month, on_shelf=False, product__is_key_brand=True)
        .select_related("customer", "customer__account_manager", "area", "product")
        .order_by("area__code", "customer__customer_code", "product__code")
    )


def _add_months(first: dt.date, k: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + k
    return dt.date(index // 12, index % 12 + 1, 1)
