"""The service settings page: administrators change the settings (audited; refused values are
shown on the form and nothing is saved) and keep the holiday calendar; nobody else may."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.choices import AuditAction
from crm.models import AuditEntry
from services.models import Holiday, ServicesConfig
from services.services import CONFIG_FIELDS
from tests.services.factories import holiday, raise_request

URL = "/services/settings/"


def form_data(**changes):
    data = {
        "action": "settings",
        "sla_supply_hours": 48,
        "sla_price_hours": 72,
        "sla_delivery_hours": 24,
        "sla_licence_hours": 120,
        "sla_complaint_hours": 48,
        "sla_other_hours": 72,
        "escalate_after_hours": 0,
        "reopen_days": 30,
        "family_interval_days": 30,
        "greeting_lead_days": 3,
        "greeting_audience": "care_core",
    }
    data.update(changes)
    return data


def audit_of(model) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by(
            "id"
        )
    )


def delete_url(h: Holiday) -> str:
    return reverse("services:holiday_delete", args=[h.pk])


def test_url_names(db):
    assert reverse("services:settings") == URL
    assert reverse("services:holiday_delete", args=[7]) == "/services/settings/holidays/7/delete/"


@pytest.mark.parametrize("who", ["am_th", "sup_gz", "lo_th"])
def test_settings_are_for_administrators(client, customer_world, who):
    h = holiday(dt.date(2031, 5, 1), "Labour Day")
    client.force_login(customer_world[who])
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(sla_delivery_hours=12)).status_code == 403
    post = {"action": "holiday", "date": "2031-06-01", "name_en": "X", "name_zh": "某节"}
    assert client.post(URL, post).status_code == 403
    assert client.post(delete_url(h)).status_code == 403
    assert ServicesConfig.current().sla_delivery_hours == 24
    assert Holiday.objects.filter(pk=h.pk).exists()
    assert not Holiday.objects.filter(date=dt.date(2031, 6, 1)).exists()


def test_page_shows_the_current_values_and_the_form(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert list(response.context["form"].fields) == list(CONFIG_FIELDS)
    current = dict(response.context["current"])
    assert current["Delivery: hours to resolve"] == "24"
    assert current["Holiday greetings for"] == "Family-service and core customers"
    changed = html[html.index('data-testid="settings-changed"') :]
    assert "Never: the defaults apply" in changed[: changed.index("</dd>")]
    for name in CONFIG_FIELDS:
        assert f'name="{name}"' in html
    assert 'data-testid="holidays"' in html
    assert 'data-testid="holiday-form"' in html


def test_a_valid_save_is_audited(client, customer_world):
    admin = customer_world["admin"]
    client.force_login(admin)
    response = client.post(URL, form_data(sla_delivery_hours=12, greeting_audience="all"))
    assert response.status_code == 302
    assert response["Location"] == URL
    config = ServicesConfig.current()
    assert (config.sla_delivery_hours, config.greeting_audience) == (12, "all")
    assert config.updated_by == admin
    entries = audit_of(ServicesConfig)
    assert {(e.field, e.old_value, e.new_value) for e in entries} == {
        ("sla_delivery_hours", "24", "12"),
        ("greeting_audience", "care_core", "all"),
    }
    assert all(e.actor == admin and e.action == AuditAction.UPDATE for e in entries)
    html = client.get(URL).content.decode()
    assert "The service settings were saved" in html
    changed = html[html.index('data-testid="settings-changed"') :]
    assert str(admin) in changed[: changed.index("</dd>")]
    # New delivery requests are due 12 hours after they were raised.
    request = raise_request(customer_world["c_th"], customer_world["am_th"])
    assert request.due_at - request.raised_at == dt.timedelta(hours=12)


def test_saving_the_same_values_changes_nothing(client, customer_world):
    client.force_login(customer_world["admin"])
    assert client.post(URL, form_data()).status_code == 302
    assert audit_of(ServicesConfig) == []
    assert ServicesConfig.current().updated_by is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sla_delivery_hours", 0),
        ("sla_supply_hours", "abc"),
        ("greeting_lead_days", 31),
        ("family_interval_days", ""),
        ("greeting_audience", "nobody"),
    ],
)
def test_an_invalid_value_is_shown_and_nothing_is_saved(client, customer_world, field, value):
    client.force_login(customer_world["admin"])
    response = client.post(URL, form_data(**{field: value, "sla_price_hours": 10}))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field]
    assert "is-invalid" in form.fields[field].widget.attrs["class"]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    config = ServicesConfig.current()
    assert (config.sla_price_hours, config.sla_delivery_hours) == (72, 24)
    assert audit_of(ServicesConfig) == []
    # The current values stay what was saved, not what was posted.
    assert dict(response.context["current"])["Price: hours to resolve"] == "72"


def test_holiday_calendar_a_year_at_a_time(client, customer_world, monkeypatch):
    monkeypatch.setattr("services.views.settings._today", lambda: dt.date(2031, 5, 10))
    holiday(dt.date(2031, 1, 1), "New Year")
    holiday(dt.date(2031, 10, 1), "National Day")
    holiday(dt.date(2032, 2, 11), "Spring Festival")
    client.force_login(customer_world["admin"])
    response = client.get(URL)
    html = response.content.decode()
    assert response.context["year"] == 2031
    assert [h.name_en for h in response.context["holidays"]] == ["New Year", "National Day"]
    assert "Spring Festival" not in html
    assert 2031 in response.context["years"] and 2032 in response.context["years"]
    assert 'href="?year=2032#holidays"' in html
    past = html[html.index("New Year") - 400 : html.index("New Year")]
    assert "text-body-secondary" in past
    response = client.get(URL, {"year": 2032})
    assert [h.name_en for h in response.context["holidays"]] == ["Spring Festival"]
    response = client.get(URL, {"year": 2040})
    assert 'data-testid="no-holidays"' in response.content.decode()
    assert client.get(URL, {"year": "x"}).context["year"] == 2031


def test_add_a_holiday(client, customer_world):
    admin = customer_world["admin"]
    client.force_login(admin)
    response = client.post(
        URL,
        {"action": "holiday", "date": "2031-06-02", "name_en": "Dragon Boat", "name_zh": "端午节"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2031#holidays"
    h = Holiday.objects.get(date=dt.date(2031, 6, 2))
    assert (h.name_en, h.name_zh) == ("Dragon Boat", "端午节")
    [entry] = audit_of(Holiday)
    assert (entry.action, entry.actor) == (AuditAction.CREATE, admin)
    html = client.get(response["Location"]).content.decode()
    assert "was added to the holiday calendar" in html
    assert f'data-holiday="{h.pk}"' in html
    assert ServicesConfig.current().updated_by is None  # the settings are untouched


def test_a_refused_holiday_is_shown_on_its_form(client, customer_world):
    holiday(dt.date(2031, 6, 2), "Dragon Boat")
    client.force_login(customer_world["admin"])
    response = client.post(
        URL, {"action": "holiday", "date": "2031-06-02", "name_en": "Other", "name_zh": "别的"}
    )
    assert response.status_code == 200
    form = response.context["holiday_form"]
    assert form.errors["date"] == ["There is a holiday on this date already."]
    assert response.context["year"] == 2031
    assert not response.context["form"].is_bound  # the settings form is left alone
    response = client.post(URL, {"action": "holiday", "date": "2031-07-01", "name_en": "X"})
    assert response.status_code == 200
    assert response.context["holiday_form"].errors["name_zh"]
    assert Holiday.objects.filter(date__year=2031).count() == 1
    assert audit_of(Holiday) == []


def test_delete_a_holiday(client, customer_world):
    h = holiday(dt.date(2031, 9, 14), "Mid-Autumn")
    admin = customer_world["admin"]
    client.force_login(admin)
    html = client.get(URL, {"year": 2031}).content.decode()
    row = html[html.index(f'data-holiday="{h.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'action="{delete_url(h)}"' in row
    assert "data-confirm=" in row
    assert client.get(delete_url(h)).status_code == 405
    response = client.post(delete_url(h))
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2031#holidays"
    assert not Holiday.objects.filter(pk=h.pk).exists()
    [entry] = audit_of(Holiday)
    assert (entry.action, entry.actor) == (AuditAction.DELETE, admin)
    assert "was removed from the holiday calendar" in client.get(URL).content.decode()
    assert client.post(delete_url(h)).status_code == 404


def test_seeded_holidays_are_listed(client, customer_world, monkeypatch):
    monkeypatch.setattr("services.views.settings._today", lambda: dt.date(2026, 1, 5))
    client.force_login(customer_world["admin"])
    response = client.get(URL)
    holidays = list(response.context["holidays"])
    assert holidays[:2] == list(Holiday.objects.filter(date__year=2026).order_by("date")[:2])
    html = response.content.decode()
    assert "Spring Festival" in html
    assert "春节" in html
    assert 2027 in response.context["years"]
