"""Retailer training pages: the session list, logging a session with its attendees' codes, and
a session's page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from services import services
from services.models import ServiceActivity, TrainingSession
from tests.customers.factories import make_customer
from tests.services import factories


def log_session(user, area, attendees, title="Display basics", held_on=None):
    return services.training_session_log(
        title=title,
        held_on=held_on or timezone.localdate(),
        area=area,
        attendees=attendees,
        actor=factories.actor(user),
        location="District office",
    )


def test_an_account_manager_logs_a_session_with_attendee_codes(client, customer_world, areas):
    # given
    am = customer_world["am_th"]
    second = make_customer("TH", am, store_name="培训二店")
    client.force_login(am)

    # when: the form (the only area preselected), then posting codes in several separators
    form = client.get(reverse("services:training_new"))
    response = client.post(
        reverse("services:training_new"),
        {
            "title": "New packaging rules",
            "held_on": timezone.localdate().isoformat(),
            "area": areas["TH"].pk,
            "location": "Tianhe office",
            "topic": "What changes in March",
            "attendees": f"{customer_world['c_th'].customer_code},\n {second.customer_code}，"
            f"{second.customer_code}",
        },
        follow=True,
    )

    # then
    assert form.status_code == 200
    assert form.context["form"].initial["area"] == areas["TH"].pk
    session = TrainingSession.objects.get()
    assert response.redirect_chain[-1][0] == reverse("services:training_detail", args=[session.pk])
    assert (session.title, session.area, session.held_by) == (
        "New packaging rules",
        areas["TH"],
        am,
    )
    attendees = set(
        ServiceActivity.objects.filter(training_session=session).values_list(
            "customer__customer_code", flat=True
        )
    )
    assert attendees == {customer_world["c_th"].customer_code, second.customer_code}
    html = response.content.decode()
    assert "The session was logged with 2 attendees." in html
    assert "培训二店" in html and "What changes in March" in html


def test_a_code_outside_the_scope_is_refused_and_nothing_is_stored(client, customer_world, areas):
    client.force_login(customer_world["am_th"])

    response = client.post(
        reverse("services:training_new"),
        {
            "title": "New packaging rules",
            "held_on": timezone.localdate().isoformat(),
            "area": areas["TH"].pk,
            "attendees": f"{customer_world['c_th'].customer_code} "
            f"{customer_world['c_th2'].customer_code} 999999",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-attendees"' in html
    assert f"{customer_world['c_th2'].customer_code}, 999999" in html
    assert (
        customer_world["c_th"].customer_code
        not in html.split("error-attendees")[1].split("</div>")[0]
    )
    assert not TrainingSession.objects.exists()
    assert not ServiceActivity.objects.exists()


def test_an_area_outside_the_scope_is_not_offered(client, customer_world, areas):
    client.force_login(customer_world["sup_th"])

    response = client.post(
        reverse("services:training_new"),
        {
            "title": "Elsewhere",
            "held_on": timezone.localdate().isoformat(),
            "area": areas["YX"].pk,
            "attendees": customer_world["c_th"].customer_code,
        },
    )

    assert response.status_code == 200
    assert 'data-testid="error-area"' in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_a_future_session_is_refused_on_its_date(client, customer_world, areas):
    client.force_login(customer_world["am_th"])

    response = client.post(
        reverse("services:training_new"),
        {
            "title": "Later",
            "held_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "area": areas["TH"].pk,
            "attendees": customer_world["c_th"].customer_code,
        },
    )

    assert response.status_code == 200
    assert "once it is held" in response.content.decode()
    assert 'data-testid="error-held_on"' in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_the_list_shows_sessions_in_scope_with_attendee_counts(client, customer_world, areas):
    # given
    th = log_session(
        customer_world["sup_th"], areas["TH"], [customer_world["c_th"], customer_world["c_th2"]]
    )
    log_session(customer_world["sup_yx"], areas["YX"], [customer_world["c_yx"]], title="越秀培训")

    # when
    client.force_login(customer_world["sup_th"])
    response = client.get(reverse("services:training_list"))

    # then
    assert response.status_code == 200
    assert [(s.pk, s.attendee_count) for s in response.context["sessions"]] == [(th.pk, 2)]
    html = response.content.decode()
    assert "2 attendees" in html and "越秀培训" not in html
    assert reverse("services:training_new") in html


def test_the_new_session_button_follows_the_policy(client, customer_world, make_user):
    client.force_login(customer_world["lo_th"])
    assert (
        reverse("services:training_new")
        in client.get(reverse("services:training_list")).content.decode()
    )
    client.force_login(make_user(Role.INTEGRATION_CLIENT, username="erp"))
    assert client.get(reverse("services:training_list")).status_code == 403
    assert client.get(reverse("services:training_new")).status_code == 403


def test_the_session_page_shows_the_attendees_the_user_sees(client, customer_world, areas):
    # given: a city-wide session with shops of two districts
    session = log_session(
        customer_world["sup_gz"],
        areas["GZ"],
        [customer_world["c_th"], customer_world["c_yx"]],
        title="City training",
    )

    # when / then: the city supervisor sees both
    client.force_login(customer_world["sup_gz"])
    page = client.get(reverse("services:training_detail", args=[session.pk]))
    assert page.status_code == 200
    assert [a.customer for a in page.context["attendees"]] == sorted(
        [customer_world["c_th"], customer_world["c_yx"]], key=lambda c: c.customer_code
    )

    # the district supervisor sees the session (their shop went) and only their own attendee
    client.force_login(customer_world["sup_th"])
    page = client.get(reverse("services:training_detail", args=[session.pk]))
    assert page.status_code == 200
    assert [a.customer for a in page.context["attendees"]] == [customer_world["c_th"]]


def test_a_district_supervisor_sees_their_shops_and_how_many_others(client, customer_world, areas):
    session = log_session(
        customer_world["sup_gz"], areas["TH"], [customer_world["c_th"], customer_world["c_th2"]]
    )
    client.force_login(customer_world["am_th"])

    page = client.get(reverse("services:training_detail", args=[session.pk]))

    assert page.status_code == 200
    assert [a.customer for a in page.context["attendees"]] == [customer_world["c_th"]]
    assert "1 more attendee is outside your scope." in page.content.decode()


def test_a_session_outside_the_scope_is_not_found(client, customer_world, areas):
    session = log_session(customer_world["sup_yx"], areas["YX"], [customer_world["c_yx"]])
    client.force_login(customer_world["am_th"])

    assert client.get(reverse("services:training_detail", args=[session.pk])).status_code == 404
    assert client.get(reverse("services:training_detail", args=[99999])).status_code == 404


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th", "admin"])
def test_the_training_pages_render_for_every_person(client, customer_world, who):
    client.force_login(customer_world[who])

    assert client.get(reverse("services:training_list")).status_code == 200
    assert client.get(reverse("services:training_new")).status_code == 200


def test_training_list_query_count_is_bounded(
    client, customer_world, areas, django_assert_max_num_queries
):
    for n in range(6):
        log_session(
            customer_world["sup_th"],
            areas["TH"],
            [customer_world["c_th"], customer_world["c_th2"]],
            title=f"Session {n}",
        )
    client.force_login(customer_world["sup_th"])

    with django_assert_max_num_queries(7):
        response = client.get(reverse("services:training_list"))

    assert len(response.context["sessions"]) == 6


def test_training_detail_query_count_is_bounded(
    client, customer_world, areas, django_assert_max_num_queries
):
    shops = [make_customer("TH", customer_world["am_th"]) for _n in range(12)]
    session = log_session(customer_world["sup_th"], areas["TH"], shops)
    client.force_login(customer_world["sup_th"])

    with django_assert_max_num_queries(9):
        response = client.get(reverse("services:training_detail", args=[session.pk]))

    assert len(response.context["attendees"]) == 12
