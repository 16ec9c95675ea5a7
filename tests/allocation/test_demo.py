"""The demo's supply allocation: this month's grades published, two plans in force (one scaled
down to its supply, one for structure classes 1-5), a draft for next month, and orders that
take two of am_zhang's shops past their quota (real exceptions); a second run changes nothing."""

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from allocation.choices import ExceptionStatus, PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm.dates import month_start
from grading.selectors import publication_of


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "plans": list(AllocationPlan.objects.order_by("id").values_list("id", "status")),
        "quotas": list(
            AllocationQuota.objects.order_by("id").values_list("id", "quota", "ordered")
        ),
        "exceptions": list(AllocationException.objects.order_by("id").values_list("id", "status")),
    }


def test_seed_demo_publishes_two_plans_a_draft_and_real_exceptions_once(db, settings):
    # One test, as seeding the whole demo takes a while.
    settings.DEBUG = True
    month = month_start(timezone.localdate())

    first = seed()

    assert publication_of(month=month) is not None
    published = {p.code: p for p in AllocationPlan.objects.filter(status=PlanStatus.PUBLISHED)}
    assert set(published) == {f"DEMO-ZHR-{month:%Y%m}", f"DEMO-LQXZ-{month:%Y%m}"}
    scaled, classes = published[f"DEMO-ZHR-{month:%Y%m}"], published[f"DEMO-LQXZ-{month:%Y%m}"]
    # scaled down to a supply below the demand, and every carton of it given out
    assert scaled.scale is not None and scaled.scale < 1
    assert scaled.allocated == scaled.supply < scaled.demand
    assert all(p.grade_month == month and p.starts_on == month for p in published.values())
    # only the structure classes 1-5 get the second product
    assert classes.structure_classes == [1, 2, 3, 4, 5] and classes.scale is None
    assert set(
        AllocationQuota.objects.filter(plan=classes).values_list("structure_class", flat=True)
    ) <= {1, 2, 3, 4, 5}
    assert AllocationPlan.objects.filter(status=PlanStatus.DRAFT).count() == 1
    # two of am_zhang's shops ordered past their quota: stored, reported, kept as exceptions
    exceptions = AllocationException.objects.select_related("quota__customer__account_manager")
    demo = [e for e in exceptions if e.order.external_id.startswith("DEMO-ALLOC-")]
    assert len(demo) == 2
    assert {e.quota.customer.account_manager.username for e in demo} == {"am_zhang"}
    assert all(e.status == ExceptionStatus.OPEN and e.over_by >= 3 for e in demo)
    assert "Allocation: 2 plans in force" in first

    before = snapshot()
    seed()
    assert snapshot() == before
