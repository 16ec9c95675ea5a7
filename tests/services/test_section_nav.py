"""The Services section's menu: every page shows it, with the entries the user may open."""

import pytest
from django.urls import reverse

PAGES = [
    ("services:queue", "Requests"),
    ("services:care", "Care this week"),
    ("services:activity_list", "Services done"),
    ("services:training_list", "Training"),
    ("services:request_new", "Requests"),
    ("services:activity_new", "Services done"),
]


def menu(page) -> list[tuple[str, bool]]:
    return [(s["label"], s["active"]) for s in page.context["sections"]]


@pytest.mark.parametrize(("name", "active"), PAGES)
def test_every_services_page_shows_the_menu_with_its_section_marked(
    client, customer_world, name, active
):
    client.force_login(customer_world["am_th"])
    page = client.get(reverse(name))
    assert page.status_code == 200
    assert 'data-testid="services-nav"' in page.content.decode()
    assert [label for label, on in menu(page) if on] == [active]


@pytest.mark.parametrize(
    ("who", "extra"),
    [
        ("am_th", []),
        ("lo_th", []),
        ("sup_th", ["Satisfaction"]),
        ("admin", ["Satisfaction", "Settings"]),
    ],
)
def test_the_menu_offers_supervision_and_settings_only_to_those_allowed(
    client, customer_world, who, extra
):
    client.force_login(customer_world[who])
    page = client.get(reverse("services:queue"))
    labels = [str(label) for label, _active in menu(page)]
    assert labels == ["Requests", "Care this week", "Services done", "Training", *extra]
