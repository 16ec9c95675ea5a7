"""Care due this week (selectors.care_due) on hand-made weeks, the daily notice to account
managers (care_due_notify), logging care and value-added services (service_activity_log) and
training sessions (training_session_log).

customer_world: am_th owns c_th (天河一号店) in TH, am_th2 owns c_th2 (TH), am_yx owns c_yx (YX).
The seeded holiday calendar is emptied for every test here; each test adds its own holidays.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry, Notification
from customers.models import Customer, CustomerDynamic, CustomerSystem
from services import selectors, services
from services.models import Holiday, ServiceActivity, TrainingSession
from tests.services.factories import activities_of, actor, holiday, log_activity, mark_care
from tests.visits.factories import log_visit

# A Wednesday; its ISO week runs from Monday 8 to Sunday 14 June 2026.
WED = dt.date(2026, 6, 10)
MON, SUN = dt.date(2026, 6, 8), dt.date(2026, 6, 14)


@pytest.fixture(autouse=True)
def no_holidays(db):
    Holiday.objects.all().delete()


@pytest.fixture
def w(customer_world):
    return customer_world


def configure(w, **data):
    return services.services_config_update(data=data, actor=actor(w["admin"]))


def due(user, today=WED, **kw) -> list[tuple[str, str, dt.date]]:
    """(store name, kind, due date) of what `user` sees due in the week of `today`."""
    return [
        (item.customer.store_name, item.kind, item.due_on)
        for item in selectors.care_due(user=user, today=today, **kw)
    ]


def make_core(customer) -> None:
    CustomerSystem.objects.filter(customer=customer).update(is_core=True)


def created_row(obj) -> AuditEntry:
    return AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        action=AuditAction.CREATE,
    )


def set_status(customer, status: str) -> None:
    CustomerDynamic.objects.filter(pk=customer.pk).update(status=status)


# --- family service ------------------------------------------------------------------------


def test_a_marked_customer_never_served_is_due_today(w):
    mark_care(w["c_th"])
    (item,) = selectors.care_due(user=w["am_th"], today=WED)
    assert (item.customer, item.kind, item.due_on, item.last_done) == (
        w["c_th"],
        "family",
        WED,
        None,
    )
    assert not item.is_overdue(WED)
    assert item.kind_label == "Family service"


def test_an_unmarked_customer_gets_no_family_service(w):
    assert due(w["am_th"]) == []


@pytest.mark.parametrize("care_need", ["elderly", "special_need"])
def test_both_kinds_of_care_need_get_family_service(w, care_need):
    mark_care(w["c_th"], care_need=care_need)
    assert due(w["am_th"]) == [("天河一号店", "family", WED)]


def test_not_due_when_served_within_the_interval_minus_the_week(w):
    mark_care(w["c_th"])
    # 16 May + 30 days = 15 June, the Monday after this week.
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 5, 16))
    assert due(w["am_th"]) == []


def test_due_on_the_last_day_of_the_week_when_served_the_interval_before(w):
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 5, 15))
    (item,) = selectors.care_due(user=w["am_th"], today=WED)
    assert (item.due_on, item.last_done) == (SUN, dt.date(2026, 5, 15))
    assert not item.is_overdue(WED)


def test_long_unserved_is_due_since_the_interval_ended_and_overdue(w):
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 4, 1))
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 3, 1))
    (item,) = selectors.care_due(user=w["am_th"], today=WED)
    assert (item.due_on, item.last_done) == (dt.date(2026, 5, 1), dt.date(2026, 4, 1))
    assert item.is_overdue(WED)


def test_other_services_do_not_count_as_family_service(w):
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "display", dt.date(2026, 6, 9))
    assert due(w["am_th"]) == [("天河一号店", "family", WED)]


def test_the_interval_follows_the_settings(w):
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 6, 1))
    assert due(w["am_th"]) == []
    configure(w, family_interval_days=7)
    assert due(w["am_th"]) == [("天河一号店", "family", MON)]


# --- birthdays -----------------------------------------------------------------------------


def test_a_birthday_in_the_week_is_due_on_the_day(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    assert due(w["am_th"]) == [("天河一号店", "birthday_greeting", dt.date(2026, 6, 12))]


@pytest.mark.parametrize(
    ("birthday", "expected"),
    [
        (dt.date(1961, 6, 8), dt.date(2026, 6, 8)),  # Monday
        (dt.date(1961, 6, 14), dt.date(2026, 6, 14)),  # Sunday
        (dt.date(1961, 6, 7), None),
        (dt.date(1961, 6, 15), None),
        (dt.date(1961, 7, 12), None),
    ],
)
def test_birthdays_at_the_edges_of_the_week(w, birthday, expected):
    mark_care(w["c_th"], care_need="", birthday=birthday)
    assert due(w["am_th"]) == ([("天河一号店", "birthday_greeting", expected)] if expected else [])


def test_a_birthday_across_new_year(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1955, 1, 1))
    mark_care(w["c_th2"], care_need="", birthday=dt.date(1958, 12, 28))
    items = due(w["sup_th"], today=dt.date(2026, 12, 30))
    assert items == [
        ("天河二号店", "birthday_greeting", dt.date(2026, 12, 28)),
        ("天河一号店", "birthday_greeting", dt.date(2027, 1, 1)),
    ]


def test_a_29_february_birthday_is_greeted_on_28_february_in_a_common_year(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1960, 2, 29))
    assert due(w["am_th"], today=dt.date(2027, 2, 25)) == [
        ("天河一号店", "birthday_greeting", dt.date(2027, 2, 28))
    ]
    assert due(w["am_th"], today=dt.date(2027, 3, 1)) == []


def test_a_29_february_birthday_in_a_leap_year(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1960, 2, 29))
    assert due(w["am_th"], today=dt.date(2028, 3, 2)) == [
        ("天河一号店", "birthday_greeting", dt.date(2028, 2, 29))
    ]
    assert due(w["am_th"], today=dt.date(2028, 2, 24)) == []  # week ends on the 27th


def test_a_birthday_greeted_this_year_is_not_listed(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2026, 6, 9))
    assert due(w["am_th"]) == []


def test_last_years_greeting_does_not_count(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2025, 6, 12))
    assert due(w["am_th"]) == [("天河一号店", "birthday_greeting", dt.date(2026, 6, 12))]


def test_a_greeting_ahead_of_a_new_year_birthday_counts_for_that_birthday(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1955, 1, 1))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2025, 12, 31))
    assert due(w["am_th"], today=dt.date(2025, 12, 31)) == []


# --- holidays ------------------------------------------------------------------------------


@pytest.fixture
def audience(w):
    """c_th is marked for family service (greeted a week ago), c_th2 is a core customer,
    c_yx neither."""
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 6, 5))
    make_core(w["c_th2"])
    return w


def greetings(user, today=WED) -> list[tuple[str, dt.date]]:
    return [
        (item.customer.store_name, item.due_on)
        for item in selectors.care_due(user=user, today=today)
        if item.kind == "holiday_greeting"
    ]


def test_a_holiday_within_the_lead_days_after_the_week_is_due(audience):
    dragon = holiday(dt.date(2026, 6, 17), "Dragon Boat Festival")  # Sunday 14 + 3 days
    (item,) = selectors.care_due(user=audience["am_th"], today=WED)
    assert (item.kind, item.due_on, item.holiday) == ("holiday_greeting", dragon.date, dragon)


def test_a_holiday_beyond_the_lead_days_is_not_yet_due(audience):
    holiday(dt.date(2026, 6, 18))
    assert greetings(audience["admin"]) == []


def test_the_lead_days_follow_the_settings(audience):
    holiday(dt.date(2026, 6, 19))
    assert greetings(audience["am_th"]) == []
    configure(audience, greeting_lead_days=5)
    assert greetings(audience["am_th"]) == [("天河一号店", dt.date(2026, 6, 19))]


def test_a_holiday_earlier_in_the_week_is_still_due_and_one_before_it_is_not(audience):
    holiday(MON, "Monday fair")
    holiday(MON - dt.timedelta(days=1), "Sunday fair")
    assert greetings(audience["am_th"]) == [("天河一号店", MON)]


@pytest.mark.parametrize(
    ("setting", "stores"),
    [
        ("care", ["天河一号店"]),
        ("care_core", ["天河一号店", "天河二号店"]),
        ("all", ["天河一号店", "天河二号店", "越秀店"]),
    ],
)
def test_holiday_greetings_go_to_the_configured_audience(audience, setting, stores):
    holiday(dt.date(2026, 6, 12))
    if setting != "care_core":
        configure(audience, greeting_audience=setting)
    assert sorted(s for s, _day in greetings(audience["admin"])) == sorted(stores)


def test_the_default_audience_is_care_and_core_customers(audience):
    holiday(dt.date(2026, 6, 12))
    assert [s for s, _day in greetings(audience["sup_gz"])] == ["天河一号店", "天河二号店"]


def test_a_customer_greeted_for_the_holiday_is_not_listed_again(audience):
    festival = holiday(dt.date(2026, 6, 12))
    holiday(dt.date(2026, 6, 13), "Another festival")
    log_activity(audience["c_th"], audience["am_th"], "holiday_greeting", WED, holiday=festival)
    assert greetings(audience["sup_th"]) == [
        ("天河二号店", dt.date(2026, 6, 12)),
        ("天河一号店", dt.date(2026, 6, 13)),
        ("天河二号店", dt.date(2026, 6, 13)),
    ]


def test_items_are_listed_soonest_first(w):
    mark_care(w["c_th"], birthday=dt.date(1961, 6, 8))
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 5, 13))  # due 12 June
    holiday(dt.date(2026, 6, 11))
    assert due(w["am_th"]) == [
        ("天河一号店", "birthday_greeting", MON),
        ("天河一号店", "holiday_greeting", dt.date(2026, 6, 11)),
        ("天河一号店", "family", dt.date(2026, 6, 12)),
    ]


# --- closed customers, managers, scope ---------------------------------------------------


@pytest.mark.parametrize("status", ["closed", "suspended"])
def test_closed_and_suspended_customers_are_left_out(w, status):
    mark_care(w["c_th"], birthday=dt.date(1961, 6, 12))
    make_core(w["c_th"])
    holiday(dt.date(2026, 6, 12))
    assert len(due(w["am_th"])) == 3
    set_status(w["c_th"], status)
    assert due(w["am_th"]) == []


@pytest.fixture
def everyone_due(w):
    """Family service due today for each of the three customers."""
    for key in ("c_th", "c_th2", "c_yx"):
        mark_care(w[key])
    return w


@pytest.mark.parametrize(
    ("who", "stores"),
    [
        ("am_th", ["天河一号店"]),
        ("am_th2", ["天河二号店"]),
        ("am_yx", ["越秀店"]),
        ("sup_th", ["天河一号店", "天河二号店"]),
        ("sup_yx", ["越秀店"]),
        ("sup_gz", ["天河一号店", "天河二号店", "越秀店"]),
        ("admin", ["天河一号店", "天河二号店", "越秀店"]),
        ("lo_th", ["天河一号店", "天河二号店"]),
    ],
)
def test_each_person_sees_the_care_due_in_their_scope(everyone_due, who, stores):
    assert sorted(s for s, _k, _d in due(everyone_due[who])) == sorted(stores)


def test_a_supervisor_narrows_the_list_to_one_account_manager(everyone_due):
    w = everyone_due
    assert due(w["sup_th"], account_manager=w["am_th2"]) == [("天河二号店", "family", WED)]
    # An account manager outside the supervisor's scope shows nothing.
    assert due(w["sup_th"], account_manager=w["am_yx"]) == []


def test_care_due_counted_by_manager_and_kind(everyone_due):
    w = everyone_due
    mark_care(w["c_th2"], birthday=dt.date(1970, 6, 9))
    counts = selectors.care_due_counts(
        customers=Customer.objects.visible_to(w["sup_gz"]), today=WED
    )
    assert counts == {
        w["am_th"].pk: Counter({"family": 1}),
        w["am_th2"].pk: Counter({"family": 1, "birthday_greeting": 1}),
        w["am_yx"].pk: Counter({"family": 1}),
    }
    # the counts agree with the lists
    listed = Counter(
        item.customer.account_manager_id for item in selectors.care_due(user=w["sup_gz"], today=WED)
    )
    assert {pk: sum(kinds.values()) for pk, kinds in counts.items()} == listed


def test_care_due_counts_agree_with_the_lists_in_a_holiday_week(w):
    # given: c_th served within the interval (no family service due), c_th2 served long ago
    # (due) with a birthday this week, c_yx a core customer whose birthday this week was
    # greeted already; two holidays, c_th greeted for the first
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", dt.date(2026, 6, 5))
    mark_care(w["c_th2"], birthday=dt.date(1970, 6, 12))
    log_activity(w["c_th2"], w["am_th2"], "family", dt.date(2026, 5, 10))
    make_core(w["c_yx"])
    mark_care(w["c_yx"], care_need="", birthday=dt.date(1980, 6, 9))
    log_activity(w["c_yx"], w["am_yx"], "birthday_greeting", dt.date(2026, 6, 8))
    festival = holiday(dt.date(2026, 6, 12))
    holiday(dt.date(2026, 6, 16), "Another festival")
    log_activity(w["c_th"], w["am_th"], "holiday_greeting", dt.date(2026, 6, 9), holiday=festival)

    # when
    counts = selectors.care_due_counts(customers=Customer.objects.visible_to(w["admin"]), today=WED)

    # then: counted in SQL per manager as the list draws them one by one
    assert counts == {
        w["am_th"].pk: Counter({"holiday_greeting": 1}),
        w["am_th2"].pk: Counter({"family": 1, "birthday_greeting": 1, "holiday_greeting": 2}),
        w["am_yx"].pk: Counter({"holiday_greeting": 2}),
    }
    listed = Counter(
        (item.customer.account_manager_id, item.kind)
        for item in selectors.care_due(user=w["admin"], today=WED)
    )
    assert {(pk, kind): n for pk, kinds in counts.items() for kind, n in kinds.items()} == listed


# --- the daily notice ------------------------------------------------------------------------


def test_each_account_manager_with_care_due_is_told_once(w):
    mark_care(w["c_th"])
    mark_care(w["c_yx"], birthday=dt.date(1966, 6, 12))

    assert services.care_due_notify(today=WED) == 2

    link = reverse("services:care")
    (th,) = Notification.objects.filter(user=w["am_th"])
    assert th.message == "1 care service is due this week (Family service: 1)."
    assert th.link == link
    (yx,) = Notification.objects.filter(user=w["am_yx"])
    assert yx.message == (
        "2 care services are due this week (Birthday greeting: 1, Family service: 1)."
    )
    assert yx.link == link
    assert not Notification.objects.filter(user=w["am_th2"]).exists()
    assert not Notification.objects.exclude(user__role=Role.ACCOUNT_MANAGER).exists()


def test_a_second_run_the_same_day_tells_no_one(w):
    mark_care(w["c_th"])
    assert services.care_due_notify(today=WED) == 1
    assert services.care_due_notify(today=WED) == 0
    assert services.care_due_notify() == 0
    assert Notification.objects.count() == 1


def test_an_older_care_notice_does_not_stop_todays(w):
    mark_care(w["c_th"])
    services.care_due_notify(today=WED)
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(days=1))
    assert services.care_due_notify(today=WED) == 1


def test_no_notice_when_nothing_is_due(w):
    assert services.care_due_notify(today=WED) == 0
    assert Notification.objects.count() == 0


def test_inactive_account_managers_are_not_told(w):
    mark_care(w["c_th"])
    w["am_th"].is_active = False
    w["am_th"].save(update_fields=["is_active"])
    assert services.care_due_notify(today=WED) == 0


# --- logging a care or value-added service ----------------------------------------------


def refused(customer, user, kind, performed_on=WED, **kw) -> DomainError:
    before = ServiceActivity.objects.count()
    with pytest.raises(DomainError) as exc:
        log_activity(customer, user, kind, performed_on, **kw)
    assert ServiceActivity.objects.count() == before
    return exc.value


def test_family_service_is_logged_for_a_marked_customer_with_an_audit_row(w):
    mark_care(w["c_th"])
    activity = log_activity(w["c_th"], w["am_th"], "family", WED, note="  Brought mooncakes. ")
    assert (activity.kind, activity.performed_on, activity.performed_by) == (
        "family",
        WED,
        w["am_th"],
    )
    assert (activity.note, activity.occasion, activity.source) == (
        "Brought mooncakes.",
        "",
        AuditSource.PAGE,
    )
    row = created_row(activity)
    assert row.new_value == {
        "customer": w["c_th"].customer_code,
        "kind": "family",
        "performed_on": "2026-06-10",
        "occasion": "",
    }


def test_family_service_repeats(w):
    mark_care(w["c_th"])
    log_activity(w["c_th"], w["am_th"], "family", WED)
    log_activity(w["c_th"], w["sup_th"], "family", WED)
    assert len(activities_of(w["c_th"])) == 2


def test_family_service_is_refused_for_an_unmarked_customer(w):
    error = refused(w["c_th"], w["am_th"], "family")
    assert list(error.errors) == ["kind"]


def test_a_birthday_greeting_needs_the_owners_birthday(w):
    error = refused(w["c_th"], w["am_th"], "birthday_greeting")
    assert list(error.errors) == ["kind"]


def test_a_birthday_greeting_is_filed_under_its_year(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    activity = log_activity(w["c_th"], w["am_th"], "birthday_greeting", WED)
    assert activity.occasion == "birthday:2026"


def test_a_second_birthday_greeting_the_same_year_is_refused(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2026, 6, 11))
    error = refused(w["c_th"], w["sup_th"], "birthday_greeting", dt.date(2026, 6, 13))
    assert list(error.errors) == ["kind"]
    assert len(activities_of(w["c_th"])) == 1


def test_birthday_greetings_in_two_years_are_both_kept(w):
    mark_care(w["c_th"], care_need="", birthday=dt.date(1961, 6, 12))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2025, 6, 12))
    log_activity(w["c_th"], w["am_th"], "birthday_greeting", dt.date(2026, 6, 12))
    assert [a.occasion for a in activities_of(w["c_th"])] == ["birthday:2025", "birthday:2026"]


def test_a_holiday_greeting_needs_the_holiday(w):
    error = refused(w["c_th"], w["am_th"], "holiday_greeting")
    assert list(error.errors) == ["holiday"]


def test_a_holiday_greeting_is_logged_once_per_holiday(w):
    festival = holiday(dt.date(2026, 6, 19))
    other = holiday(dt.date(2026, 10, 1), "National Day")
    first = log_activity(w["c_th"], w["am_th"], "holiday_greeting", WED, holiday=festival)
    assert first.occasion == "holiday:2026-06-19"
    error = refused(w["c_th"], w["sup_th"], "holiday_greeting", holiday=festival)
    assert list(error.errors) == ["kind"]
    log_activity(w["c_th"], w["am_th"], "holiday_greeting", WED, holiday=other)
    log_activity(w["c_th2"], w["am_th2"], "holiday_greeting", WED, holiday=festival)
    assert ServiceActivity.objects.filter(kind="holiday_greeting").count() == 3


@pytest.mark.parametrize("kind", ["family", "renovation", "display", "holiday_greeting"])
def test_services_are_not_logged_ahead(w, kind):
    mark_care(w["c_th"])
    festival = holiday(timezone.localdate() + dt.timedelta(days=2))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    error = refused(w["c_th"], w["am_th"], kind, tomorrow, holiday=festival)
    assert list(error.errors) == ["performed_on"]


def test_today_is_not_ahead(w):
    activity = log_activity(w["c_th"], w["am_th"], "display", timezone.localdate())
    assert activity.performed_on == timezone.localdate()


@pytest.mark.parametrize("kind", ["training", "massage", ""])
def test_training_and_unknown_kinds_are_refused(w, kind):
    error = refused(w["c_th"], w["am_th"], kind)
    assert list(error.errors) == ["kind"]


@pytest.mark.parametrize("kind", ["renovation", "display"])
def test_value_added_guidance_is_logged_for_any_customer_and_repeats(w, kind):
    first = log_activity(w["c_th"], w["am_th"], kind, WED, note="New shelves.")
    second = log_activity(w["c_th"], w["am_th"], kind, WED)
    assert (first.kind, first.occasion, first.note) == (kind, "", "New shelves.")
    assert activities_of(w["c_th"]) == [first, second]


def test_a_service_on_a_visit_must_be_to_that_customer(w):
    visit = log_visit(w["c_yx"], w["am_yx"])
    error = refused(w["c_th"], w["am_th"], "display", visit=visit)
    assert list(error.errors) == ["visit"]
    own = log_visit(w["c_th"], w["am_th"])
    assert log_activity(w["c_th"], w["am_th"], "display", visit=own).visit == own


@pytest.mark.parametrize(("who", "customer"), [("am_th2", "c_th"), ("sup_yx", "c_th")])
def test_services_outside_ones_scope_are_refused(w, who, customer):
    error = refused(w[customer], w[who], "display")
    assert list(error.errors) == ["customer_code"]


def test_an_integration_client_logs_no_service(w, make_user):
    erp = make_user(Role.INTEGRATION_CLIENT, username="erp")
    refused(w["c_th"], erp, "display")


# --- training sessions -----------------------------------------------------------------------


def train(user, attendees, area, held_on=WED, title="Display of new brands", **kw):
    return services.training_session_log(
        title=title,
        held_on=held_on,
        area=area,
        attendees=attendees,
        actor=actor(user),
        **kw,
    )


def nothing_stored() -> bool:
    return not TrainingSession.objects.exists() and not ServiceActivity.objects.exists()


def test_a_session_gives_each_attendee_one_training_activity(w, areas):
    c_th, c_th2 = w["c_th"], w["c_th2"]
    session = train(w["sup_th"], [c_th, c_th2, c_th], areas["TH"], location=" Hall 2 ")

    assert (session.title, session.held_on, session.location) == (
        "Display of new brands",
        WED,
        "Hall 2",
    )
    assert (session.area, session.held_by) == (areas["TH"], w["sup_th"])
    activities = ServiceActivity.objects.filter(training_session=session).order_by("customer")
    assert [a.customer for a in activities] == [c_th, c_th2]
    for activity in activities:
        assert (activity.kind, activity.performed_on, activity.performed_by) == (
            "training",
            WED,
            w["sup_th"],
        )
        assert activity.occasion == f"training:{session.pk}"
        assert activity.note == "Display of new brands"
    row = created_row(session)
    assert row.new_value["attendees"] == sorted([c_th.customer_code, c_th2.customer_code])


def test_a_customer_attends_two_sessions(w, areas):
    train(w["am_th"], [w["c_th"]], areas["TH"])
    train(w["am_th"], [w["c_th"]], areas["TH"], title="Fire safety")
    assert len(activities_of(w["c_th"])) == 2


def test_an_account_manager_trains_only_their_own_customers(w, areas):
    with pytest.raises(DomainError) as exc:
        train(w["am_th"], [w["c_th"], w["c_th2"]], areas["TH"])
    assert list(exc.value.errors) == ["attendees"]
    assert w["c_th2"].customer_code in exc.value.errors["attendees"][0]
    assert nothing_stored()


def test_a_session_in_an_area_outside_ones_scope_is_refused(w, areas):
    with pytest.raises(DomainError) as exc:
        train(w["sup_th"], [w["c_th"]], areas["YX"])
    assert "area" in exc.value.errors
    assert nothing_stored()


def test_attendees_from_another_area_than_the_sessions_are_refused(w, areas):
    with pytest.raises(DomainError):
        train(w["sup_gz"], [w["c_th"], w["c_yx"]], areas["TH"])


def test_a_session_without_attendees_is_refused(w, areas):
    with pytest.raises(DomainError) as exc:
        train(w["sup_th"], [], areas["TH"])
    assert list(exc.value.errors) == ["attendees"]
    assert nothing_stored()


def test_a_session_reports_every_fault_at_once(w, areas):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        train(w["am_th"], [], areas["YX"], held_on=tomorrow, title="  ")
    assert set(exc.value.errors) == {"title", "held_on", "area", "attendees"}
    assert nothing_stored()


def test_an_integration_client_logs_no_training(w, areas, make_user):
    erp = make_user(Role.INTEGRATION_CLIENT, username="erp")
    with pytest.raises(DomainError):
        train(erp, [w["c_th"]], areas["TH"])
    assert nothing_stored()


@pytest.mark.parametrize("who", ["admin", "sup_gz"])
def test_people_over_the_city_train_shops_of_both_districts(w, areas, who):
    session = train(w[who], [w["c_th"], w["c_yx"]], areas["GZ"])
    assert session.attendances.count() == 2


def test_a_licence_officer_trains_the_shops_of_the_area(w, areas):
    session = train(w["lo_th"], [w["c_th"], w["c_th2"]], areas["TH"])
    assert session.attendances.count() == 2
