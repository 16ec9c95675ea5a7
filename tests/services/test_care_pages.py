"""The care page (what is due this week, per account manager for supervisors), the list of
services done, and logging a care or value-added service through its form."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from services.models import Holiday, ServiceActivity, ServicesConfig
from services.workflow import week_bounds
from tests.customers.factories import make_customer
from tests.services import factories


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def only_care_greetings(db):
    """Holiday greetings go to the customers marked for family service only (so the core
    flag of the test customers does not matter), and the seeded calendar is emptied (the
    tests add the holidays they need, whatever today is)."""
    Holiday.objects.all().delete()
    config = ServicesConfig.current()
    config.greeting_audience = "care"
    config.save()
    return config


@pytest.fixture
def care_case(customer_world, today, only_care_greetings):
    """am_th's shops: one marked elderly never served, one whose owner's birthday falls in
    this week (today), and a holiday in two days that the marked shop is to be greeted for."""
    am = customer_world["am_th"]
    family = make_customer("TH", am, store_name="关爱店")
    factories.mark_care(family, "elderly")
    birthday = make_customer("TH", am, store_name="寿星店")
    factories.mark_care(birthday, "", birthday=today.replace(year=1960))
    holiday = factories.holiday(today + dt.timedelta(days=2), "Lantern test day")
    return {"family": family, "birthday": birthday, "holiday": holiday, "am": am}


def rows(response) -> list[tuple[str, str]]:
    """(customer code, kind) of each care row of the page."""
    return [
        (row["item"].customer.customer_code, row["item"].kind) for row in response.context["rows"]
    ]


# --- care this week ----------------------------------------------------------------------------


def test_an_account_manager_sees_their_care_due_this_week(client, care_case, customer_world, today):
    # given
    factories.mark_care(customer_world["c_th2"], "elderly")  # another account manager's
    client.force_login(care_case["am"])

    # when
    response = client.get(reverse("services:care"))

    # then
    assert response.status_code == 200
    family, birthday = care_case["family"], care_case["birthday"]
    assert set(rows(response)) == {
        (family.customer_code, "family"),
        (birthday.customer_code, "birthday_greeting"),
        (family.customer_code, "holiday_greeting"),
    }
    html = response.content.decode()
    start, end = week_bounds(today)
    assert start.isoformat() in html and end.isoformat() in html
    assert "Lantern test day" in html  # the row and the coming holidays
    assert "never served" in html
    assert reverse("customers:detail", args=[family.customer_code]) in html
    # The log button presets the customer, the service and the holiday, and comes back here.
    holiday_row = next(r for r in response.context["rows"] if r["item"].kind == "holiday_greeting")
    query = parse_qs(urlsplit(holiday_row["log_url"]).query)
    assert query["customer"] == [family.customer_code]
    assert query["kind"] == ["holiday_greeting"]
    assert query["holiday"] == [str(care_case["holiday"].pk)]
    assert query["next"] == [reverse("services:care")]
    # Another account manager's shops are not on the list.
    assert "天河二号店" not in html


def test_overdue_family_service_is_shown_in_red(client, care_case, today):
    factories.log_activity(
        care_case["family"], care_case["am"], "family", today - dt.timedelta(days=40)
    )
    client.force_login(care_case["am"])

    response = client.get(reverse("services:care"), {"kind": "family"})

    (row,) = response.context["rows"]
    assert row["item"].due_on == today - dt.timedelta(days=10)
    assert row["overdue"]
    html = response.content.decode()
    assert "text-danger" in html and "overdue since" in html
    assert f"last family service {(today - dt.timedelta(days=40)).isoformat()}" in html


def test_the_kind_tab_narrows_the_list(client, care_case):
    client.force_login(care_case["am"])

    response = client.get(reverse("services:care"), {"kind": "birthday_greeting"})

    assert rows(response) == [(care_case["birthday"].customer_code, "birthday_greeting")]
    counts = {tab["kind"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"": 3, "family": 1, "birthday_greeting": 1, "holiday_greeting": 1}


def test_an_account_manager_cannot_open_another_managers_list(client, care_case, customer_world):
    client.force_login(care_case["am"])

    assert client.get(reverse("services:care"), {"am": "am_th2"}).status_code == 404
    assert client.get(reverse("services:care"), {"am": "am_th"}).status_code == 200


def test_a_supervisor_sees_due_counts_per_manager_and_opens_one(client, care_case, customer_world):
    # given
    other = customer_world["c_th2"]
    factories.mark_care(other, "special_need")
    client.force_login(customer_world["sup_th"])

    # when
    overview = client.get(reverse("services:care"))

    # then
    assert overview.status_code == 200
    by_manager = {
        row["manager"].username: (row["total"], row["kinds"]) for row in overview.context["rows"]
    }
    # family, birthday, holiday greeting for am_th; family and holiday greeting for am_th2.
    assert by_manager == {"am_th": (3, [1, 1, 1]), "am_th2": (2, [1, 0, 1])}
    html = overview.content.decode()
    assert "?am=am_th" in html and "?am=am_th2" in html
    assert "am_yx" not in html

    # when: one manager's list
    one = client.get(reverse("services:care"), {"am": "am_th2"})

    # then
    assert {code for code, _kind in rows(one)} == {other.customer_code}
    assert one.context["manager"].username == "am_th2"


@pytest.mark.parametrize("am", ["am_yx", "nobody"])
def test_a_supervisor_cannot_open_a_manager_outside_their_areas(client, customer_world, am):
    client.force_login(customer_world["sup_th"])

    assert client.get(reverse("services:care"), {"am": am}).status_code == 404


def test_managers_with_nothing_due_are_listed_with_zero(
    client, customer_world, only_care_greetings
):
    client.force_login(customer_world["sup_gz"])

    response = client.get(reverse("services:care"))

    totals = {row["manager"].username: row["total"] for row in response.context["rows"]}
    assert totals == {"am_th": 0, "am_th2": 0, "am_yx": 0}
    assert "Nothing is due" not in response.content.decode()


def test_the_care_page_is_for_people(client, make_user):
    assert client.get(reverse("services:care")).status_code == 302  # to the login page
    client.force_login(make_user(Role.INTEGRATION_CLIENT, username="erp"))
    assert client.get(reverse("services:care")).status_code == 403


def test_the_care_list_is_paginated(client, customer_world, only_care_greetings, today):
    am = customer_world["am_th"]
    for n in range(55):
        factories.mark_care(make_customer("TH", am, store_name=f"老店{n}"), "elderly")
    client.force_login(am)

    first = client.get(reverse("services:care"))
    second = client.get(reverse("services:care"), {"page": 2})

    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 5
    assert first.context["total"] == 55
    assert "page=2" in first.content.decode()


def test_care_page_query_count_is_bounded(
    client, care_case, customer_world, django_assert_max_num_queries
):
    for n in range(10):
        factories.mark_care(make_customer("TH", care_case["am"], store_name=f"多店{n}"), "elderly")
    client.force_login(customer_world["sup_th"])
    with django_assert_max_num_queries(14):
        client.get(reverse("services:care"))
    client.force_login(care_case["am"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("services:care"))
    assert len(response.context["rows"]) == 23  # 11 family, 1 birthday, 11 holiday greetings


# --- logging a service --------------------------------------------------------------------------


def test_logging_family_service_from_the_care_list_marks_it_done(client, care_case):
    # given
    family = care_case["family"]
    client.force_login(care_case["am"])
    care_url = reverse("services:care")
    url = f"{reverse('services:activity_new')}?customer={family.customer_code}&kind=family"

    # when: the form, then posting it
    form = client.get(f"{url}&next={care_url}")
    response = client.post(
        url,
        {
            "kind": "family",
            "performed_on": timezone.localdate().isoformat(),
            "note": "Helped with the new price list",
            "next": care_url,
        },
        follow=True,
    )

    # then
    assert form.status_code == 200
    assert form.context["form"].initial["kind"] == "family"
    form_html = form.content.decode()
    assert '<option value="family" selected>' in form_html
    assert f'name="next" value="{care_url}"' in form_html
    assert response.redirect_chain[-1][0] == care_url
    assert "Family service logged for 关爱店." in response.content.decode()
    (activity,) = factories.activities_of(family)
    assert (activity.kind, activity.note, activity.performed_by) == (
        "family",
        "Helped with the new price list",
        care_case["am"],
    )
    assert (family.customer_code, "family") not in rows(response)
    assert (family.customer_code, "holiday_greeting") in rows(response)


def test_logging_a_holiday_greeting_takes_the_holiday_once(client, care_case):
    # given
    family, holiday = care_case["family"], care_case["holiday"]
    client.force_login(care_case["am"])
    url = (
        f"{reverse('services:activity_new')}?customer={family.customer_code}"
        f"&kind=holiday_greeting&holiday={holiday.pk}"
    )
    data = {
        "kind": "holiday_greeting",
        "performed_on": timezone.localdate().isoformat(),
        "holiday": holiday.pk,
    }

    # when
    first = client.post(url, data)
    second = client.post(url, data)

    # then: the first is logged and leaves the list; the second is refused on the form
    assert first.status_code == 302 and first.url == reverse("services:care")
    assert second.status_code == 200
    html = second.content.decode()
    assert "This greeting was logged for this customer already." in html
    assert 'data-testid="error-kind"' in html
    assert ServiceActivity.objects.filter(customer=family, kind="holiday_greeting").count() == 1
    care = client.get(reverse("services:care"))
    assert (family.customer_code, "holiday_greeting") not in rows(care)


def test_a_holiday_greeting_needs_the_holiday(client, care_case):
    client.force_login(care_case["am"])
    url = f"{reverse('services:activity_new')}?customer={care_case['family'].customer_code}"

    response = client.post(
        url, {"kind": "holiday_greeting", "performed_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 200
    assert 'data-testid="error-holiday"' in response.content.decode()
    assert not factories.activities_of(care_case["family"])


def test_the_holiday_is_ignored_for_other_services(client, care_case):
    client.force_login(care_case["am"])
    shop = care_case["birthday"]
    url = f"{reverse('services:activity_new')}?customer={shop.customer_code}"

    response = client.post(
        url,
        {
            "kind": "display",
            "performed_on": timezone.localdate().isoformat(),
            "holiday": care_case["holiday"].pk,
        },
    )

    assert response.status_code == 302
    (activity,) = factories.activities_of(shop)
    assert (activity.kind, activity.occasion) == ("display", "")


def test_family_service_for_an_unmarked_customer_is_refused_on_the_form(client, customer_world):
    client.force_login(customer_world["am_th"])
    url = f"{reverse('services:activity_new')}?customer={customer_world['c_th'].customer_code}"

    response = client.post(
        url, {"kind": "family", "performed_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 200
    assert "not marked for family service" in response.content.decode()
    assert not factories.activities_of(customer_world["c_th"])


def test_an_unsafe_next_is_not_followed(client, customer_world):
    client.force_login(customer_world["am_th"])
    url = f"{reverse('services:activity_new')}?customer={customer_world['c_th'].customer_code}"

    response = client.post(
        url,
        {
            "kind": "renovation",
            "performed_on": timezone.localdate().isoformat(),
            "next": "https://evil.example.com/",
        },
    )

    assert response.status_code == 302 and response.url == reverse("services:care")


def test_a_customer_outside_the_scope_is_not_found(client, customer_world):
    client.force_login(customer_world["am_th"])
    url = f"{reverse('services:activity_new')}?customer={customer_world['c_th2'].customer_code}"

    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "display"}).status_code == 404
    assert not factories.activities_of(customer_world["c_th2"])


def test_an_integration_client_is_refused(client, customer_world, make_user):
    client.force_login(make_user(Role.INTEGRATION_CLIENT, username="erp"))
    url = f"{reverse('services:activity_new')}?customer={customer_world['c_th'].customer_code}"

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("who", ["sup_th", "lo_th", "admin"])
def test_supervisors_licence_officers_and_admins_may_log(client, customer_world, who):
    client.force_login(customer_world[who])
    url = f"{reverse('services:activity_new')}?customer={customer_world['c_th'].customer_code}"

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"kind": "display", "performed_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 302
    assert factories.activities_of(customer_world["c_th"])[0].performed_by == customer_world[who]


def test_without_a_customer_the_form_offers_the_users_customers(client, customer_world):
    client.force_login(customer_world["am_th"])

    response = client.get(reverse("services:activity_new"), {"kind": "display"})

    html = response.content.decode()
    assert "天河一号店" in html and "天河二号店" not in html
    assert f"?customer={customer_world['c_th'].customer_code}&amp;kind=display" in html


def test_a_visit_of_another_customer_is_not_found(client, customer_world):
    from visits.models import Visit

    visit = Visit.objects.create(
        customer=customer_world["c_th"],
        visited_by=customer_world["am_th"],
        visited_at=timezone.now(),
        visit_type="routine",
        purpose="Round",
    )
    other = make_customer("TH", customer_world["am_th"])
    client.force_login(customer_world["am_th"])
    base = reverse("services:activity_new")

    assert client.get(f"{base}?customer={other.customer_code}&visit={visit.pk}").status_code == 404
    response = client.post(
        f"{base}?customer={customer_world['c_th'].customer_code}&visit={visit.pk}",
        {"kind": "display", "performed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    assert factories.activities_of(customer_world["c_th"])[0].visit == visit


# --- the services done -------------------------------------------------------------------------


def test_the_activity_list_shows_the_services_in_scope_filtered(client, customer_world, today):
    # given
    factories.log_activity(customer_world["c_th"], customer_world["am_th"], "display")
    factories.log_activity(customer_world["c_th"], customer_world["am_th"], "renovation")
    factories.log_activity(customer_world["c_th2"], customer_world["am_th2"], "display")
    factories.log_activity(customer_world["c_yx"], customer_world["am_yx"], "display")

    # when
    client.force_login(customer_world["sup_th"])
    everything = client.get(reverse("services:activity_list"))
    display = client.get(reverse("services:activity_list"), {"kind": "display"})
    mine = client.get(reverse("services:activity_list"), {"performed_by": "am_th2"})
    care = client.get(reverse("services:activity_list"), {"category": "care"})

    # then
    assert everything.status_code == 200
    assert everything.context["paginator"].count == 3
    assert "越秀店" not in everything.content.decode()
    assert display.context["paginator"].count == 2
    assert [a.customer for a in mine.context["activities"]] == [customer_world["c_th2"]]
    assert care.context["paginator"].count == 0
    assert reverse("services:activity_new") in everything.content.decode()


def test_an_account_manager_sees_only_their_customers_services(client, customer_world):
    factories.log_activity(customer_world["c_th"], customer_world["am_th"], "display")
    factories.log_activity(customer_world["c_th2"], customer_world["am_th2"], "display")
    client.force_login(customer_world["am_th"])

    response = client.get(reverse("services:activity_list"))

    assert [a.customer for a in response.context["activities"]] == [customer_world["c_th"]]


def test_activity_list_query_count_is_bounded(
    client, customer_world, django_assert_max_num_queries
):
    for key, am in (("c_th", "am_th"), ("c_th2", "am_th2")):
        for kind in ("display", "renovation"):
            for _n in range(3):
                factories.log_activity(customer_world[key], customer_world[am], kind)
    client.force_login(customer_world["sup_th"])

    with django_assert_max_num_queries(7):
        response = client.get(reverse("services:activity_list"))

    assert len(response.context["activities"]) == 12


@pytest.mark.parametrize("who", ["sup_th", "lo_th", "admin"])
def test_the_overview_renders_for_the_watching_roles(client, care_case, customer_world, who):
    client.force_login(customer_world[who])

    overview = client.get(reverse("services:care"))
    one = client.get(reverse("services:care"), {"am": "am_th"})

    assert overview.status_code == 200 and overview.context["overview"]
    assert one.status_code == 200
    assert len(one.context["rows"]) == 3
    assert all(row["log_url"] for row in one.context["rows"])


def test_the_picker_finds_a_customer_by_name(client, customer_world):
    make_customer("TH", customer_world["am_th"], store_name="另一家店")
    client.force_login(customer_world["am_th"])

    response = client.get(reverse("services:activity_new"), {"q": "另一家"})

    assert [c.store_name for c in response.context["customers"]] == ["另一家店"]
