"""The writes of supply allocation: plans (drafts, publication, versions, closing, the sync
of the ordering system), the quotas' use by orders and the exceptions list.

A plan's data are checked in one place (`plan_clean`), for the page's form and the REST sync
alike. Publishing reads the published grades of the period's start month
(`grading.selectors.published_grades_frame`), applies the pure rules
(`allocation.computations.allocate`) and writes every eligible shop's quota in one statement
(COPY on PostgreSQL). What a shop has ordered follows the orders: the order sync calls
`orders_recorded` in its transaction, which adds what the stored orders add and takes back
what replaced ones had (cancelled and returned orders give their cartons back) and reports the
orders that took a shop past its quota.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import usage
from allocation.choices import SYNC_STATUSES, ExceptionStatus, PlanStatus
from allocation.computations import Allocation, PlanRule, allocate
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm.choices import AuditAction
from crm.dates import month_start
from crm.exceptions import DomainError
from crm.frames import write_frame
from crm.models import Area
from crm.scope import descendant_area_ids
from crm.services import Actor, audit_record
from crm.text import is_storable
from customers.choices import BusinessFormat, MarketType
from customers.selectors import customer_monthly_frame
from grading.selectors import publication_of, published_grades_frame
from orders.models import Product

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_GRADE = 99
MAX_QUOTA = 100_000  # cartons per shop for a period: far above any real quota
MAX_SUPPLY = 1_000_000_000
MAX_PERIOD_DAYS = 366
STRUCTURE_CLASSES = range(1, 11)
# The fields of a plan as the sync sends them (and the form gives them).
PLAN_KEYS = frozenset(
    {
        "code",
        "name",
        "product_code",
        "starts_on",
        "ends_on",
        "quotas",
        "structure_classes",
        "market_types",
        "business_formats",
        "areas",
        "supply",
        "status",
        "note",
    }
)
# What `content_hash` covers: the rule, not its code or status.
_HASHED = tuple(sorted(PLAN_KEYS - {"code", "status"}))


def can_manage_plans(user: Any) -> bool:
    """Who writes plans: administrators (the sync: integration clients too)."""
    return bool(user and user.is_authenticated and user.is_administrator)


# --- checking a plan -------------------------------------------------------------------


def _int(value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(_("Enter a whole number."))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError(_("Enter a whole number."))
    if not low <= value <= high:
        raise ValueError(
            _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return value


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(_("Enter a date as YYYY-MM-DD."))
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def _text(value: Any, *, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not is_storable(value):
        raise ValueError(_("Enter text."))
    value = value.strip()
    if len(value) > max_length:
        raise ValueError(
            _("Enter at most %(n)d characters.") % {"n": max_length},
        )
    return value


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(_("Enter a list."))
    return list(value)


def _quotas(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValueError(_('Give the cartons per shop by grade, e.g. {"1": 30, "2": 20}.'))
    quotas: dict[str, int] = {}
    for grade, cartons in value.items():
        try:
            label = _int(str(grade), low=1, high=MAX_GRADE)
        except ValueError:
            raise ValueError(
                _("“%(g)s” is not a grade: grades are whole numbers from 1 to %(n)d.")
                % {"g": str(grade)[:20], "n": MAX_GRADE}
            ) from None
        try:
            quotas[str(label)] = _int(cartons, low=0, high=MAX_QUOTA)
        except ValueError as exc:
            raise ValueError(_("Grade %(g)d: %(e)s") % {"g": label, "e": exc}) from None
    if not any(quotas.values()):
        raise ValueError(_("Give at least one grade a quota above 0 cartons."))
    return dict(sorted(quotas.items(), key=lambda item: int(item[0])))


def _choices(value: Any, allowed: Iterable[str]) -> list[str]:
    allowed = list(allowed)
    items = _list(value)
    wrong = [str(v)[:20] for v in items if v not in allowed]
    if wrong:
        raise ValueError(
            _("Unknown: %(wrong)s. Choose from %(allowed)s.")
            % {"wrong": ", ".join(wrong), "allowed": ", ".join(allowed)}
        )
    return sorted(set(items))


def plan_clean(raw: Any, *, for_sync: bool = False) -> dict[str, Any]:
    """A plan's data checked: {code, name, product (a Product), product_code, starts_on,
    ends_on, quotas {"1": n, …}, structure_classes, market_types, business_formats, areas
    (area codes), area_ids (theirs and every area below them), supply (or None), status,
    note}. Raises DomainError with every field at fault."""
    if not isinstance(raw, Mapping):
        raise DomainError(_("Each plan must be a JSON object."))
    errors: dict[str, list[str]] = {}
    if for_sync:
        for key in raw:
            if key not in PLAN_KEYS:
                errors[str(key)[:40]] = [_("Unknown field.")]
    out: dict[str, Any] = {}

    def read(key: str, parse, *args, **kwargs) -> None:
        try:
            out[key] = parse(raw.get(key), *args, **kwargs)
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))

    read("code", _text, max_length=64)
    if "code" in out:
        if not out["code"]:
            errors["code"] = [_("Give the plan a code.")]
        elif not CODE_RE.match(out["code"]):
            errors["code"] = [
                _(
                    "Use letters, digits, dots, dashes and underscores, starting with a "
                    "letter or digit."
                )
            ]
    read("name", _text, max_length=100)
    read("note", _text, max_length=2000)
    read("product_code", _text, max_length=32)
    if out.get("product_code"):
        product = Product.objects.filter(code=out["product_code"]).first()
        if product is None:
            errors["product_code"] = [_("There is no product with this code.")]
        out["product"] = product
    elif "product_code" in out:
        errors["product_code"] = [_("Choose the product.")]
    read("starts_on", _date)
    read("ends_on", _date)
    if "starts_on" in out and "ends_on" in out:
        if out["ends_on"] < out["starts_on"]:
            errors["ends_on"] = [_("The period ends before it starts.")]
        elif (out["ends_on"] - out["starts_on"]).days >= MAX_PERIOD_DAYS:
            errors["ends_on"] = [_("A plan's period is at most a year.")]
    read("quotas", _quotas)
    try:
        out["structure_classes"] = sorted(
            {
                _int(v, low=1, high=max(STRUCTURE_CLASSES))
                for v in _list(raw.get("structure_classes"))
            }
        )
    except ValueError:
        errors["structure_classes"] = [_("Structure classes are whole numbers from 1 to 10.")]
    read("market_types", _choices, MarketType.values)
    read("business_formats", _choices, BusinessFormat.values)
    try:
        codes = sorted({_text(v, max_length=20) for v in _list(raw.get("areas"))})
    except ValueError as exc:
        errors["areas"] = [str(exc)]
    else:
        found = dict(Area.objects.filter(code__in=codes).values_list("code", "pk"))
        missing = [c for c in codes if c not in found]
        if missing:
            errors["areas"] = [_("Unknown area: %(codes)s.") % {"codes": ", ".join(missing)}]
        out["areas"] = codes
        out["area_pks"] = sorted(found.values())
    supply = raw.get("supply")
    if supply in (None, ""):
        out["supply"] = None
    else:
        read("supply", _int, low=1, high=MAX_SUPPLY)
    status = raw.get("status", PlanStatus.DRAFT)
    if status not in SYNC_STATUSES:
        errors["status"] = [
            _("Choose one of: %(s)s.") % {"s": ", ".join(str(s) for s in SYNC_STATUSES)}
        ]
    out["status"] = status
    if errors:
        raise DomainError(errors=errors)
    out["content_hash"] = _content_hash(out)
    return out


def _content_hash(data: Mapping[str, Any]) -> str:
    shown = {key: data.get(key) for key in _HASHED}
    text = json.dumps(shown, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def plan_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model fields of checked plan data."""
    return {
        "name": data["name"],
        "note": data["note"],
        "product": data["product"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "quotas": data["quotas"],
        "structure_classes": data["structure_classes"],
        "market_types": data["market_types"],
        "business_formats": data["business_formats"],
        "area_ids": data["area_pks"],
        "supply": data["supply"],
        "content_hash": data["content_hash"],
    }


def plan_as_data(plan: AllocationPlan) -> dict[str, Any]:
    """A stored plan in the shape `plan_clean` reads (the edit form's initial values)."""
    areas = sorted(Area.objects.filter(pk__in=plan.area_ids).values_list("code", flat=True))
    return {
        "code": plan.code,
        "name": plan.name,
        "note": plan.note,
        "product_code": plan.product.code,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "quotas": plan.quotas,
        "structure_classes": plan.structure_classes,
        "market_types": plan.market_types,
        "business_formats": plan.business_formats,
        "areas": areas,
        "supply": plan.supply,
        "status": plan.status,
    }


# --- drafts ------------------------------------------------------------------------------


def _snapshot(plan: AllocationPlan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "version": plan.version,
        "product": plan.product.code,
        "period": f"{plan.starts_on} – {plan.ends_on}",
        "quotas": plan.quotas,
        "supply": plan.supply,
        "status": plan.status,
    }


@transaction.atomic
def plan_create_draft(*, data: Mapping[str, Any], actor: Actor) -> AllocationPlan:
    """A new plan (version 1) as a draft; refused when the code is taken."""
    clean = plan_clean(data)
    if AllocationPlan.objects.filter(code=clean["code"]).exists():
        raise DomainError(
            _("A plan with this code exists: open it and make a new version."), field="code"
        )
    plan = AllocationPlan.objects.create(
        code=clean["code"], version=1, created_by=actor.user, **plan_fields(clean)
    )
    audit_record(actor=actor, obj=plan, action=AuditAction.CREATE, snapshot=_snapshot(plan))
    return plan


def _locked(plan: AllocationPlan) -> AllocationPlan:
    return AllocationPlan.objects.select_for_update().select_related("product").get(pk=plan.pk)


@transaction.atomic
def plan_update_draft(
    *, plan: AllocationPlan, data: Mapping[str, Any], actor: Actor
) -> AllocationPlan:
    """Changes a draft (its code stays); a published version is changed by a new version."""
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT:
        raise DomainError(_("Only a draft can be edited: make a new version of this plan."))
    clean = plan_clean({**data, "code": plan.code})
    fields = plan_fields(clean)
    changes = {}
    for name, value in fields.items():
        old = getattr(plan, name)
        if old != value and name != "content_hash":
            changes[name] = (str(old), str(value))
        setattr(plan, name, value)
    plan.updated_at = timezone.now()
    plan.save()
    if changes:
        audit_record(actor=actor, obj=plan, action=AuditAction.UPDATE, changes=changes)
    return plan


@transaction.atomic
def plan_new_version(*, plan: AllocationPlan, actor: Actor) -> AllocationPlan:
    """A draft copy of a published (or closed) version, numbered after the last; publishing
    it supersedes the published one, whose quotas stay visible."""
    plan = _locked(plan)
    if plan.status == PlanStatus.DRAFT:
        raise DomainError(_("This version is a draft: edit it."))
    if AllocationPlan.objects.filter(code=plan.code, status=PlanStatus.DRAFT).exists():
        raise DomainError(_("This plan already has a draft version: edit that one."))
    last = AllocationPlan.objects.filter(code=plan.code).order_by("-version").first()
    copy = AllocationPlan.objects.create(
        code=plan.code,
        version=last.version + 1,
        created_by=actor.user,
        **{
            name: getattr(plan, name)
            for name in (
                "name",
                "note",
                "product",
                "starts_on",
                "ends_on",
                "quotas",
                "structure_classes",
                "market_types",
                "business_formats",
                "area_ids",
                "supply",
                "content_hash",
            )
        },
    )
    audit_record(actor=actor, obj=copy, action=AuditAction.CREATE, snapshot=_snapshot(copy))
    return copy


@transaction.atomic
def plan_delete_draft(*, plan: AllocationPlan, actor: Actor) -> None:
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT:
        raise DomainError(_("Only a draft can be deleted."))
    audit_record(actor=actor, obj=plan, action=AuditAction.DELETE, snapshot=_snapshot(plan))
    plan.delete()


# --- preview and publication ----------------------------------------------------------


@dataclass
class Preview:
    """What publishing a plan would give now: the grade month it reads, whether its grades
    are published, and (when they are) the allocation."""

    grade_month: dt.date
    published: bool
    allocation: Allocation | None = None

    @property
    def grades_chart(self) -> dict[str, Any]:
        """Demand against what each grade gets, for the preview's chart."""
        rows = self.allocation.grades if self.allocation else []
        return {
            "labels": [str(row["grade"]) for row in rows],
            "demand": [row["demand"] for row in rows],
            "allocated": [row["allocated"] for row in rows],
        }


def _rule(plan: AllocationPlan) -> PlanRule:
    return PlanRule(
        quotas={int(g): int(q) for g, q in plan.quotas.items()},
        structure_classes=plan.structure_classes,
        market_types=plan.market_types,
        business_formats=plan.business_formats,
        area_ids=descendant_area_ids(plan.area_ids) if plan.area_ids else (),
        supply=plan.supply,
    )


# The shops of each grade month read once for all the plans of one sync or publication (see
# `_shops`): {month: (its publication's id, the shops)}.
_shared_shops: ContextVar[dict[dt.date, tuple[int, pd.DataFrame]] | None] = ContextVar(
    "allocation_shared_shops", default=None
)


def _shops(month: dt.date) -> pd.DataFrame | None:
    """The shops graded in the published grade `month` that are not closed, with what
    eligibility reads (None when the month is not published). Inside `plan_sync_many` and
    `plan_publish` read once per month (while the month's publication stays the same) and
    shared by the plans, which only read the frame."""
    shared = _shared_shops.get()
    publication = publication_of(month=month)
    if publication is None:
        return None
    if shared is not None and month in shared and shared[month][0] == publication.pk:
        return shared[month][1]
    grades = published_grades_frame(month=month)
    if grades is None:
        return None
    customers = customer_monthly_frame(columns=("market_type", "business_format", "area_id"))
    shops = grades.merge(customers, on="customer_id", how="inner")
    if shared is not None:
        shared[month] = (publication.pk, shops)
    return shops


@contextlib.contextmanager
def _shops_shared(months: Iterable[dt.date] = ()) -> Iterator[None]:
    """Shares the shops read by the plans published inside (see `_shops`), and reads those of
    `months` now: before the publications' transactions when the caller is in none, where the
    bulk reads go through Arrow on connections of their own (several times faster than a COPY
    inside the transaction, which `crm.frames` falls back to)."""
    if _shared_shops.get() is not None:
        yield
        return
    token = _shared_shops.set({})
    try:
        if not transaction.get_connection().in_atomic_block:
            for month in sorted(set(months)):
                _shops(month)
        yield
    finally:
        _shared_shops.reset(token)


def plan_preview(*, plan: AllocationPlan) -> Preview:
    """The allocation of `plan` from the published grades of its start month, saving
    nothing; without them, says so (publishing is refused until they are published)."""
    month = month_start(plan.starts_on)
    shops = _shops(month)
    if shops is None:
        return Preview(grade_month=month, published=False)
    return Preview(grade_month=month, published=True, allocation=allocate(shops, _rule(plan)))


def plan_publish(*, plan: AllocationPlan, actor: Actor) -> AllocationPlan:
    """Publishes a draft: stores every eligible shop's quota from the published grades of the
    period's start month (with what each has already ordered in the period), and supersedes
    the version published before it. Refused while those grades are not published."""
    with _shops_shared([month_start(plan.starts_on)]):
        return _plan_publish(plan=plan, actor=actor)


@transaction.atomic
def _plan_publish(*, plan: AllocationPlan, actor: Actor) -> AllocationPlan:
    plan = _locked(plan)
    if plan.status != PlanStatus.DRAFT:
        raise DomainError(_("Only a draft can be published."))
    preview = plan_preview(plan=plan)
    if not preview.published:
        raise DomainError(
            _(
                "The grades of %(m)s are not published: publish them on the grading "
                "overview first (a plan reads the grades of its start month)."
            )
            % {"m": f"{preview.grade_month:%Y-%m}"},
            field="starts_on",
        )
    allocation = preview.allocation
    now = timezone.now()
    previous = (
        AllocationPlan.objects.select_for_update()
        .filter(code=plan.code, status=PlanStatus.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status = PlanStatus.SUPERSEDED
        previous.updated_at = now
        previous.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            obj=previous,
            action=AuditAction.UPDATE,
            changes={"status": (PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED)},
            reason=_("Version %(v)d was published.") % {"v": plan.version},
        )
    quotas = allocation.quotas.drop(columns=["bonus"])
    ordered = usage.usage_frame(plans=[plan])[["customer_id", "ordered"]]
    quotas = quotas.merge(ordered, on="customer_id", how="left")
    quotas["ordered"] = quotas["ordered"].fillna(0).astype("int64")
    write_frame(AllocationQuota, quotas, constants={"plan_id": plan.pk})
    plan.status = PlanStatus.PUBLISHED
    plan.grade_month = preview.grade_month
    plan.shops = len(quotas)
    plan.demand = allocation.demand
    plan.allocated = allocation.allocated
    plan.scale = allocation.scale
    plan.published_by = actor.user
    plan.published_at = now
    plan.updated_at = now
    plan.save()
    audit_record(
        actor=actor,
        obj=plan,
        action=AuditAction.UPDATE,
        changes={"status": (PlanStatus.DRAFT, PlanStatus.PUBLISHED)},
        reason=_("%(n)d shops, %(a)d of %(d)d cartons asked.")
        % {"n": plan.shops, "a": plan.allocated, "d": plan.demand},
    )
    return plan


@transaction.atomic
def plan_close(*, plan: AllocationPlan, actor: Actor, reason: str = "") -> AllocationPlan:
    """Ends a published plan: no longer in force, its quotas stay visible."""
    plan = _locked(plan)
    if plan.status != PlanStatus.PUBLISHED:
        raise DomainError(_("Only a published plan can be closed."))
    now = timezone.now()
    plan.status = PlanStatus.CLOSED
    plan.closed_by = actor.user
    plan.closed_at = now
    plan.updated_at = now
    plan.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        obj=plan,
        action=AuditAction.UPDATE,
        changes={"status": (PlanStatus.PUBLISHED, PlanStatus.CLOSED)},
        reason=reason,
    )
    return plan


# --- the sync of the ordering system -------------------------------------------------


@dataclass
class PlanSyncReport:
    """What a plan sync did: counts and the items refused, one row per field at fault."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, index: int, code: Any, exc: DomainError) -> None:
        code = code if isinstance(code, str) and is_storable(code) else None
        for key, messages in exc.errors.items():
            for message in messages:
                self.errors.append(
                    {
                        "index": index,
                        "code": code,
                        "field": None if key == "__all__" else key,
                        "message": str(message),
                    }
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


MAX_PLANS_PER_SYNC = 200


def plan_sync_many(*, rows: Sequence[Any], actor: Actor) -> PlanSyncReport:
    """Creates, changes, publishes or closes plans by code, each item all or nothing (a
    refused one leaves nothing behind, the others are stored):

    - a new code: version 1, as a draft or published (a new plan cannot be closed);
    - the latest version a draft: changed, and published when asked;
    - the latest version published: the same rule is unchanged (or closed when asked);
      another rule is a new version — published at once (superseding it) or a draft;
    - a closed plan cannot change: a new period takes a new code.
    Publishing is refused when the start month's grades are not published. Replaying a plan
    as it is stored is `unchanged`.
    """
    report = PlanSyncReport()
    seen: dict[str, int] = {}
    months = set()  # of the plans to publish: their shops read once, before the transactions
    for raw in rows:
        if isinstance(raw, Mapping) and raw.get("status") == PlanStatus.PUBLISHED:
            with contextlib.suppress(ValueError):
                months.add(month_start(_date(raw.get("starts_on"))))
    with _shops_shared(months):
        _plan_sync_rows(rows, actor, report, seen)
    return report


def _plan_sync_rows(
    rows: Sequence[Any], actor: Actor, report: PlanSyncReport, seen: dict[str, int]
) -> None:
    for index, raw in enumerate(rows):
        code = raw.get("code") if isinstance(raw, Mapping) else None
        try:
            clean = plan_clean(raw, for_sync=True)
            if clean["code"] in seen:
                raise DomainError(
                    _("This plan is also at index %(i)d of this request.")
                    % {"i": seen[clean["code"]]},
                    field="code",
                )
            seen[clean["code"]] = index
            with transaction.atomic():
                outcome = _plan_sync_one(clean, actor)
        except DomainError as exc:
            report.refuse(index, code, exc)
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)


def _plan_sync_one(clean: dict[str, Any], actor: Actor) -> str:
    """One plan of a sync: "created", "updated" or "unchanged" (or DomainError)."""
    status = clean["status"]
    latest = (
        AllocationPlan.objects.select_for_update()
        .filter(code=clean["code"])
        .order_by("-version")
        .first()
    )
    if latest is None:
        if status == PlanStatus.CLOSED:
            raise DomainError(_("Only a published plan can be closed."), field="status")
        plan = plan_create_draft(data=clean, actor=actor)
        if status == PlanStatus.PUBLISHED:
            plan_publish(plan=plan, actor=actor)
        return "created"
    same = latest.content_hash == clean["content_hash"]
    if latest.status == PlanStatus.CLOSED:
        if same and status == PlanStatus.CLOSED:
            return "unchanged"
        raise DomainError(
            _("Plan %(c)s is closed: a new period takes a new code.") % {"c": latest.code},
            field="status",
        )
    if latest.status == PlanStatus.DRAFT:
        if same and status == PlanStatus.DRAFT:
            return "unchanged"
        if status == PlanStatus.CLOSED:
            raise DomainError(_("Only a published plan can be closed."), field="status")
        if not same:
            plan_update_draft(plan=latest, data=clean, actor=actor)
        if status == PlanStatus.PUBLISHED:
            plan_publish(plan=latest, actor=actor)
        return "updated"
    # The latest version is published.
    if same and status == PlanStatus.PUBLISHED:
        return "unchanged"
    if same and status == PlanStatus.DRAFT:
        raise DomainError(
            _(
                "Plan %(c)s is published: send a changed rule for a new version, or the "
                "status closed to close it."
            )
            % {"c": latest.code},
            field="status",
        )
    if status == PlanStatus.CLOSED:
        if not same:
            raise DomainError(
                _("A plan is closed as it was published: send its rule unchanged."),
                field="status",
            )
        plan_close(plan=latest, actor=actor)
        return "updated"
    draft = plan_new_version(plan=latest, actor=actor)
    if not same:
        plan_update_draft(plan=draft, data=clean, actor=actor)
    if status == PlanStatus.PUBLISHED:
        plan_publish(plan=draft, actor=actor)
    return "updated"


@transaction.atomic
def exception_review(
    *, exception: AllocationException, note: str, actor: Actor
) -> AllocationException:
    """A supervisor has looked at an over-allocation (what was done goes in the note)."""
    exception = AllocationException.objects.select_for_update().get(pk=exception.pk)
    if exception.status != ExceptionStatus.OPEN:
        raise DomainError(_("This exception has been reviewed already."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what was done about it."), field="note")
    exception.status = ExceptionStatus.REVIEWED
    exception.reviewed_by = actor.user
    exception.reviewed_at = timezone.now()
    exception.review_note = note[:2000]
    exception.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=actor,
        obj=exception,
        action=AuditAction.UPDATE,
        changes={"status": (ExceptionStatus.OPEN, ExceptionStatus.REVIEWED)},
        reason=note,
    )
    return exception
