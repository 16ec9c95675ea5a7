"""A customer merge moves every kind of row every app keeps about a customer (the security
suite's world holds one of each for the YX shop), in a module of its own: the world is built
once per module, in a transaction of its own."""

from __future__ import annotations

import datetime as dt

from crm import merging
from crm.choices import AuditSource
from crm.services import Actor
from customers.models import ChangeRequest, Customer, CustomerAlias
from customers.services import customer_merge
from grading.models import GradeAssessment
from orders.models import MonthlySalesFact
from orders.services import sales_facts_rebuild
from tests.customers.factories import make_customer
from tests.security.conftest import w, world  # noqa: F401 (the security suite's world)


def facts_of(customer) -> list[tuple]:
    return list(
        MonthlySalesFact.objects.filter(customer=customer)
        .order_by("month")
        .values_list("month", "cartons", "amount", "orders", "electronic_amount")
    )


def test_a_merge_moves_every_kind_of_row(w):  # noqa: F811
    """One row of each kind every app keeps about a customer (the security suite's world
    holds them for the YX shop), merged into a new record of the same manager: every row
    moves, none is left, and every registered kind was tried."""
    # given
    merged = w["c_yx"]
    survivor = make_customer(merged.area, w["am_yx"], store_name="越秀店（新）")
    # (the one kind the world has no row of: an account manager's assessment)
    GradeAssessment.objects.create(
        customer=merged, month=dt.date(2026, 10, 1), score=80, assessed_by=w["am_yx"]
    )
    relations = [
        field
        for field in Customer._meta.get_fields(include_hidden=True)
        if field.one_to_many and field.related_model not in (CustomerAlias,)
    ]

    def rows_of(customer_id):
        return {
            field.related_model._meta.label: field.related_model._default_manager.filter(
                **{field.field.name: customer_id}
            ).count()
            for field in relations
        }

    before = rows_of(merged.pk)
    counted = {kind: n for step in merging.steps() for kind, n in step.count(merged.pk).items()}
    assert all(counted.values()), counted  # the world has a row of every kind
    assert ChangeRequest.objects.filter(customer=merged).exists()
    # when
    outcome = customer_merge(
        survivor=survivor,
        merged=merged,
        values={},
        confirm_months=False,
        actor=Actor.of(w["admin"], AuditSource.PAGE),
    )
    # then: every kind moved as counted; each table's rows are the survivor's now, but the
    # facts and their pending marks, rebuilt from the one order that moved
    assert {kind: outcome.moved[kind] for kind in counted} == counted
    after = rows_of(survivor.pk)
    rebuilt = {"orders.MonthlySalesFact", "orders.SalesFactPending"}
    assert {k: v for k, v in after.items() if k not in rebuilt} == {
        k: v for k, v in before.items() if k not in rebuilt
    }
    assert after["orders.MonthlySalesFact"] == 1
    assert after["orders.SalesFactPending"] == 0
    assert set(rows_of(merged.pk).values()) == {0}
    exact = facts_of(survivor)
    sales_facts_rebuild(customer_ids=[survivor.pk])
    assert facts_of(survivor) == exact
