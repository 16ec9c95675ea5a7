"""The filter pickers (crm/templatetags/pickers.py): one <select> on every list, its choices
the areas and account managers the scope rule lets the user see, the value what the
FilterSets read (an area's code, a username)."""

import re

import pytest

from crm import selectors

pytestmark = pytest.mark.django_db


def options(html: bytes, name: str) -> list[str]:
    """The values of the <select name=`name`>'s options (the empty "any" one left out)."""
    match = re.search(rf'<select id="id_{name}" name="{name}".*?</select>', html.decode(), re.S)
    assert match, f"no picker {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', match.group(0)) if v]


def test_an_account_manager_picks_their_areas_and_only_themselves(customer_world):
    am = customer_world["am_th"]
    assert [code for code, _ in selectors.area_choices(user=am)] == ["TH"]
    assert selectors.account_manager_choices(user=am) == [("am_th", am.name + " (am_th)")]


def test_a_supervisor_picks_the_areas_below_theirs_and_their_account_managers(customer_world):
    sup = customer_world["sup_gz"]
    assert [code for code, _ in selectors.area_choices(user=sup)] == ["GZ", "TH", "YX"]
    ams = [username for username, _ in selectors.account_manager_choices(user=sup)]
    assert ams == ["am_th", "am_th2", "am_yx"]
    th = [u for u, _ in selectors.account_manager_choices(user=customer_world["sup_th"])]
    assert th == ["am_th", "am_th2"]


# (The grading and value overviews show their filters once a month is computed: see
# tests/crm/test_overview_links.py.)
@pytest.mark.parametrize("url", ["/customers/", "/valuation/warnings/"])
def test_the_lists_show_the_same_scoped_pickers(client, customer_world, url):
    client.force_login(customer_world["sup_th"])
    html = client.get(url).content
    assert options(html, "area") == ["TH"]
    assert options(html, "account_manager") == ["am_th", "am_th2"]


def test_compliance_picks_an_area(client, customer_world):
    client.force_login(customer_world["sup_gz"])
    html = client.get("/valuation/compliance/").content
    assert options(html, "area") == ["GZ", "TH", "YX"]


def test_the_picked_account_manager_filters_the_customer_list_and_stays_chosen(
    client, customer_world
):
    client.force_login(customer_world["sup_th"])
    response = client.get("/customers/?account_manager=am_th2")
    assert [c.store_name for c in response.context["object_list"]] == ["天河二号店"]
    assert b'<option value="am_th2" selected>' in response.content


def test_visits_and_services_pick_people_in_scope(client, customer_world):
    client.force_login(customer_world["sup_th"])
    visits = client.get("/visits/all/").content
    assert options(visits, "area") == ["TH"]
    assert "am_yx" not in options(visits, "visited_by")
    assert {"am_th", "am_th2", "sup_th"} <= set(options(visits, "visited_by"))
    queue = client.get("/services/").content
    assert "sup_yx" not in options(queue, "assignee")
    assert "am_th" in options(queue, "assignee")
