"""Role-fitted home pages, the navigation, the areas page, health, the admin site."""

import re

import pytest
from django.urls import reverse

from crm.choices import AuditAction, AuditSource, Role
from crm.models import AuditEntry, User
from crm.navigation import url_builder


def nav_links(response) -> list[str]:
    """The navigation's entries in order: those of the bar, then those under "More" (as a
    phone's folded menu lists them)."""
    html = response.content.decode()
    start = html.index('data-testid="main-nav"')
    end = html.find('data-testid="nav-more"', start)
    nav = html[start : end if end != -1 else html.index("</ul>", start)]
    return re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', nav)


def more_links(response) -> list[str]:
    """The entries under "More" on a wide screen."""
    html = response.content.decode()
    start = html.index('data-testid="nav-more"')
    menu = html[start : html.index("</ul>", start)]
    return re.findall(r'<a class="dropdown-item[^"]*" href="([^"]+)"', menu)


FIELD_PAGES = ["/customers/", "/visits/"]
AFTER_VISITS = ["/services/", "/grading/", "/valuation/"]
MORE = ["/customers/change-requests/", "/orders/", "/allocation/", "/areas/"]
# The retail audits' reports: for the field roles, after allocation.
FIELD_MORE = [*MORE[:3], "/audits/prices/", *MORE[3:]]
# Supervisors and administrators: the likely duplicates, after the change requests.
SUPERVISING_MORE = [*FIELD_MORE[:1], "/customers/duplicates/", *FIELD_MORE[1:]]


@pytest.mark.parametrize(
    ("role", "expected", "more"),
    [
        (
            Role.ACCOUNT_MANAGER,
            ["/", *FIELD_PAGES, *AFTER_VISITS, "/valuation/warnings/"],
            FIELD_MORE,
        ),
        (
            Role.SUPERVISOR,
            ["/", *FIELD_PAGES, "/visits/coverage/", *AFTER_VISITS, "/valuation/warnings/"],
            SUPERVISING_MORE,
        ),
        # Licence officers: the visits of their areas (they have no visit plan) and the
        # compliance records instead of the churn warnings they cannot act on.
        (
            Role.LICENSE_OFFICER,
            ["/", "/customers/", "/visits/all/", *AFTER_VISITS, "/valuation/compliance/"],
            MORE,
        ),
        (
            Role.ADMINISTRATOR,
            ["/", *FIELD_PAGES, "/visits/coverage/", *AFTER_VISITS, "/valuation/warnings/"],
            [
                *SUPERVISING_MORE,
                "/orders/products/",
                "/customers/catalogue/",
                "/api/v1/docs/",
                "/admin/",
            ],
        ),
    ],
)
def test_navigation_fits_the_role(client, make_user, areas, role, expected, more):
    client.force_login(make_user(role, [areas["TH"]]))
    response = client.get(reverse("home"))
    assert nav_links(response) == [*expected, *more]
    assert more_links(response) == more


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_every_navigation_entry_opens_a_page_the_role_may_use(client, make_user, areas, role):
    client.force_login(make_user(role, [areas["TH"]]))
    for url in nav_links(client.get(reverse("home"))):
        assert client.get(url).status_code == 200, url


def test_supervisor_home_lists_the_team_of_their_areas(client, make_user, areas):
    sup = make_user(Role.SUPERVISOR, [areas["GZ"]])
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], name="张伟")
    make_user(Role.ACCOUNT_MANAGER, [areas["SZ"]], name="外区")
    client.force_login(sup)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="my-team"' in html
    assert "张伟" in html
    assert "外区" not in html


def test_account_manager_home_shows_areas_and_supervisors(client, make_user, areas):
    make_user(Role.SUPERVISOR, [areas["TH"]], name="李主任")
    make_user(Role.SUPERVISOR, [areas["GZ"]], name="城区主任")  # above TH: also in charge
    make_user(Role.SUPERVISOR, [areas["YX"]], name="邻区主任")  # a sibling district: not
    make_user(Role.SUPERVISOR, [areas["SZ"]], name="别人")
    client.force_login(make_user(Role.ACCOUNT_MANAGER, [areas["TH"]]))
    html = client.get(reverse("home")).content.decode()
    assert "天河区" in html
    assert "李主任" in html
    assert "城区主任" in html
    assert "邻区主任" not in html
    assert "别人" not in html


def test_administrator_home_shows_users_clients_and_changes(client, make_user, system_actor):
    from crm.services import api_client_create

    api_client_create(name="erp", actor=system_actor)
    client.force_login(make_user(Role.ADMINISTRATOR))
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="api-clients"' in html
    assert "erp" in html
    assert 'data-testid="recent-changes"' in html


def test_integration_client_session_is_refused_on_pages(client, make_user):
    client.force_login(make_user(Role.INTEGRATION_CLIENT))
    assert client.get(reverse("home")).status_code == 403


def test_area_page_is_scoped_and_counts_members(client, make_user, areas):
    sup = make_user(Role.SUPERVISOR, [areas["GZ"]])
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]])
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]])
    client.force_login(sup)
    response = client.get(reverse("crm:area_list"))
    rows = {area.code: area for area in response.context["areas"]}
    assert sorted(rows) == ["GZ", "TH", "YX"]
    assert rows["TH"].n_account_manager == 2


def test_area_page_search(client, make_user, areas):
    client.force_login(make_user(Role.ADMINISTRATOR))
    response = client.get(reverse("crm:area_list"), {"q": "越秀"})
    assert [a.code for a in response.context["areas"]] == ["YX"]


def test_area_page_paginates_and_pins_its_query_count(
    client, make_user, system_actor, django_assert_num_queries
):
    from crm.services import area_upsert

    for i in range(30):
        area_upsert(code=f"Z{i:02d}", name=f"区{i}", actor=system_actor)
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    # session, user, unread notifications, count, page rows, prefetched members
    with django_assert_num_queries(6):
        response = client.get(reverse("crm:area_list"), {"page": 2})
    assert response.status_code == 200
    assert len(response.context["areas"]) == 5
    assert "page=1" in response.content.decode()


def test_health_reports_database(client, db):
    response = client.get(reverse("health"))
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMINISTRATOR, 200), (Role.SUPERVISOR, 302), (Role.ACCOUNT_MANAGER, 302)],
)
def test_admin_site_is_for_administrators(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get(reverse("admin:crm_user_changelist")).status_code == status


def test_admin_edit_writes_audit_rows(client, make_user, areas):
    admin = make_user(Role.ADMINISTRATOR)
    area = areas["TH"]
    client.force_login(admin)
    response = client.post(
        reverse("admin:crm_area_change", args=[area.pk]),
        {"code": "TH", "name": "天河区（新）", "parent": areas["GZ"].pk},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=str(area.pk), field="name")
    assert (entry.old_value, entry.new_value) == ("天河区", "天河区（新）")
    assert entry.source == AuditSource.ADMIN
    assert entry.actor == admin
    assert entry.action == AuditAction.UPDATE


def test_admin_role_change_keeps_staff_flag_in_step(client, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    am = make_user(Role.ACCOUNT_MANAGER, username="promote_me")
    client.force_login(admin)
    response = client.post(
        reverse("admin:crm_user_change", args=[am.pk]),
        {
            "username": "promote_me",
            "name": "",
            "email": "",
            "phone": "",
            "role": "administrator",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content
    assert User.objects.get(pk=am.pk).is_staff


def test_admin_password_change_is_audited_without_the_password(client, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    am = make_user(Role.ACCOUNT_MANAGER)
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[am.pk]),
        {"password1": "New-strong-pass-2026", "password2": "New-strong-pass-2026"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=str(am.pk), field="password")
    assert (entry.old_value, entry.new_value) == (None, None)
    assert entry.actor == admin


@pytest.mark.parametrize(
    ("url_name", "value"),
    [
        ("customers:detail", "TH000123"),
        ("customers:detail", "烟酒 店 #1?&"),  # quoted as reverse() quotes it
        ("visits:plan_skip", 42),
    ],
)
def test_url_builder_builds_what_reverse_does(url_name, value):
    assert url_builder(url_name)(value) == reverse(url_name, args=[value])
