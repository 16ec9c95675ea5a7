"""The demo seed's order stage stopped before its facts rebuild: the next run, which finds
every order unchanged, still leaves the facts right (the bulk load marks them pending in the
transaction that stores the orders)."""

from __future__ import annotations

import pytest

from crm.choices import AuditSource
from crm.demo import DemoOptions, SeedReport, seed_organisation
from crm.services import Actor
from customers.demo import seed_customers
from orders import demo
from orders.models import MonthlySalesFact, Order, SalesFactPending
from tests.orders.factories import facts_rebuilt, facts_snapshot


class Killed(BaseException):
    """Stands for the process being killed."""


def test_a_seed_stopped_before_the_facts_rebuild_and_run_again_leaves_the_facts_right(
    db, monkeypatch
):
    # given the demo's shops, and an order stage stopped after storing its orders
    actor = Actor.system("tests", AuditSource.COMMAND)
    report = SeedReport(options=DemoOptions(customers=50, months=2, seed=3))
    seed_organisation(report, actor=actor)
    seed_customers(report, actor=actor)

    def killed():
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(demo, "sales_facts_rebuild", killed)
        with pytest.raises(Killed):
            demo.seed_orders(report, actor=actor)
    assert Order.objects.exists()
    # when the stage runs again (every order unchanged)
    demo.seed_orders(report, actor=actor)
    # then every order's facts are there, as a rebuild from the orders makes them
    assert "0 created" in report.lines[-1]
    assert MonthlySalesFact.objects.exists()
    assert facts_snapshot() == facts_rebuilt()
    assert not SalesFactPending.objects.exists()
