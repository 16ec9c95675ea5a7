"""The valuation services other than the monthly run: schemes, compliance records and early
warnings — who may do what, what each step refuses, what it changes and that it is audited.

The warnings are refreshed "as of" 2026-11-20 on hand-made data (customer_world):
- c_th ordered last on 2026-11-01, 19 days ago, weekly cycle → no order in two cycles;
- c_th2 bought 100 cartons a month in May-July and 50 in August-October → amount down 50%;
- c_yx was graded 3 in October and 6 in November → down three grades.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.choices import AuditAction, AuditSource, SchemeStatus
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.models import AuditEntry, Notification
from crm.services import Actor
from customers.models import CustomerDynamic, CustomerSystem
from grading import computations as grading_computations
from grading import services as grading_services
from grading.models import GradeResult
from grading.selectors import grade_pairs_frame
from tests.customers.factories import make_customer
from tests.grading.factories import make_fact, make_grade
from valuation import computations, services
from valuation.choices import RecordType, WarningKind, WarningStatus
from valuation.models import ComplianceRecord, EarlyWarning, ValuationScheme, WarningRefresh

TODAY = dt.date(2026, 11, 20)


def actor(user) -> Actor:
    return Actor.of(user, AuditSource.PAGE)


def audit_rows(obj, pk=None) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(pk if pk is not None else obj.pk),
        ).order_by("id")
    )


# --- schemes ------------------------------------------------------------------------------


def test_the_default_scheme_is_created_on_first_use(db):
    assert not ValuationScheme.objects.exists()
    scheme = services.scheme_active()
    assert (scheme.version, scheme.status) == (1, SchemeStatus.ACTIVE)
    assert scheme.parameters == computations.validate_parameters(computations.default_parameters())
    assert scheme.activated_at is not None
    # the second call finds it
    assert services.scheme_active() == scheme
    assert ValuationScheme.objects.count() == 1


def test_without_an_active_scheme_but_with_a_retired_one_nothing_is_invented(db):
    scheme = services.scheme_active()
    ValuationScheme.objects.filter(pk=scheme.pk).update(status=SchemeStatus.RETIRED)
    with pytest.raises(DomainError, match="No valuation scheme is active"):
        services.scheme_active()
    assert ValuationScheme.objects.count() == 1


def test_a_draft_starts_from_the_defaults_and_is_audited(customer_world):
    admin = customer_world["admin"]
    draft = services.scheme_create_draft(name="  Trial  ", actor=actor(admin), note="n")
    assert (draft.status, draft.name, draft.note) == (SchemeStatus.DRAFT, "Trial", "n")
    assert draft.parameters == computations.validate_parameters(computations.default_parameters())
    assert draft.created_by == admin
    [row] = audit_rows(draft)
    assert (row.action, row.actor, row.source) == (AuditAction.CREATE, admin, AuditSource.PAGE)
    assert row.new_value["name"] == "Trial"


def test_a_draft_needs_a_name(customer_world):
    with pytest.raises(DomainError) as exc:
        services.scheme_create_draft(name=" ", actor=actor(customer_world["admin"]))
    assert exc.value.field == "name"
    assert not ValuationScheme.objects.filter(status=SchemeStatus.DRAFT).exists()


def test_copying_the_active_scheme_makes_a_draft_with_its_rules(customer_world):
    active = services.scheme_active()
    copy = services.scheme_copy(scheme=active, actor=actor(customer_world["admin"]))
    assert (copy.status, copy.version, copy.name) == (SchemeStatus.DRAFT, 2, active.name)
    assert copy.parameters == active.parameters
    assert "1" in copy.note
    assert services.scheme_active() == active


def test_updating_a_draft_saves_the_valid_parameters_and_audits_each_field(customer_world):
    admin = customer_world["admin"]
    draft = services.scheme_create_draft(name="Trial", actor=actor(admin))
    parameters = computations.default_parameters()
    parameters["tiers"]["current_from"] = 60
    services.scheme_update_draft(
        scheme=draft, name="Stricter", parameters=parameters, note="", actor=actor(admin)
    )
    draft.refresh_from_db()
    assert draft.name == "Stricter"
    assert draft.parameters["tiers"]["current_from"] == 60
    updates = [r for r in audit_rows(draft) if r.action == AuditAction.UPDATE]
    assert {r.field for r in updates} == {"name", "parameters"}


def test_invalid_parameters_are_refused_keyed_by_their_path(customer_world):
    admin = customer_world["admin"]
    draft = services.scheme_create_draft(name="Trial", actor=actor(admin))
    parameters = computations.default_parameters()
    parameters["inputs"]["on_time_rate"]["full"] = 0
    parameters["values"]["current"]["credit"] = 0.9  # 0.5 + 0.2 + 0.9 = 1.6
    parameters["tiers"]["potential_from"] = 120
    with pytest.raises(DomainError) as exc:
        services.scheme_update_draft(
            scheme=draft, name="Bad", parameters=parameters, note="", actor=actor(admin)
        )
    assert {"inputs.on_time_rate.full", "values.current", "tiers.potential_from"} <= set(
        exc.value.errors
    )
    draft.refresh_from_db()
    assert draft.name == "Trial"
    assert draft.parameters == computations.validate_parameters(computations.default_parameters())
    assert [r.action for r in audit_rows(draft)] == [AuditAction.CREATE]


def test_weights_of_an_indicator_must_add_up_to_one(customer_world):
    parameters = computations.default_parameters()
    parameters["inputs"]["key_brand_share"]["weight"] = 0.9
    with pytest.raises(DomainError) as exc:
        services.scheme_create_draft(
            name="Bad", parameters=parameters, actor=actor(customer_world["admin"])
        )
    assert "indicators.support" in exc.value.errors


def test_activating_a_draft_retires_the_active_scheme(customer_world):
    admin = customer_world["admin"]
    old = services.scheme_active()
    draft = services.scheme_copy(scheme=old, actor=actor(admin))
    services.scheme_activate(scheme=draft, actor=actor(admin))
    old.refresh_from_db()
    draft.refresh_from_db()
    assert (old.status, draft.status) == (SchemeStatus.RETIRED, SchemeStatus.ACTIVE)
    assert draft.activated_by == admin
    assert services.scheme_active() == draft
    [retired] = audit_rows(old)
    assert (retired.field, retired.old_value, retired.new_value) == (
        "status",
        "active",
        "retired",
    )
    activated = audit_rows(draft)[-1]
    assert (activated.field, activated.old_value, activated.new_value) == (
        "status",
        "draft",
        "active",
    )


@pytest.mark.parametrize("status", [SchemeStatus.ACTIVE, SchemeStatus.RETIRED])
def test_a_scheme_that_is_no_longer_a_draft_cannot_be_changed(customer_world, status):
    admin = customer_world["admin"]
    first = services.scheme_active()
    name = first.name
    if status == SchemeStatus.RETIRED:
        services.scheme_activate(
            scheme=services.scheme_copy(scheme=first, actor=actor(admin)), actor=actor(admin)
        )
    first.refresh_from_db()
    assert first.status == status
    with pytest.raises(DomainError, match="no longer a draft"):
        services.scheme_update_draft(
            scheme=first,
            name="Changed",
            parameters=computations.default_parameters(),
            note="",
            actor=actor(admin),
        )
    with pytest.raises(DomainError, match="no longer a draft"):
        services.scheme_activate(scheme=first, actor=actor(admin))
    with pytest.raises(DomainError, match="no longer a draft"):
        services.scheme_delete_draft(scheme=first, actor=actor(admin))
    first.refresh_from_db()
    assert (first.name, first.status) == (name, status)


def test_a_draft_can_be_deleted_and_the_deletion_is_audited(customer_world):
    admin = customer_world["admin"]
    draft = services.scheme_create_draft(name="Trial", actor=actor(admin))
    pk = draft.pk
    services.scheme_delete_draft(scheme=draft, actor=actor(admin))
    assert not ValuationScheme.objects.filter(pk=pk).exists()
    rows = audit_rows(ValuationScheme(), pk=pk)
    assert [r.action for r in rows] == [AuditAction.CREATE, AuditAction.DELETE]
    assert rows[-1].new_value == {"version": draft.version, "name": "Trial"}


# --- compliance records -------------------------------------------------------------------


def flag(customer) -> bool | None:
    return CustomerSystem.objects.get(customer=customer).compliance_flag


def record(world, *, by="lo_th", customer="c_th", record_type=RecordType.COUNTERFEIT, **kw):
    values = {"date": timezone.localdate() - dt.timedelta(days=3), "note": "Fake packs"}
    values.update(kw)
    return services.compliance_record_add(
        customer=world[customer], record_type=record_type, actor=actor(world[by]), **values
    )


def test_the_licence_officer_records_a_violation(customer_world):
    # when
    rec = record(customer_world)
    # then
    assert rec.recorded_by == customer_world["lo_th"]
    assert (rec.record_type, rec.note, rec.is_violation) == ("counterfeit", "Fake packs", True)
    assert flag(customer_world["c_th"]) is False
    [row] = audit_rows(rec)
    assert (row.action, row.actor) == (AuditAction.CREATE, customer_world["lo_th"])
    assert row.new_value["type"] == "counterfeit"


def test_an_administrator_may_record_compliance(customer_world):
    record(customer_world, by="admin", customer="c_yx")
    assert flag(customer_world["c_yx"]) is False


@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz"])
def test_account_managers_and_supervisors_may_not_record_compliance(customer_world, who):
    with pytest.raises(DomainError, match="licence officer"):
        record(customer_world, by=who)
    assert not ComplianceRecord.objects.exists()


def test_a_licence_officer_may_not_record_a_customer_outside_their_areas(customer_world):
    with pytest.raises(DomainError):
        record(customer_world, customer="c_yx")
    assert not ComplianceRecord.objects.exists()


def test_a_date_in_the_future_is_refused(customer_world):
    with pytest.raises(DomainError) as exc:
        record(customer_world, date=timezone.localdate() + dt.timedelta(days=1))
    assert exc.value.field == "date"
    # today is fine
    record(customer_world, date=timezone.localdate())


def test_an_unknown_type_is_refused(customer_world):
    with pytest.raises(DomainError) as exc:
        record(customer_world, record_type="rude")
    assert exc.value.field == "record_type"


def test_a_violation_needs_a_note_an_inspection_passed_does_not(customer_world):
    with pytest.raises(DomainError) as exc:
        record(customer_world, note="  ")
    assert exc.value.field == "note"
    assert not ComplianceRecord.objects.exists()
    passed = record(customer_world, record_type=RecordType.INSPECTION_PASSED, note="")
    assert (passed.is_violation, passed.note) == (False, "")
    assert flag(customer_world["c_th"]) is True


def test_a_violation_older_than_the_problem_window_leaves_the_customer_compliant(customer_world):
    # The default problem window is the 6 months before this month.
    old = add_months(month_start(timezone.localdate()), -7)
    record(customer_world, date=old)
    assert flag(customer_world["c_th"]) is True


def test_voiding_a_violation_makes_the_customer_compliant_again(customer_world):
    # given
    rec = record(customer_world)
    assert flag(customer_world["c_th"]) is False
    # when
    services.compliance_record_void(
        record=rec, reason="Wrong shop", actor=actor(customer_world["lo_th"])
    )
    # then
    rec.refresh_from_db()
    assert rec.is_void
    assert (rec.voided_by, rec.void_reason) == (customer_world["lo_th"], "Wrong shop")
    assert flag(customer_world["c_th"]) is True
    row = audit_rows(rec)[-1]
    assert (row.action, row.field, row.reason) == (AuditAction.UPDATE, "voided", "Wrong shop")
    assert (row.old_value, row.new_value) == (False, True)


def test_voiding_one_of_two_violations_leaves_the_customer_non_compliant(customer_world):
    first = record(customer_world)
    record(customer_world, record_type=RecordType.PRICE, note="Above the retail price")
    services.compliance_record_void(record=first, reason="x", actor=actor(customer_world["lo_th"]))
    assert flag(customer_world["c_th"]) is False


def test_voiding_needs_a_reason_and_happens_once(customer_world):
    rec = record(customer_world)
    lo = actor(customer_world["lo_th"])
    with pytest.raises(DomainError) as exc:
        services.compliance_record_void(record=rec, reason=" ", actor=lo)
    assert exc.value.field == "reason"
    rec.refresh_from_db()
    assert not rec.is_void
    services.compliance_record_void(record=rec, reason="Mistake", actor=lo)
    with pytest.raises(DomainError, match="already void"):
        services.compliance_record_void(record=rec, reason="Again", actor=lo)
    rec.refresh_from_db()
    assert rec.void_reason == "Mistake"


@pytest.mark.parametrize("who", ["am_th", "sup_th"])
def test_only_a_licence_officer_may_void(customer_world, who):
    rec = record(customer_world)
    with pytest.raises(DomainError):
        services.compliance_record_void(record=rec, reason="x", actor=actor(customer_world[who]))
    rec.refresh_from_db()
    assert not rec.is_void


# --- early warnings -----------------------------------------------------------------------


@pytest.fixture
def signs(customer_world):
    """The three signs of the module docstring, one per customer."""
    w = customer_world
    CustomerSystem.objects.filter(customer=w["c_th"]).update(last_order_date=dt.date(2026, 11, 1))
    CustomerDynamic.objects.filter(customer=w["c_th"]).update(order_cycle="weekly")
    # c_th2 and c_yx ordered recently (their facts would say so)
    CustomerSystem.objects.filter(customer__in=[w["c_th2"], w["c_yx"]]).update(
        last_order_date=dt.date(2026, 11, 18)
    )
    for month in ("2026-05", "2026-06", "2026-07"):
        make_fact(w["c_th2"], month, 100)
    for month in ("2026-08", "2026-09", "2026-10"):
        make_fact(w["c_th2"], month, 50)
    make_grade(w["c_yx"], dt.date(2026, 10, 1), 3)
    make_grade(w["c_yx"], dt.date(2026, 11, 1), 6)
    return w


def warnings_of(customer) -> list[tuple[str, str, str]]:
    return sorted(
        EarlyWarning.objects.filter(customer=customer).values_list("kind", "key", "status")
    )


def test_the_refresh_opens_one_warning_per_sign(signs):
    # when
    refresh = services.warnings_refresh(today=TODAY)
    # then
    assert warnings_of(signs["c_th"]) == [("no_orders", "2026-11-01", "open")]
    assert warnings_of(signs["c_th2"]) == [("amount_drop", "2026-10", "open")]
    assert warnings_of(signs["c_yx"]) == [("downgrade", "2026-11", "open")]
    no_orders = EarlyWarning.objects.get(customer=signs["c_th"])
    assert no_orders.details == {
        "last_order_date": "2026-11-01",
        "days_since": 19,
        "order_cycle": "weekly",
        "cycles": 2,
    }
    drop = EarlyWarning.objects.get(customer=signs["c_th2"])
    assert drop.details["recent_amount"] == 30000  # 3 × 50 cartons × 200 CNY
    assert drop.details["earlier_amount"] == 60000
    assert drop.details["drop_percent"] == 50
    downgrade = EarlyWarning.objects.get(customer=signs["c_yx"])
    assert downgrade.details == {"month": "2026-11", "previous_grade": 3, "grade": 6}
    refresh.refresh_from_db()
    assert (refresh.as_of, refresh.opened, refresh.updated, refresh.resolved) == (TODAY, 3, 0, 0)
    assert refresh.finished_at is not None
    assert refresh.error == ""


def test_without_signs_nothing_is_opened(customer_world):
    refresh = services.warnings_refresh(today=TODAY)
    assert not EarlyWarning.objects.exists()
    assert (refresh.opened, refresh.updated, refresh.resolved) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_a_longer_order_cycle_is_not_a_sign_yet(signs):
    CustomerDynamic.objects.filter(customer=signs["c_th"]).update(order_cycle="fortnightly")
    services.warnings_refresh(today=TODAY)  # 19 days < 2 × 14
    assert warnings_of(signs["c_th"]) == []


def test_refreshing_twice_opens_nothing_new(signs):
    services.warnings_refresh(today=TODAY)
    before = list(EarlyWarning.objects.values_list("pk", "kind", "key", "status", "details"))
    second = services.warnings_refresh(today=TODAY)
    assert list(EarlyWarning.objects.values_list("pk", "kind", "key", "status", "details")) == (
        before
    )
    assert (second.opened, second.updated, second.resolved) == (0, 0, 0)
    assert WarningRefresh.objects.count() == 2


def test_each_account_manager_gets_one_notification_per_refresh(signs):
    # given c_th shows two signs (its amount fell too)
    for month in ("2026-05", "2026-06", "2026-07"):
        make_fact(signs["c_th"], month, 100)
    # when
    services.warnings_refresh(today=TODAY)
    # then
    assert len(warnings_of(signs["c_th"])) == 2
    [note] = Notification.objects.filter(user=signs["am_th"])
    assert "2 new early warnings" in note.message
    assert note.link
    for am in ("am_th2", "am_yx"):
        assert Notification.objects.filter(user=signs[am]).count() == 1
    assert not Notification.objects.filter(user=signs["sup_th"]).exists()
    # and a refresh without new warnings tells nobody
    services.warnings_refresh(today=TODAY)
    assert Notification.objects.count() == 3


def test_a_customer_without_an_account_manager_gets_a_warning_nobody_is_told_of(signs, areas):
    orphan = make_customer(areas["TH"])
    CustomerSystem.objects.filter(customer=orphan).update(last_order_date=dt.date(2026, 10, 1))
    refresh = services.warnings_refresh(today=TODAY)
    assert warnings_of(orphan) == [("no_orders", "2026-10-01", "open")]
    assert refresh.opened == 4
    assert Notification.objects.count() == 3


def test_a_warning_resolved_by_hand_is_not_reopened_for_the_same_episode(signs):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    services.warning_resolve(warning=warning, note="Shop on holiday", actor=actor(signs["am_th"]))
    refresh = services.warnings_refresh(today=TODAY + dt.timedelta(days=1))
    assert warnings_of(signs["c_th"]) == [("no_orders", "2026-11-01", "resolved")]
    assert refresh.opened == 0
    warning.refresh_from_db()
    # a resolved warning keeps the figures it was resolved with
    assert warning.details["days_since"] == 19
    assert warning.resolution == "Shop on holiday"


def test_a_new_episode_after_a_resolved_one_opens_a_new_warning(signs):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    services.warning_resolve(warning=warning, note="ok", actor=actor(signs["am_th"]))
    # the shop ordered once more on 11-02 and then stopped again
    CustomerSystem.objects.filter(customer=signs["c_th"]).update(
        last_order_date=dt.date(2026, 11, 2)
    )
    refresh = services.warnings_refresh(today=TODAY)
    assert warnings_of(signs["c_th"]) == [
        ("no_orders", "2026-11-01", "resolved"),
        ("no_orders", "2026-11-02", "open"),
    ]
    assert refresh.opened == 1


def test_a_new_episode_of_the_same_sign_opens_a_warning_and_resolves_the_old_one(signs):
    # given c_th's open warning for its order of 1 November
    services.warnings_refresh(today=TODAY)
    # when it orders once on the 2nd and then nothing for two more cycles (a new episode,
    # while the old warning is still open)
    CustomerSystem.objects.filter(customer=signs["c_th"]).update(
        last_order_date=dt.date(2026, 11, 2)
    )
    refresh = services.warnings_refresh(today=TODAY)
    # then
    assert refresh.error == ""
    assert warnings_of(signs["c_th"]) == [
        ("no_orders", "2026-11-01", "resolved"),
        ("no_orders", "2026-11-02", "open"),
    ]
    assert (refresh.opened, refresh.resolved) == (1, 1)


def test_an_open_warning_whose_customer_now_shows_another_sign_is_resolved(signs):
    # given c_th's open no-orders warning, and the next day (a database kept across days) c_th
    # has ordered again, but its purchases of the last three months fell by half
    services.warnings_refresh(today=TODAY)
    CustomerSystem.objects.filter(customer=signs["c_th"]).update(
        last_order_date=dt.date(2026, 11, 20)
    )
    for month, cartons in (("2026-05", 100), ("2026-06", 100), ("2026-07", 100)):
        make_fact(signs["c_th"], month, cartons)
    for month in ("2026-08", "2026-09", "2026-10"):
        make_fact(signs["c_th"], month, 50)
    # when
    refresh = services.warnings_refresh(today=TODAY + dt.timedelta(days=1))
    # then the old sign's warning is resolved, not looked up among the current signs
    assert refresh.error == ""
    assert warnings_of(signs["c_th"]) == [
        ("amount_drop", "2026-10", "open"),
        ("no_orders", "2026-11-01", "resolved"),
    ]
    assert (refresh.opened, refresh.updated, refresh.resolved) == (1, 0, 1)


def test_a_sign_the_refresh_resolved_that_comes_back_stays_resolved(signs):
    # given c_yx's downgrade, resolved by the refresh when its November grade was corrected
    services.warnings_refresh(today=TODAY)
    november = GradeResult.objects.filter(customer=signs["c_yx"], month=dt.date(2026, 11, 1))
    november.update(grade=4)
    services.warnings_refresh(today=TODAY)
    assert warnings_of(signs["c_yx"]) == [("downgrade", "2026-11", "resolved")]
    # when the grade is corrected back: the same episode (the November grade) again
    november.update(grade=6)
    refresh = services.warnings_refresh(today=TODAY)
    # then one warning per episode: its account manager was told once, the warning stays as
    # it was resolved (a sign that flickers does not notify twice); the next grade month
    # opens a new one
    assert warnings_of(signs["c_yx"]) == [("downgrade", "2026-11", "resolved")]
    assert (refresh.opened, refresh.updated, refresh.resolved) == (0, 0, 0)
    assert Notification.objects.filter(user=signs["am_yx"]).count() == 1


def test_the_refresh_takes_as_many_queries_for_many_warnings_as_for_one(signs, areas):
    def cohort(n: int) -> list:
        """n more customers of am_th that last ordered on 1 October (a no-orders sign)."""
        made = [make_customer(areas["TH"], account_manager=signs["am_th"]) for _ in range(n)]
        CustomerSystem.objects.filter(customer__in=made).update(
            last_order_date=dt.date(2026, 10, 1)
        )
        return made

    def statements(today: dt.date) -> tuple[int, tuple[int, int, int]]:
        with CaptureQueriesContext(connection) as captured:
            refresh = services.warnings_refresh(today=today)
        return len(captured), (refresh.opened, refresh.updated, refresh.resolved)

    services.warnings_refresh(today=TODAY)
    # given a day that opens one warning, updates one (c_th's days since its last order) and
    # resolves one (c_yx's grade corrected)
    [first] = cohort(1)
    GradeResult.objects.filter(customer=signs["c_yx"], month=dt.date(2026, 11, 1)).update(grade=4)
    few, few_counts = statements(TODAY + dt.timedelta(days=1))
    # when the next day opens 30, updates two and resolves one (`first` ordered again)
    cohort(30)
    CustomerSystem.objects.filter(customer=first).update(last_order_date=TODAY)
    many, many_counts = statements(TODAY + dt.timedelta(days=2))
    # then
    assert (few_counts, many_counts) == ((1, 1, 1), (30, 1, 1))
    assert many == few


def test_a_sign_that_has_gone_is_resolved_by_the_refresh(signs):
    services.warnings_refresh(today=TODAY)
    acknowledged = EarlyWarning.objects.get(customer=signs["c_th"])
    services.warning_acknowledge(
        warning=acknowledged, note="Will call", actor=actor(signs["am_th"])
    )
    # when c_th orders again and c_yx's November grade is corrected to 4 (one step down)
    CustomerSystem.objects.filter(customer=signs["c_th"]).update(
        last_order_date=dt.date(2026, 11, 19)
    )
    GradeResult.objects.filter(customer=signs["c_yx"], month=dt.date(2026, 11, 1)).update(grade=4)
    refresh = services.warnings_refresh(today=TODAY)
    # then
    assert warnings_of(signs["c_th"]) == [("no_orders", "2026-11-01", "resolved")]
    assert warnings_of(signs["c_yx"]) == [("downgrade", "2026-11", "resolved")]
    assert warnings_of(signs["c_th2"]) == [("amount_drop", "2026-10", "open")]
    assert (refresh.opened, refresh.resolved) == (0, 2)
    gone = EarlyWarning.objects.get(customer=signs["c_th"])
    assert gone.resolved_at is not None
    assert gone.resolved_by is None
    assert "sign has gone" in gone.resolution


def test_a_closed_customer_has_no_warnings(signs):
    services.warnings_refresh(today=TODAY)
    CustomerDynamic.objects.filter(customer__in=[signs["c_th2"], signs["c_yx"]]).update(
        status="closed"
    )
    refresh = services.warnings_refresh(today=TODAY)
    assert warnings_of(signs["c_th2"]) == [("amount_drop", "2026-10", "resolved")]
    assert warnings_of(signs["c_yx"]) == [("downgrade", "2026-11", "resolved")]
    assert refresh.resolved == 2


def test_the_details_of_an_unresolved_warning_follow_the_data(signs):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    services.warning_acknowledge(warning=warning, note="Will call", actor=actor(signs["am_th"]))
    opened_at = warning.opened_at
    refresh = services.warnings_refresh(today=TODAY + dt.timedelta(days=3))
    warning.refresh_from_db()
    assert warning.details["days_since"] == 22
    assert warning.status == WarningStatus.ACKNOWLEDGED
    assert warning.opened_at == opened_at
    assert warning.updated_at > opened_at
    assert (refresh.opened, refresh.updated, refresh.resolved) == (0, 1, 0)


def test_acknowledging_needs_a_note_and_an_open_warning(signs):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    am = actor(signs["am_th"])
    with pytest.raises(DomainError) as exc:
        services.warning_acknowledge(warning=warning, note=" ", actor=am)
    assert exc.value.field == "note"
    services.warning_acknowledge(warning=warning, note="Visit on Monday", actor=am)
    warning.refresh_from_db()
    assert (warning.status, warning.note, warning.acknowledged_by) == (
        WarningStatus.ACKNOWLEDGED,
        "Visit on Monday",
        signs["am_th"],
    )
    assert warning.acknowledged_at is not None
    [row] = audit_rows(warning)
    assert (row.field, row.old_value, row.new_value, row.reason) == (
        "status",
        "open",
        "acknowledged",
        "Visit on Monday",
    )
    with pytest.raises(DomainError, match="open warning"):
        services.warning_acknowledge(warning=warning, note="again", actor=am)


def test_a_resolved_warning_cannot_be_acknowledged_or_resolved_again(signs):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    am = actor(signs["am_th"])
    services.warning_resolve(warning=warning, note="Back to normal", actor=am)
    with pytest.raises(DomainError):
        services.warning_acknowledge(warning=warning, note="x", actor=am)
    with pytest.raises(DomainError, match="resolved already"):
        services.warning_resolve(warning=warning, note="x", actor=am)


@pytest.mark.parametrize("acknowledge_first", [False, True])
def test_a_warning_is_resolved_from_open_or_acknowledged(signs, acknowledge_first):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    am = actor(signs["am_th"])
    if acknowledge_first:
        services.warning_acknowledge(warning=warning, note="Will call", actor=am)
    before = "acknowledged" if acknowledge_first else "open"
    services.warning_resolve(warning=warning, note="Ordered by phone", actor=am)
    warning.refresh_from_db()
    assert (warning.status, warning.resolution, warning.resolved_by) == (
        WarningStatus.RESOLVED,
        "Ordered by phone",
        signs["am_th"],
    )
    row = audit_rows(warning)[-1]
    assert (row.field, row.old_value, row.new_value) == ("status", before, "resolved")


@pytest.mark.parametrize("who", ["sup_th", "sup_gz", "admin"])
def test_supervisors_above_and_administrators_may_handle_a_warning(signs, who):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"])
    services.warning_acknowledge(warning=warning, note="Seen", actor=actor(signs[who]))
    services.warning_resolve(warning=warning, note="Done", actor=actor(signs[who]))
    warning.refresh_from_db()
    assert warning.status == WarningStatus.RESOLVED


@pytest.mark.parametrize("who", ["lo_th", "am_th2", "sup_yx"])
def test_others_may_not_handle_a_warning(signs, who):
    services.warnings_refresh(today=TODAY)
    warning = EarlyWarning.objects.get(customer=signs["c_th"], kind=WarningKind.NO_ORDERS)
    with pytest.raises(DomainError):
        services.warning_acknowledge(warning=warning, note="x", actor=actor(signs[who]))
    with pytest.raises(DomainError):
        services.warning_resolve(warning=warning, note="x", actor=actor(signs[who]))
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
    assert audit_rows(warning) == []


def test_a_failed_refresh_is_recorded_and_changes_nothing(signs, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "warning_signs", broken)
    with pytest.raises(RuntimeError):
        services.warnings_refresh(today=TODAY)
    refresh = WarningRefresh.objects.get()
    assert "database gone" in refresh.error
    assert refresh.finished_at is not None
    assert not EarlyWarning.objects.exists()


# --- early warnings across a change of grading scheme (issue 19) --------------------------
# c_yx buys 400 cartons a month at 200 CNY from June 2026: its October and November grades
# (windows July…September and August…October) both read an average of 400 cartons. c_th and
# c_th2 never order: they get the scheme's initial grade each month.

OCTOBER, NOVEMBER = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
# A 30-grade matrix whose top segment starts at 100 cartons: 400 cartons at 200 CNY → grade 1.
LOW_MATRIX = {"volume": [100, 90, 80, 70, 60, 50, 40, 30, 20, 0], "price": [180, 100, 0]}


def scheme_switch_to(kind: str, admin, grades: dict | None = None) -> None:
    """Activates a new scheme of `kind` (its defaults, or these `grades`) through the services."""
    parameters = grading_computations.default_parameters(kind)
    if grades is not None:
        parameters["grades"] = grades
    draft = grading_services.scheme_create_draft(
        kind=kind, name=f"{kind} scheme", parameters=parameters, actor=actor(admin)
    )
    grading_services.scheme_activate(scheme=draft, actor=actor(admin))


@pytest.fixture
def steady_buyer(customer_world):
    w = customer_world
    for month in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        make_fact(w["c_yx"], month, 400)
    CustomerSystem.objects.update(last_order_date=dt.date(2026, 11, 18))
    return w


def downgrades() -> list[tuple[int, str]]:
    return list(
        EarlyWarning.objects.filter(kind=WarningKind.DOWNGRADE).values_list("customer", "key")
    )


def test_a_switch_from_8_to_30_grades_is_no_downgrade(steady_buyer, system_actor):
    w = steady_buyer
    # given: October graded by the 8 grades (400 cartons → grade 4), November by the default
    #        30-grade matrix (400 cartons ≥ 300, 200 CNY ≥ 180 → segment 5, interval 1 → 13)
    grading_services.grading_recompute(month=OCTOBER, actor=system_actor)
    scheme_switch_to("matrix", w["admin"])
    grading_services.grading_recompute(month=NOVEMBER, actor=system_actor)
    assert GradeResult.objects.get(customer=w["c_yx"], month=OCTOBER).grade == 4
    assert GradeResult.objects.get(customer=w["c_yx"], month=NOVEMBER).grade == 13
    # when
    refresh = services.warnings_refresh(today=TODAY)
    # then: 13 − 4 is no fall (nor 24 − 6 of the new shops' initial grades): another scale
    assert downgrades() == []
    assert refresh.opened == 0
    assert not Notification.objects.exists()


def test_a_switch_from_30_to_8_grades_is_no_downgrade(steady_buyer, system_actor):
    w = steady_buyer
    # given: October graded by a 30-grade matrix (400 cartons → grade 1), November by the
    #        8 grades (400 cartons → grade 4)
    scheme_switch_to("matrix", w["admin"], grades=LOW_MATRIX)
    grading_services.grading_recompute(month=OCTOBER, actor=system_actor)
    scheme_switch_to("thresholds", w["admin"])
    grading_services.grading_recompute(month=NOVEMBER, actor=system_actor)
    assert GradeResult.objects.get(customer=w["c_yx"], month=OCTOBER).grade == 1
    assert GradeResult.objects.get(customer=w["c_yx"], month=NOVEMBER).grade == 4
    # when
    services.warnings_refresh(today=TODAY)
    # then: 4 − 1 is no fall of three grades
    assert downgrades() == []
    assert not Notification.objects.exists()


def test_a_fall_of_two_grades_within_one_scheme_still_warns(customer_world, system_actor):
    w = customer_world
    # given: 3,000 cartons on 5 July 2026 and nothing since. October (July…September):
    #        3000 / (27/31 + 2) = 1044.9 → grade 2; November (August…October): 0 → grade 8
    make_fact(w["c_yx"], "2026-07", 3000)
    CustomerSystem.objects.update(last_order_date=dt.date(2026, 11, 18))
    grading_services.grading_recompute(month=OCTOBER, actor=system_actor)
    grading_services.grading_recompute(month=NOVEMBER, actor=system_actor)
    # when
    services.warnings_refresh(today=TODAY)
    # then
    assert downgrades() == [(w["c_yx"].pk, "2026-11")]
    warning = EarlyWarning.objects.get(kind=WarningKind.DOWNGRADE)
    assert warning.details == {"month": "2026-11", "previous_grade": 2, "grade": 8}
    assert Notification.objects.filter(user=w["am_yx"]).count() == 1


def test_the_warnings_read_only_the_grades_that_fell_far_enough(customer_world, areas):
    w = customer_world
    # given c_th fell two grades (3 → 5), c_th2 one (3 → 4), c_yx rose (5 → 3), and a new
    # shop graded in November only
    for customer, october, november in ((w["c_th"], 3, 5), (w["c_th2"], 3, 4), (w["c_yx"], 5, 3)):
        make_grade(customer, OCTOBER, october)
        make_grade(customer, NOVEMBER, november)
    make_grade(make_customer(areas["TH"]), NOVEMBER, 8)
    # when
    everyone = grade_pairs_frame(up_to=NOVEMBER)
    fallen = grade_pairs_frame(up_to=NOVEMBER, fallen_by=2)
    # then
    assert len(everyone) == 4
    assert fallen[["customer_id", "grade", "previous_grade"]].values.tolist() == [
        [w["c_th"].pk, 5, 3]
    ]
    assert fallen["month"].tolist() == [pd.Timestamp(NOVEMBER)]
