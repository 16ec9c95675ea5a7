"""Reads of the early warnings and the compliance records, scoped to the user, and the
words that say what a warning's episode is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Window
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.choices import Role
from customers.choices import Cycle
from valuation.choices import RecordType, WarningKind, WarningStatus
from valuation.filtersets import (
    DEFAULT_WARNING_STATUS,
    WARNING_STATUS_TABS,
    ComplianceRecordFilterSet,
    EarlyWarningFilterSet,
)
from valuation.models import ComplianceRecord, EarlyWarning, WarningRefresh

if TYPE_CHECKING:
    from crm.models import User
    from customers.models import Customer


# --- early warnings -----------------------------------------------------------------------


def _warnings(user: User) -> QuerySet[EarlyWarning]:
    return EarlyWarning.objects.visible_to(user).select_related(
        "customer", "customer__area", "customer__account_manager"
    )


def warning_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The warnings page's filter values with the default status (unresolved) filled in."""
    data = dict((filters or {}).items())
    if data.get("status") not in WARNING_STATUS_TABS:
        data["status"] = DEFAULT_WARNING_STATUS
    return data


def warning_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet:
    """Warnings of customers `user` sees, filtered by EarlyWarningFilterSet (unresolved ones
    unless another status is asked for), newest first."""
    qs = _warnings(user).select_related("acknowledged_by", "resolved_by")
    filterset = EarlyWarningFilterSet(warning_filters(filters), queryset=qs)
    # An invalid filter value filters nothing rather than failing the page.
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by("-opened_at", "-id")


def warning_status_counts(
    *, user: User, filters: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """Per status tab, how many warnings the other filters leave (one query)."""
    data = warning_filters(filters)
    data["status"] = "all"
    filterset = EarlyWarningFilterSet(data, queryset=EarlyWarning.objects.visible_to(user))
    qs = filterset.qs if filterset.is_valid() else EarlyWarning.objects.visible_to(user)
    counts = qs.aggregate(
        **{
            key: Count("pk", filter=Q(status__in=statuses)) if statuses else Count("pk")
            for key, (_label, statuses) in WARNING_STATUS_TABS.items()
        }
    )
    return {key: counts[key] or 0 for key in WARNING_STATUS_TABS}


def warning_get(*, user: User, pk: int) -> EarlyWarning:
    """One warning of a customer `user` sees; 404 otherwise."""
    warning = _warnings(user).select_related("acknowledged_by", "resolved_by").filter(pk=pk).first()
    if warning is None:
        raise Http404
    return warning


def warnings_for(*, customer: Customer) -> list[EarlyWarning]:
    """The customer's unresolved warnings, newest first (the caller reached `customer`
    through the scope rule)."""
    return list(
        EarlyWarning.objects.filter(customer=customer, status__in=WarningStatus.unresolved())
        .select_related("acknowledged_by")
        .order_by("-opened_at", "-id")
    )


def warning_count_for(*, customer: Customer) -> int:
    """How many of the customer's warnings are unresolved (one count; the caller reached
    `customer` through the scope rule)."""
    return EarlyWarning.objects.filter(
        customer=customer, status__in=WarningStatus.unresolved()
    ).count()


def warning_refresh_latest() -> WarningRefresh | None:
    """The latest refresh of the warnings (finished, failed or still running)."""
    return WarningRefresh.objects.order_by("-started_at", "-id").first()


def warning_home_panel(*, user: User, limit: int = 5) -> dict[str, Any]:
    """The home page's warnings panel: how many warnings of `user`'s customers are open or
    acknowledged, and the latest of them with their words.

    An account manager's in one query: the counts are taken over every unresolved row before
    the LIMIT (as the Today card counts its follow-ups), which joins each of his dozen or so
    warnings to its shop (7 ms against 13 for two queries, with 10,000 warnings on crm_load).
    Anyone else's (areas, or every area) in two: a count that joins nothing, then the latest
    rows; the window would join every unresolved warning of the company first (58 ms against
    18 for 10,000 warnings company-wide)."""
    unresolved = _warnings(user).filter(status__in=WarningStatus.unresolved())
    if user.role == Role.ACCOUNT_MANAGER:
        latest = list(
            unresolved.annotate(
                open_count=Window(Count("pk", filter=Q(status=WarningStatus.OPEN))),
                acknowledged_count=Window(Count("pk", filter=Q(status=WarningStatus.ACKNOWLEDGED))),
            ).order_by("-opened_at", "-id")[:limit]
        )
        opened = latest[0].open_count if latest else 0
        acknowledged = latest[0].acknowledged_count if latest else 0
    else:
        counts = EarlyWarning.objects.visible_to(user).aggregate(
            open=Count("pk", filter=Q(status=WarningStatus.OPEN)),
            acknowledged=Count("pk", filter=Q(status=WarningStatus.ACKNOWLEDGED)),
        )
        opened, acknowledged = counts["open"] or 0, counts["acknowledged"] or 0
        latest = list(unresolved.order_by("-opened_at", "-id")[:limit])
    return {
        "open": opened,
        "acknowledged": acknowledged,
        "total": opened + acknowledged,
        "latest": [{"warning": w, "summary": warning_summary(w)} for w in latest],
    }


# --- words ----------------------------------------------------------------------------------


def money(value: Any) -> str:
    """An amount in CNY for the page: "¥12,000" (whole yuan) or "¥12,345.60"."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return "¥" + formats.number_format(amount, decimal_pos=places, force_grouping=True)


def month_range(text: str) -> str:
    """ "2026-08…2026-10" → "2026-08…10" (the year once when both ends share it)."""
    first, sep, last = str(text).partition("…")
    if sep and first[:4] == last[:4] and len(last) == 7:
        return f"{first}…{last[5:]}"
    return str(text)


def warning_summary(warning: EarlyWarning) -> str:
    """The warning's episode in words, from its `details` (see
    `valuation.computations.warning_frame`), e.g. "Last order 2026-10-02, 45 days ago (order
    cycle weekly, 2 cycles)". Details of an unexpected shape are shown as they are."""
    d = warning.details or {}
    try:
        if warning.kind == WarningKind.NO_ORDERS:
            cycle = d["order_cycle"]
            cycle_label = Cycle(cycle).label.lower() if cycle in Cycle.values else cycle
            return ngettext(
                "Last order %(date)s, %(days)d day ago (order cycle %(cycle)s, %(cycles)d cycles)",
                "Last order %(date)s, %(days)d days ago (order cycle %(cycle)s, %(cycles)d cycles)",
                int(d["days_since"]),
            ) % {
                "date": d["last_order_date"],
                "days": int(d["days_since"]),
                "cycle": cycle_label,
                "cycles": int(d["cycles"]),
            }
        if warning.kind == WarningKind.AMOUNT_DROP:
            return _(
                "Amount %(recent_months)s %(recent)s against %(earlier)s in %(earlier_months)s: "
                "down %(drop)s percent"
            ) % {
                "recent_months": month_range(d["recent_months"]),
                "recent": money(d["recent_amount"]),
                "earlier": money(d["earlier_amount"]),
                "earlier_months": month_range(d["earlier_months"]),
                "drop": f"{float(d['drop_percent']):.1f}",
            }
        if warning.kind == WarningKind.DOWNGRADE:
            return _("Grade %(before)s → %(after)s in %(month)s") % {
                "before": d["previous_grade"],
                "after": d["grade"],
                "month": d["month"],
            }
    except (KeyError, TypeError, ValueError):
        pass
    return "; ".join(f"{key}: {value}" for key, value in d.items())


# --- compliance records ---------------------------------------------------------------------


def compliance_record_list(
    *, user: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[ComplianceRecord]:
    """Compliance records of customers `user` sees, filtered by ComplianceRecordFilterSet,
    newest first."""
    qs = ComplianceRecord.objects.visible_to(user).select_related(
        "customer", "customer__area", "recorded_by", "voided_by"
    )
    filterset = ComplianceRecordFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by("-date", "-id")


def compliance_record_get(*, user: User, pk: int) -> ComplianceRecord:
    """One record of a customer `user` sees; 404 otherwise."""
    record = compliance_record_list(user=user).filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


# The licence officer's home lists the violations recorded in this many days.
RECENT_VIOLATION_DAYS = 90
RECENT_VIOLATION_ROWS = 10


def recent_violations_panel(
    *,
    user: User,
    days: int = RECENT_VIOLATION_DAYS,
    limit: int = RECENT_VIOLATION_ROWS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The violations (not voided) recorded on customers `user` sees, dated in the last `days`
    days, newest first: the first `limit` and how many there are. Two queries at most."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days)
    records = ComplianceRecord.objects.visible_to(user).filter(
        record_type__in=RecordType.violations(), voided_at__isnull=True, date__gte=since
    )
    rows = list(records.select_related("customer", "recorded_by").order_by("-date", "-id")[:limit])
    total = len(rows) if len(rows) < limit else records.count()
    return {"rows": rows, "total": total, "since": since, "days": days}


def compliance_records_for(*, customer: Customer, limit: int = 5) -> list[ComplianceRecord]:
    """The customer's latest records, void ones included (the caller reached `customer`
    through the scope rule)."""
    return list(
        ComplianceRecord.objects.filter(customer=customer)
        .select_related("recorded_by", "voided_by")
        .order_by("-date", "-id")[:limit]
    )
