"""Service requests, activities and care customers for tests.

Requests and activities go through `services.services` (so due times, assignees and audit rows
are real); care marks and birthdays are set directly on the customer's dynamic part.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from crm.choices import AuditSource
from crm.services import Actor
from customers.models import CustomerDynamic
from services import services
from services.models import Holiday, ServiceActivity, ServiceRequest


def actor(user, source: AuditSource = AuditSource.PAGE) -> Actor:
    return Actor.of(user, source)


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def raise_request(customer, user, **overrides: Any) -> ServiceRequest:
    """A request raised by `user` (normal delivery problem unless overridden)."""
    data: dict[str, Any] = {
        "request_type": "delivery",
        "priority": "normal",
        "description": "The last delivery came two days late.",
    }
    data.update(overrides)
    source = data.pop("source", AuditSource.PAGE)
    return services.service_request_raise(customer=customer, actor=actor(user, source), **data)


def act(request: ServiceRequest, user, action: str, **kwargs: Any) -> ServiceRequest:
    return services.service_request_act(request=request, action=action, actor=actor(user), **kwargs)


def closed_request(customer, user, satisfaction: int, closed_at: dt.datetime | None = None):
    """A request taken through start → resolve → close with `satisfaction`; `closed_at` moves
    its closing time (for monthly summaries)."""
    request = raise_request(customer, user)
    act(request, user, "resolve", note="Sorted out with the depot.")
    request = act(request, user, "close", satisfaction=satisfaction)
    if closed_at is not None:
        ServiceRequest.objects.filter(pk=request.pk).update(closed_at=closed_at)
        request.refresh_from_db()
    return request


def mark_care(customer, care_need: str = "elderly", birthday: dt.date | None = None) -> None:
    CustomerDynamic.objects.filter(pk=customer.pk).update(
        care_need=care_need, owner_birthday=birthday
    )
    customer.dynamic.refresh_from_db()


def log_activity(customer, user, kind: str, performed_on: dt.date | None = None, **kw):
    return services.service_activity_log(
        customer=customer,
        kind=kind,
        performed_on=performed_on or timezone.localdate(),
        actor=actor(user),
        **kw,
    )


def holiday(day: dt.date, name: str = "Test festival") -> Holiday:
    return Holiday.objects.update_or_create(
        date=day, defaults={"name_en": name, "name_zh": "测试节"}
    )[0]


def activities_of(customer) -> list[ServiceActivity]:
    return list(ServiceActivity.objects.filter(customer=customer).order_by("id"))
