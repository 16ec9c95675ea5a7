"""Grades and plans for allocation tests, by hand."""

from __future__ import annotations

import datetime as dt

from allocation import services
from crm.choices import AuditSource
from crm.services import Actor
from grading.models import GradePublication, GradeResult
from grading.services import grades_publish
from tests.grading.factories import make_grade


def month_of(month: str | dt.date) -> dt.date:
    return month if isinstance(month, dt.date) else dt.date.fromisoformat(f"{month}-01")


def grade(customer, month: str | dt.date, value: int, structure_class: int = 5) -> GradeResult:
    """`customer`'s effective grade and structure class in grade `month` ("YYYY-MM")."""
    return make_grade(customer, month_of(month), value, structure_class)


def publish(month: str | dt.date, user=None) -> GradePublication:
    """Grade `month` published (locked) through the service, by `user` (an administrator or
    supervisor) or, without one, by the publish_grades command."""
    actor = Actor.of(user, AuditSource.PAGE) if user else Actor.system("tests", AuditSource.COMMAND)
    return grades_publish(month=month_of(month), actor=actor)


def plan_data(product, **fields) -> dict:
    """A plan as the sync sends it: December 2026, grades 1-3 get 30 / 20 / 10 cartons."""
    data = {
        "code": "2026-12-ZHZ",
        "product_code": getattr(product, "code", product),
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "quotas": {"1": 30, "2": 20, "3": 10},
    }
    data.update(fields)
    return data


def published_plan(product, actor, **fields):
    """A plan created and published through the services."""
    plan = services.plan_create_draft(data=plan_data(product, **fields), actor=actor)
    return services.plan_publish(plan=plan, actor=actor)
