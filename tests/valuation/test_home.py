"""The home page's value panels: an account manager's open warnings, core customers and
problem customers (a supervisor's for their areas), each with its empty state."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import CustomerSystem
from tests.customers.factories import make_customer
from valuation.choices import WarningKind, WarningStatus
from valuation.models import EarlyWarning

HOME = "/"


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</ul>", start)]


def warn(customer, key: str, status: str = WarningStatus.OPEN) -> EarlyWarning:
    return EarlyWarning.objects.create(
        customer=customer,
        kind=WarningKind.DOWNGRADE,
        key=key,
        status=status,
        details={"month": key, "previous_grade": 2, "grade": 5},
    )


def system(customer, **fields) -> None:
    CustomerSystem.objects.filter(customer=customer).update(**fields)


@pytest.fixture
def world(customer_world):
    """c_th (am_th): a core customer with an open and an acknowledged warning (and a resolved
    one); c_th2 (am_th2): a problem customer with an open warning and a violation on record;
    c_yx (am_yx): a problem customer by its credit score."""
    w = customer_world
    warn(w["c_th"], "2026-09")
    warn(w["c_th"], "2026-10", WarningStatus.ACKNOWLEDGED)
    warn(w["c_th"], "2026-08", WarningStatus.RESOLVED)
    warn(w["c_th2"], "2026-10")
    system(w["c_th"], is_core=True, is_problem=False, current_value=88.5, credit_score=90.0)
    system(w["c_th2"], is_core=False, is_problem=True, credit_score=55.0, compliance_flag=False)
    system(w["c_yx"], is_core=False, is_problem=True, credit_score=12.5, compliance_flag=True)
    return w


def test_the_account_manager_sees_their_open_warnings(client, world):
    html = home(client, world["am_th"])
    panel = section(html, "home-warnings")
    assert 'data-testid="home-warnings-open">1 open<' in panel
    assert 'data-testid="home-warnings-acknowledged">1 acknowledged<' in panel
    assert panel.count("data-warning=") == 2  # the resolved one is left out
    assert "Grade 2 → 5 in 2026-09" in panel
    assert world["c_th"].store_name in panel
    assert reverse("valuation:warnings") in panel
    # another account manager's warning is not there
    other = EarlyWarning.objects.get(customer=world["c_th2"])
    assert f'data-warning="{other.pk}"' not in html


def test_the_account_manager_sees_their_core_and_problem_customers(client, world):
    html = home(client, world["am_th"])
    core = section(html, "home-core")
    assert f'data-customer="{world["c_th"].customer_code}"' in core
    assert "88.5" in core
    assert 'data-testid="home-core-total">1<' in core
    assert reverse("customers:detail", args=[world["c_th"].customer_code]) in core
    problem = section(html, "home-problem")
    assert 'data-testid="home-no-problem"' in problem
    # am_th2: the problem customer, with why
    html = home(client, world["am_th2"])
    problem = section(html, "home-problem")
    assert f'data-customer="{world["c_th2"].customer_code}"' in problem
    assert "credit 55.0" in problem
    assert "violation on record" in problem
    assert 'data-testid="home-no-core"' in section(html, "home-core")
    assert world["c_yx"].store_name not in html


def test_empty_states(client, customer_world, areas, make_user):
    from crm.choices import Role

    am = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_new")
    make_customer(areas["TH"], am)
    html = home(client, am)
    assert 'data-testid="home-no-warnings"' in html
    assert 'data-testid="home-no-core"' in html
    assert 'data-testid="home-no-problem"' in html
    assert 'data-testid="home-warnings-open">0 open<' in html
    assert 'data-testid="home-warnings-acknowledged"' not in html


def test_a_supervisor_gets_the_panels_of_their_areas(client, world):
    html = home(client, world["sup_th"])
    assert section(html, "home-warnings").count("data-warning=") == 3
    problem = section(html, "home-problem")
    assert world["c_th2"].store_name in problem
    assert world["c_yx"].store_name not in problem
    html = home(client, world["sup_gz"])
    problem = section(html, "home-problem")
    # lowest credit first
    assert problem.index(world["c_yx"].store_name) < problem.index(world["c_th2"].store_name)
    assert 'data-testid="home-problem-total">2<' in problem


def test_the_lists_are_short_and_link_to_the_rest(client, world, areas):
    am = world["am_th"]
    for n in range(6):
        customer = make_customer(areas["TH"], am)
        system(customer, is_core=True, current_value=60.0 + n)
        warn(customer, "2026-10")
    html = home(client, am)
    core = section(html, "home-core")
    assert core.count("data-customer=") == 5
    assert 'data-testid="home-core-total">7<' in core
    assert "?is_core=true" in core
    warnings = section(html, "home-warnings")
    assert warnings.count("data-warning=") == 5
    assert "See all 8 unresolved warnings" in warnings
    # counted over every unresolved warning, not the five listed
    assert 'data-testid="home-warnings-open">7 open<' in warnings
    assert 'data-testid="home-warnings-acknowledged">1 acknowledged<' in warnings


@pytest.mark.parametrize("who", ["lo_th", "admin"])
def test_others_get_no_value_panels(client, world, who):
    assert 'data-testid="home-value-panels"' not in home(client, world[who])


def test_the_panels_pin_their_query_count(client, world, django_assert_num_queries):
    from valuation.selectors.customer import value_home_panels

    # customer totals, latest warnings counted with their list, core list, problem list
    with django_assert_num_queries(4):
        panels = value_home_panels(user=world["am_th"])
        # what the lists show is read with them (no deferred column loaded row by row)
        shown = [
            (c.customer_code, c.store_name, c.system.current_value, c.system.credit_score)
            + (c.system.compliance_flag,)
            for kind in ("core", "problem")
            for c in panels[kind]["customers"]
        ]
    assert [row[0] for row in shown] == [
        c.customer_code for kind in ("core", "problem") for c in panels[kind]["customers"]
    ]
    assert panels["warnings"]["total"] == 2
    assert [c.customer_code for c in panels["core"]["customers"]] == [world["c_th"].customer_code]
