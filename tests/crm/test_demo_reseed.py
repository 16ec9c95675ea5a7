"""A second `seed_demo` (`./scripts/run` runs it every time) leaves what people did alone: the
demo is seeded once, and a later run only adds what is missing (new shops for a bigger
`--customers`, months and orders a later day brings, a stage an interrupted run cut off)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from crm.choices import AuditSource, Role
from crm.dates import add_months, month_start
from crm.demo import SPRING_FESTIVALS, DemoOptions, SeedReport, seed_organisation
from crm.models import Area, DemoSeedStep, User
from crm.services import Actor, area_upsert, user_set_password, user_update
from customers.catalogue import external_value
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, Customer
from customers.services import (
    change_request_approve,
    change_request_reject,
    customer_edit,
    customer_upsert_many,
)
from grading import services as grading_services
from grading.choices import OverrideStatus
from grading.models import (
    GradeOverride,
    GradePublication,
    GradeResult,
    GradingScheme,
    PeakMonth,
)
from orders.models import Order, OrdersConfig, Product
from orders.services import order_sync_many, orders_config_update, product_upsert_many
from services import services as services_services
from services.choices import RequestAction, RequestStatus
from services.models import ServiceActivity, ServiceRequest, ServicesConfig, TrainingSession
from valuation import services as valuation_services
from valuation.choices import WarningStatus
from valuation.models import ComplianceRecord, EarlyWarning, ValuationScheme, ValueResult
from visits import services as visits_services
from visits.choices import PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig

CUSTOMERS = 50  # the smallest demo


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--customers", str(CUSTOMERS), *args, stdout=out)
    return out.getvalue()


def months_with_spring_festival(today: dt.date) -> str:
    """The fewest months whose period holds a Spring Festival month (so one is flagged)."""
    this_month = month_start(today)
    festival = max(month_start(day) for day in SPRING_FESTIVALS if month_start(day) <= this_month)
    return str((this_month.year - festival.year) * 12 + this_month.month - festival.month + 1)


def by(username: str) -> Actor:
    return Actor.of(User.objects.get(username=username), AuditSource.PAGE)


def counts() -> dict[str, int]:
    models = [
        Area,
        User,
        Customer,
        ChangeRequest,
        Product,
        Order,
        PeakMonth,
        GradingScheme,
        GradeOverride,
        ValuationScheme,
        ComplianceRecord,
        Visit,
        FollowUp,
        ServiceRequest,
        ServiceActivity,
        TrainingSession,
    ]
    return {model.__name__: model.objects.count() for model in models}


def test_a_second_seed_keeps_every_change_people_made(db, settings, tmp_path):
    settings.DEBUG = True
    today = timezone.localdate()
    args = ("--months", months_with_spring_festival(today))
    seed(*args)

    # given: people work with the demo, through the services the pages and imports use
    expected: dict[str, object] = {}
    admin = by("admin")
    # a supervisor approves one change request, rejects the other
    first, second = ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).order_by("id")
    change_request_approve(change_request=first, user=User.objects.get(username="sup_tianhe"))
    change_request_reject(
        change_request=second, user=User.objects.get(username="sup_city"), comment="照片不清楚"
    )
    approved = Customer.objects.get(pk=first.customer_id)
    expected["approved store name"] = (approved, "store_name", first.changes[0]["new"])
    # an import brings a new phone; an account manager edits a shop's dynamic information
    imported = Customer.objects.order_by("customer_code").last()
    table = tmp_path / "phones.csv"
    table.write_text(f"customer_code,phone\n{imported.customer_code},13900001111\n")
    call_command("import_customers", str(table), "--user", "admin", stdout=StringIO())
    expected["imported phone"] = (imported, "phone", "13900001111")
    edited = Customer.objects.filter(account_manager__username="am_zhang").first()
    customer_edit(
        customer=edited,
        user=User.objects.get(username="am_zhang"),
        data={"contact_person": "店长小李", "operating_status": "difficult"},
    )
    expected["edited contact"] = (edited, "contact_person", "店长小李")
    expected["edited operating status"] = (edited, "operating_status", "difficult")
    # the administrator renames an area, moves a person, deactivates one, settings change
    area_upsert(code="GZ-BY", name="白云", parent_code="GZ", actor=admin)
    am_liu = User.objects.get(username="am_liu")
    user_update(user=am_liu, name="刘洋（调岗）", area_codes=["GZ-TH", "GZ-YX"], actor=admin)
    user_update(user=User.objects.get(username="lo_sun"), is_active=False, actor=admin)
    user_update(user=User.objects.get(username="sup_city"), role=Role.ADMINISTRATOR, actor=admin)
    user_set_password(
        user=User.objects.get(username="am_zhao"),
        password="a-new-Secret-42",  # noqa: S106
        check_password=False,
        actor=admin,
    )
    visits_services.visits_config_update(data={"horizon_days": 10}, actor=admin)
    services_services.services_config_update(data={"reopen_days": 9}, actor=admin)
    orders_config_update(data={"purchase_window_months": 6}, actor=admin)
    # grading and valuation: a peak month unflagged, the draft deleted, the pending override
    # rejected, the valuation draft activated, warnings acknowledged and resolved
    grading_services.peak_month_unflag(peak=PeakMonth.objects.get(), actor=admin)
    grading_services.scheme_delete_draft(
        scheme=GradingScheme.objects.get(status="draft"), actor=admin
    )
    proposed = GradeOverride.objects.get(status=OverrideStatus.PROPOSED)
    grading_services.override_reject(override=proposed, note="证据不足", actor=by("sup_city"))
    valuation_services.scheme_activate(
        scheme=ValuationScheme.objects.get(status="draft"), actor=admin
    )
    acknowledged = EarlyWarning.objects.get(status=WarningStatus.ACKNOWLEDGED)
    valuation_services.warning_resolve(warning=acknowledged, note="已恢复订货", actor=by("admin"))
    opened = EarlyWarning.objects.filter(status=WarningStatus.OPEN).order_by("id")
    for warning in opened:
        valuation_services.warning_acknowledge(warning=warning, note="本周回访", actor=admin)
    # am_zhang moves one of today's visits to a later day; a request is started
    today_plans = PlannedVisit.objects.filter(
        customer__account_manager__username="am_zhang",
        status=PlanStatus.PLANNED,
        planned_for=today,
    ).order_by("id")
    moved = today_plans.first()
    visits_services.planned_visit_reschedule(
        plan=moved,
        new_date=today + dt.timedelta(days=9),
        reason="店主外出",
        actor=by("am_zhang"),
    )
    request = ServiceRequest.objects.filter(status=RequestStatus.OPEN).order_by("id").first()
    services_services.service_request_act(
        request=request, action=RequestAction.START, actor=Actor.of(request.assignee, "page")
    )
    # the ordering system renames a product and cancels an order
    client = Actor(
        user=User.objects.get(username="ordering-system"), source=AuditSource.API, label="os"
    )
    product = Product.objects.order_by("code").first()
    report = product_upsert_many(
        rows=[
            {
                "code": product.code,
                "name": product.name + "（新包装）",
                "brand": product.brand,
                "manufacturer": product.manufacturer,
                "wholesale_price": str(product.wholesale_price + 10),
                "tar_mg": product.tar_mg,
                "is_key_brand": product.is_key_brand,
                "is_new_product": product.is_new_product,
                "active": False,
            }
        ],
        actor=client,
    )
    assert not report.errors
    order = Order.objects.filter(status="delivered").order_by("external_id").first()
    lines = [
        {"product_code": line.product.code, "quantity": line.cartons, "unit_price": "1.00"}
        for line in order.lines.select_related("product")
    ]
    synced = order_sync_many(
        rows=[
            {
                "external_id": order.external_id,
                "customer_code": order.customer.customer_code,
                "order_date": order.order_date.isoformat(),
                "status": "cancelled",
                "payment_method": order.payment_method,
                "paid_on_time": order.paid_on_time,
                "lines": lines,
            }
        ],
        source=order.source,
        actor=client,
    )
    assert not synced.errors and synced.updated == 1
    order.refresh_from_db()

    before = counts()
    value_versions = set(ValueResult.objects.values_list("scheme__version", flat=True))
    plans_today = today_plans.count()

    # when: ./scripts/run again
    second_run = seed(*args)

    # then: nothing anyone did is undone, nothing is played again
    undone = []
    for label, (customer, name, value) in expected.items():
        customer = Customer.objects.select_related("dynamic").get(pk=customer.pk)
        if str(external_value(customer, name)) != value:
            undone.append(label)
    if Area.objects.get(code="GZ-BY").name != "白云":
        undone.append("area name")
    am_liu.refresh_from_db()
    if am_liu.name != "刘洋（调岗）" or am_liu.areas.count() != 2:
        undone.append("person's name and areas")
    if User.objects.get(username="lo_sun").is_active:
        undone.append("deactivated user")
    if User.objects.get(username="sup_city").role != Role.ADMINISTRATOR:
        undone.append("person's role")
    if not User.objects.get(username="am_zhao").check_password("a-new-Secret-42"):
        undone.append("changed password")
    if VisitsConfig.current().horizon_days != 10:
        undone.append("visits settings")
    if ServicesConfig.current().reopen_days != 9:
        undone.append("services settings")
    if OrdersConfig.current().purchase_window_months != 6:
        undone.append("orders settings")
    if PeakMonth.objects.exists():
        undone.append("unflagged peak month")
    if GradingScheme.objects.filter(status="draft").exists():
        undone.append("deleted grading draft")
    if GradeOverride.objects.get(pk=proposed.pk).status != OverrideStatus.REJECTED:
        undone.append("rejected override")
    if set(ValueResult.objects.values_list("scheme__version", flat=True)) != value_versions:
        undone.append("valued months rewritten with the new scheme")
    if EarlyWarning.objects.get(pk=acknowledged.pk).status != WarningStatus.RESOLVED:
        undone.append("resolved warning")
    if EarlyWarning.objects.filter(status=WarningStatus.OPEN, pk__in=opened).exists():
        undone.append("acknowledged warnings")
    moved.refresh_from_db()
    if moved.planned_for != today + dt.timedelta(days=9) or today_plans.count() != plans_today:
        undone.append("moved visit (or another moved to today)")
    if ServiceRequest.objects.get(pk=request.pk).status != RequestStatus.IN_PROGRESS:
        undone.append("started request")
    product.refresh_from_db()
    if product.active or not product.name.endswith("（新包装）"):
        undone.append("product from the ordering system")
    stored = Order.objects.get(pk=order.pk)
    if (stored.status, stored.content_hash) != ("cancelled", order.content_hash):
        undone.append("order from the ordering system")
    changed = {name: (before[name], n) for name, n in counts().items() if n != before[name]}
    assert (undone, changed) == ([], {})
    assert "0 created" in second_run


def test_a_bigger_demo_adds_the_missing_shops_and_keeps_the_others(db, settings):
    settings.DEBUG = True
    seed("--months", "2")
    kept = Customer.objects.order_by("customer_code").first()
    customer_edit(
        customer=kept, user=User.objects.get(username="admin"), data={"phone": "13900002222"}
    )

    # when
    out = seed("--months", "2", "--customers", "60")  # the last --customers counts

    # then: ten shops more, with their orders and a value every month, and a grade every month
    # but the published one (the latest: a published month is not graded again); the others
    # as they were
    kept.refresh_from_db()
    assert external_value(kept, "phone") == "13900002222"
    assert Customer.objects.count() == 60 + 1  # and the demo's shop entered twice
    assert "Customers: 10 created, 50 existing left as they are." in out
    new = Customer.objects.order_by("-pk")[:10]  # created by the second run
    assert Order.objects.filter(customer__in=new).exists()
    open_shops = Customer.objects.exclude(dynamic__status="closed").count()
    per_month = ValueResult.objects.values("month").annotate(n=Count("id"))
    assert len(per_month) == 2 and {row["n"] for row in per_month} == {open_shops}
    this_month = month_start(timezone.localdate())
    graded = dict(GradeResult.objects.values_list("month").annotate(n=Count("id")))
    published_before = GradeResult.objects.filter(month=this_month).exclude(customer__in=new)
    assert graded == {
        add_months(this_month, -1): open_shops,
        this_month: published_before.count(),
    }
    assert f"Grading: {this_month:%Y-%m} is published" in out
    # published once, by the administrator, by the first run
    (publication,) = GradePublication.objects.all()
    assert (publication.month, publication.published_by.username) == (this_month, "admin")
    assert ChangeRequest.objects.count() == 2


def test_a_run_cut_off_half_way_is_finished_by_running_it_again(db, settings, monkeypatch):
    settings.DEBUG = True
    upsert, approve = customer_upsert_many, grading_services.override_approve
    calls = []

    def cut_off_at_the_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("killed")
        return upsert(**kwargs)

    def cut_off(**kwargs):
        raise ConnectionError("killed")

    # given: a run cut off in the customers stage (after a first chunk of shops) ...
    monkeypatch.setattr("customers.demo.CHUNK", 20)
    monkeypatch.setattr("customers.demo.customer_upsert_many", cut_off_at_the_second_chunk)
    with pytest.raises(ConnectionError):
        seed("--months", "2")
    assert User.objects.filter(username="am_zhang").exists()  # the stage before it stands
    assert not Customer.objects.exists()  # the stage cut off left nothing half-made
    monkeypatch.setattr("customers.demo.customer_upsert_many", upsert)
    # ... and a second one cut off in the grading stage, as it approved an override
    monkeypatch.setattr("grading.services.override_approve", cut_off)
    with pytest.raises(ConnectionError):
        seed("--months", "2")
    # the shops and the one entered twice (customers.demo._seed_duplicate)
    assert Customer.objects.count() == CUSTOMERS + 1 and Order.objects.exists()
    assert not GradeResult.objects.exists() and not GradeOverride.objects.exists()
    monkeypatch.setattr("grading.services.override_approve", approve)

    # when
    seed("--months", "2")

    # then: every stage complete, each one-off part made once (the shop entered twice too)
    assert Customer.objects.count() == CUSTOMERS + 1
    assert ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).count() == 2
    assert GradeResult.objects.values("month").distinct().count() == 2
    assert ValueResult.objects.values("month").distinct().count() == 2
    assert sorted(GradeOverride.objects.values_list("status", flat=True)) == [
        OverrideStatus.APPROVED,
        OverrideStatus.PROPOSED,
    ]
    assert GradingScheme.objects.filter(status="draft").count() == 1
    assert Visit.objects.exists() and ServiceRequest.objects.exists()
    assert DemoSeedStep.objects.filter(key="grading.overrides").count() == 1


def test_generated_people_are_made_once_and_keep_what_was_changed(db):
    # given: a demo big enough for generated people (the organisation stage alone)
    actor = Actor.system("seed_demo", AuditSource.COMMAND)
    options = DemoOptions(customers=1000)
    seed_organisation(SeedReport(options=options), actor=actor)
    person = User.objects.get(username="am_0001")
    assert person.check_password("crm-demo")
    admin = by("admin")
    user_update(user=person, name="新名字", area_codes=["GZ-YX"], is_active=False, actor=admin)
    user_set_password(
        user=User.objects.get(username="lo_0001"),
        password="another-Secret-7",  # noqa: S106
        check_password=False,
        actor=admin,
    )
    people = User.objects.count()

    # when
    report = SeedReport(options=options)
    seed_organisation(report, actor=actor)

    # then
    person.refresh_from_db()
    assert (person.name, person.is_active) == ("新名字", False)
    assert list(person.areas.values_list("code", flat=True)) == ["GZ-YX"]
    assert User.objects.get(username="lo_0001").check_password("another-Secret-7")
    assert User.objects.count() == people
    assert any("8 generated (0 new)" in line for line in report.lines)


def test_a_demo_seeded_before_its_parts_were_recorded_is_not_played_again(db, settings):
    # given: a demo seeded by the version that recorded no parts, and decisions made since
    settings.DEBUG = True
    seed("--months", months_with_spring_festival(timezone.localdate()))
    DemoSeedStep.objects.all().delete()
    for change_request in ChangeRequest.objects.all():
        change_request_reject(
            change_request=change_request, user=User.objects.get(username="admin"), comment="不"
        )
    before = counts()

    # when
    seed("--months", months_with_spring_festival(timezone.localdate()))

    # then: no change request, override, record, draft, peak month or history played again
    assert counts() == before
    assert not ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).exists()


def test_a_later_day_adds_its_orders_and_moves_on_only_the_demos_untouched_placed_orders(
    db, settings, monkeypatch
):
    settings.DEBUG = True
    seed("--months", "1")
    placed = list(Order.objects.filter(status="placed").order_by("external_id"))
    assert len(placed) >= 2
    settled = dict(
        Order.objects.exclude(status="placed").values_list("external_id", "content_hash")
    )
    # the ordering system marks one placed order paid late
    changed = placed[0]
    row = {
        "external_id": changed.external_id,
        "customer_code": changed.customer.customer_code,
        "order_date": changed.order_date.isoformat(),
        "status": "placed",
        "payment_method": changed.payment_method,
        "paid_on_time": not changed.paid_on_time,
        "lines": [
            {
                "product_code": line.product.code,
                "quantity": line.cartons,
                "unit_price": str(line.unit_price),
            }
            for line in changed.lines.select_related("product")
        ],
    }
    client = Actor(
        user=User.objects.get(username="ordering-system"), source=AuditSource.API, label="os"
    )
    assert order_sync_many(rows=[row], source=changed.source, actor=client).updated == 1
    changed.refresh_from_db()

    # when: ./scripts/run a week later
    later = timezone.now() + dt.timedelta(days=7)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    seed("--months", "1")

    # then: the week's orders added; the demo's own placed orders delivered (or cancelled,
    # returned); the one the ordering system changed and every settled one as they were
    assert Order.objects.count() > len(placed) + len(settled)
    # (a new shop's first orders may no longer be generated a week later: those stay placed)
    moved_on = Order.objects.filter(pk__in=[o.pk for o in placed[1:]]).exclude(status="placed")
    assert moved_on.count() >= len(placed[1:]) / 2
    stored = Order.objects.get(pk=changed.pk)
    assert (stored.status, stored.content_hash) == ("placed", changed.content_hash)
    assert (
        dict(
            Order.objects.filter(external_id__in=settled).values_list("external_id", "content_hash")
        )
        == settled
    )
