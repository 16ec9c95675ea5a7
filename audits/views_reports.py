"""The audit reports (namespace "audits"): price monitoring (per product, a product's shops
above the suggested retail price and its price trend) and shelf presence (per product, the
shops missing a key brand).

Who may read them: `policies.can_read_reports`; which shops' figures: the scope rule, through
`audits.reports`. Filters: `month` (YYYY-MM; by default, or for a bad value, the latest month
up to this one with an observation in the user's scope, else this month) and `area` (a code
among the areas the user sees, with the areas below it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from audits import policies, reports
from crm.models import Area
from crm.paginators import CappedPaginator
from crm.views import list_query_context, page_context, people_allowed
from customers import io
from orders.selectors import product_by_code

ROWS_PER_PAGE = 50

readers_only = people_allowed(policies.can_read_reports)


def month_param(value: str | None) -> dt.date | None:
    """The first day of the month `value` ("YYYY-MM") names, or None when it names none."""
    try:
        first = dt.datetime.strptime(value or "", "%Y-%m").date()  # noqa: DTZ007 - a date
    except ValueError:
        return None
    return first if 2000 <= first.year <= 2100 else None


def _filters(request: HttpRequest) -> dict[str, Any]:
    """The month and area chosen (checked), and the areas offered."""
    this_month = timezone.localdate().replace(day=1)
    month = (
        month_param(request.GET.get("month"))
        or reports.latest_month(request.user, until=this_month)
        or this_month
    )
    areas = list(Area.objects.visible_to(request.user).order_by("code"))
    code = request.GET.get("area", "")
    area = next((a for a in areas if a.code == code), None) if code else None
    query = {"month": f"{month:%Y-%m}", **({"area": area.code} if area else {})}
    return {
        "month": month,
        "area": area,
        "areas": areas if len(areas) > 1 else [],
        "filter_query": "&".join(f"{k}={v}" for k, v in query.items()),
    }


def _paged(request: HttpRequest, rows) -> dict[str, Any]:
    page = CappedPaginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "rows": page.object_list,
        **page_context(page),
        **list_query_context(request),
    }


def _number(value) -> float | None:
    return float(value) if value is not None else None


def _price_chart(kind: str, labels: list[str], rows: list[dict], srps: list) -> dict[str, Any]:
    """What static/js/audit_reports.js draws for prices: the median per label, the
    lowest–highest range, the suggested price."""
    return {
        "kind": kind,
        "labels": labels,
        "median": [_number(row["median"]) for row in rows],
        "range": [[_number(row["min"]), _number(row["max"])] for row in rows],
        "srp": [_number(srp) for srp in srps],
        "names": {
            "median": _("Median price"),
            "range": _("Lowest – highest price"),
            "srp": _("Suggested retail price"),
        },
    }


@readers_only
def reports_index(request: HttpRequest) -> HttpResponse:
    """The reports start with price monitoring (the filters kept)."""
    url = reverse("audits:prices")
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


@readers_only
def prices(request: HttpRequest) -> HttpResponse:
    """Per product: the shops observed, median, min, max retail price per carton, the
    suggested price and the share of shops above it; a chart of the same."""
    ctx = _filters(request)
    rows = reports.price_monitoring(request.user, ctx["month"], area=ctx["area"])
    chart = (
        _price_chart(
            "prices",
            [row["product_code"] for row in rows],
            rows,
            [row["suggested_retail_price"] for row in rows],
        )
        if rows
        else None
    )
    return render(
        request, "audits/report_prices.html", {**ctx, "rows": rows, "chart": chart, "tab": "prices"}
    )


def _above_rows(rows):
    for seen in rows.iterator(chunk_size=2000):
        customer = seen.customer
        manager = customer.account_manager
        yield [
            customer.customer_code,
            customer.store_name,
            seen.area.code,
            seen.price,
            timezone.localtime(seen.observed_at).strftime("%Y-%m-%d %H:%M"),
            manager.get_username() if manager else "",
        ]


@readers_only
def price_product(request: HttpRequest, product_code: str) -> HttpResponse:
    """One product: its price trend over twelve months (chart and table), and the shops of
    the month priced above its suggested retail price (paged; `?format=csv` exports them)."""
    product = product_by_code(product_code)
    if product is None:
        raise Http404
    ctx = _filters(request)
    above = reports.shops_above(request.user, ctx["month"], product, area=ctx["area"])
    if request.GET.get("format") == "csv":
        columns = [
            _("Customer code"),
            _("Store name"),
            _("Area"),
            _("Retail price per carton"),
            _("Audited at"),
            _("Account manager"),
        ]
        name = f"prices-above-{product.code}-{ctx['month']:%Y-%m}.csv"
        response = StreamingHttpResponse(
            io.write_csv(_above_rows(above), columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    trend = reports.price_trend(request.user, product, ctx["month"], area=ctx["area"])
    chart = _price_chart(
        "trend",
        [f"{row['month']:%Y-%m}" for row in trend],
        trend,
        [product.suggested_retail_price] * len(trend),
    )
    return render(
        request,
        "audits/report_price_product.html",
        {
            **ctx,
            **_paged(request, above),
            "product": product,
            "trend": trend,
            "chart": chart if any(row["observations"] for row in trend) else None,
            "tab": "prices",
        },
    )


@readers_only
def shelves(request: HttpRequest) -> HttpResponse:
    """Per product: the audited shops asked about it, those that had it on the shelf, the
    share; a chart of the shares."""
    ctx = _filters(request)
    rows = reports.shelf_presence(request.user, ctx["month"], area=ctx["area"])
    chart = None
    if rows:
        chart = {
            "kind": "shelves",
            "labels": [row["product_code"] for row in rows],
            "share": [round(row["share"] * 100, 1) for row in rows],
            "names": {"share": _("Shops with it on the shelf, per cent")},
        }
    return render(
        request,
        "audits/report_shelves.html",
        {**ctx, "rows": rows, "chart": chart, "tab": "shelves"},
    )


@readers_only
def shelves_missing(request: HttpRequest) -> HttpResponse:
    """The shops audited in the month without a key brand on the shelf (paged)."""
    ctx = _filters(request)
    rows = reports.shops_missing_key_brand(request.user, ctx["month"], area=ctx["area"])
    return render(
        request,
        "audits/report_missing.html",
        {**ctx, **_paged(request, rows), "tab": "missing"},
    )
