"""The panel registry (crm.panels) and the import rule it makes possible (issue 20).

- a panel declared in one place shows on its page, for the roles it names, in its order;
- the customer page and the home page import no app they show;
- no app imports another app's views (an AST walk of every module of every app).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from crm import panels
from crm.choices import Role
from crm.panels import Panel, Surface, Tab

ROOT = Path(settings.BASE_DIR)
# The project's own apps (Django's and third parties' are not ours to police).
OUR_APPS = sorted(
    config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT
)
# crm is the ground floor: its views module holds the access decorators and list helpers
# (people_only, PeopleOnlyMixin, list_query_context, ...) every app's views are built on.
# It is the one views module others import; crm itself imports no app's views.
SHARED_VIEWS = "crm.views"


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports (`from a import b` counts as a.b and a)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def app_of(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in OUR_APPS else None


def is_views(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[1] == "views"


def test_the_rule_walks_every_app():
    assert {"crm", "customers", "orders", "grading", "valuation", "visits", "services"} <= set(
        OUR_APPS
    )
    assert "home" in OUR_APPS


def test_no_app_imports_another_apps_views():
    offences = []
    for app in OUR_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for module in imported_modules(path):
                other = app_of(module)
                if other is None or other == app or not is_views(module):
                    continue
                if module.startswith(SHARED_VIEWS) and app != "crm":
                    continue
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


def test_the_rule_catches_an_offence(tmp_path):
    """The walk sees both spellings of an import of another app's views."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from services.views.requests import overdue_by\nfrom valuation import views\n"
    )
    found = {m for m in imported_modules(sample) if app_of(m) and is_views(m)}
    assert found == {
        "services.views.requests",
        "services.views.requests.overdue_by",
        "valuation.views",
    }


@pytest.mark.parametrize("module", ["customers/views.py", "home/views.py"])
def test_composed_pages_import_none_of_the_apps_they_show(module):
    shown = {"orders", "grading", "valuation", "visits", "services"}
    imported = {app_of(m) for m in imported_modules(ROOT / module)}
    assert imported & shown == set()


def test_every_customer_tab_has_panels():
    assert {panel.tab for panel in panels.registered(Surface.CUSTOMER)} == set(Tab)


# --- the registry ------------------------------------------------------------------------


@pytest.fixture
def extra_panel():
    """A panel a new feature would add: one declaration, registered like an app's."""
    added = []

    def add(**fields) -> Panel:
        panel = Panel(**fields)
        panels.register(panel)
        added.append(panel)
        return panel

    yield add
    for panel in added:
        panels.unregister(panel.surface, panel.key)


def test_a_second_panel_under_a_taken_key_is_refused(extra_panel):
    extra_panel(key="test-panel", surface=Surface.HOME, template="crm/inc/home_people.html")
    with pytest.raises(ValueError, match="test-panel"):
        panels.register(
            Panel(key="test-panel", surface=Surface.HOME, template="other.html", order=1)
        )


def test_panels_follow_roles_predicates_and_each_roles_order(customer_world, extra_panel):
    w = customer_world
    extra_panel(
        key="only-th-managers",
        surface=Surface.HOME,
        template="crm/inc/home_people.html",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        visible=lambda user: user.username == "am_th",
        order=1,
    )
    assert "only-th-managers" in panels.keys(panels.panels_for(Surface.HOME, w["am_th"]))
    assert "only-th-managers" not in panels.keys(panels.panels_for(Surface.HOME, w["am_th2"]))
    assert "only-th-managers" not in panels.keys(panels.panels_for(Surface.HOME, w["sup_th"]))
    # Supervisors decide change requests: first on their page, after the requests on others'.
    sup = panels.keys(panels.panels_for(Surface.HOME, w["sup_th"]))
    am = panels.keys(panels.panels_for(Surface.HOME, w["am_th"]))
    assert sup.index("change-requests") < sup.index("service-requests")
    assert am.index("service-requests") < am.index("change-requests")
    # Administrators count as their role, whatever their role field says.
    admin = panels.keys(panels.panels_for(Surface.HOME, w["admin"]))
    assert admin[:2] == ["job-runs", "config-versions"]


def test_a_declared_panel_shows_on_the_customer_page_in_its_tab(
    client, customer_world, extra_panel
):
    extra_panel(
        key="test-card",
        surface=Surface.CUSTOMER,
        tab=Tab.SALES,
        template="crm/inc/areas_card.html",
        context=lambda request, customer: {"my_areas": [customer.area]},
        order=1,
    )
    client.force_login(customer_world["am_th"])
    html = client.get(
        reverse("customers:detail", args=[customer_world["c_th"].customer_code]),
        {"tab": "sales"},
    ).content.decode()
    pane = html[html.index('id="tab-sales"') : html.index('id="tab-grade-value"')]
    assert pane.index('data-panel="test-card"') < pane.index('data-panel="sales"')
    assert customer_world["c_th"].area.name in pane


def test_a_panel_with_nothing_to_show_is_left_out(client, customer_world, extra_panel):
    extra_panel(
        key="empty-panel",
        surface=Surface.HOME,
        template="does/not/exist.html",
        context=lambda request: None,
    )
    client.force_login(customer_world["am_th"])
    html = client.get(reverse("home")).content.decode()
    assert 'data-panel="empty-panel"' not in html


def test_home_panels_take_their_phone_order(client, customer_world):
    """On a phone the account manager's open warnings come before the change requests they
    raised; on a wide screen after them (crm.css orders panel-phone-N below lg)."""
    client.force_login(customer_world["am_th"])
    html = client.get(reverse("home")).content.decode()
    cells = {
        key: int(rank)
        for rank, key in re.findall(r'panel-phone-(\d+)" data-panel="([\w-]+)"', html)
    }
    assert list(cells) == [
        "visits-today",
        "service-requests",
        "change-requests",
        "value-panels",
        "customer-mix",
        "people",
    ]
    assert cells["value-panels"] < cells["change-requests"]
    assert cells["visits-today"] == 1 and cells["people"] == 6


def test_a_shared_figure_is_read_once_per_request(rf):
    """crm.panels.shared: the panels of one page that show the same figure read it once; the
    next request reads it again (nothing outlives its page)."""
    reads = []

    def compute():
        reads.append(1)
        return len(reads)

    first = rf.get("/")
    assert panels.shared(first, "figure", compute) == 1
    assert panels.shared(first, "figure", compute) == 1
    assert panels.shared(first, "other", compute) == 2
    assert panels.shared(rf.get("/"), "figure", compute) == 3
    assert len(reads) == 3


def test_the_customer_mix_and_the_value_panels_share_one_count(client, customer_world):
    """An account manager's home counts his customers by grade, tier, core and problem once
    for both cards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(customer_world["am_th"])
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert 'data-panel="customer-mix"' in html and 'data-panel="value-panels"' in html
    grouped = [q["sql"] for q in queries if '"system__is_problem"' in q["sql"]]
    assert len(grouped) == 1
