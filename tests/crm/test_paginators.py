"""List pages and list endpoints count at most COUNT_CAP rows (crm.paginators): exact below
the cap, "more than …" above it, and Next/Previous right to the end either way.

Seven customers in TH, two a page and a cap of four rows, so every figure can be checked by
hand: pages 1-2 reach 4 rows and see a fifth (capped); page 3 reaches 6 and sees a seventh
(still capped, Next exists); page 4 reaches 8 and counts all seven (exact, no Next)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import paginators
from customers.models import Customer
from customers.views import CustomerListView
from tests.customers.factories import make_customer

PER_PAGE = 2
CAP = 4


@pytest.fixture
def seven_customers(customer_world, areas, monkeypatch):
    monkeypatch.setattr(paginators, "COUNT_CAP", CAP)
    monkeypatch.setattr(CustomerListView, "paginate_by", PER_PAGE)
    # customer_world has two customers in TH (and one in YX): five more make seven in TH.
    for _ in range(5):
        make_customer(areas["TH"], customer_world["am_th"])
    return customer_world


def _page(client, user, query=""):
    client.force_login(user)
    return client.get(reverse("customers:list") + query)


def _codes(response) -> list[str]:
    return [c.customer_code for c in response.context["customers"]]


def test_a_list_within_the_cap_shows_its_exact_count_and_pages(client, seven_customers):
    # given two customers in YX's supervisor's scope (one), and the cap of four
    response = _page(client, seven_customers["sup_yx"])
    # then the count and the pages are exact
    paginator = response.context["paginator"]
    assert (paginator.count, paginator.capped, paginator.num_pages) == (1, False, 1)
    assert b'data-testid="customer-count">1</span>' in response.content


def test_a_list_over_the_cap_says_more_than_and_pages_on(client, seven_customers):
    # when the TH supervisor (seven customers) opens the list
    response = _page(client, seven_customers["sup_th"])
    # then the count stops after the cap and the page says so
    paginator = response.context["paginator"]
    assert (paginator.count, paginator.capped) == (CAP + 1, True)
    html = response.content.decode()
    assert 'data-testid="customer-count">more than 4</span>' in html
    assert "Page 1 of more than 2" in html
    assert "page=2" in html  # Next


def test_paging_past_the_cap_reaches_every_row_and_the_last_page_is_exact(client, seven_customers):
    # when the TH supervisor follows Next to the end
    seen, pages = [], []
    for number in range(1, 5):
        response = _page(client, seven_customers["sup_th"], f"?page={number}")
        seen += _codes(response)
        page = response.context["page_obj"]
        pages.append((page.number, page.has_next(), response.context["paginator"].capped))
    # then each customer is shown once, Next exists while a row follows, and the last page
    # knows the exact count
    assert len(seen) == len(set(seen)) == 7
    assert pages == [(1, True, True), (2, True, True), (3, True, True), (4, False, False)]
    assert "Page 4 of 4" in response.content.decode()
    assert response.context["paginator"].count == 7


def test_a_page_past_the_end_is_not_found(client, seven_customers):
    # (the list views' behaviour before the cap, unchanged: the count is exact there)
    assert _page(client, seven_customers["sup_th"], "?page=5").status_code == 404


def test_the_count_stops_at_the_cap(client, seven_customers):
    # when the list is counted
    client.force_login(seven_customers["sup_th"])
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("customers:list"))
    # then the count reads at most cap + 1 rows (a LIMIT inside the COUNT)
    counts = [q["sql"] for q in captured.captured_queries if "customers_customer" in q["sql"]]
    counts = [sql for sql in counts if "COUNT(" in sql.upper()]
    assert len(counts) == 1
    assert f"LIMIT {CAP + 1}" in counts[0].upper()


def test_the_chinese_page_says_more_than_in_chinese(client, seven_customers):
    client.force_login(seven_customers["sup_th"])
    response = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert "超过 4" in html
    assert "第 1 页，共超过 2 页" in html


@pytest.mark.parametrize("number", [2**58, 2**63, 10**30])
def test_an_absurd_page_number_is_not_found_not_an_error(client, seven_customers, erp, number):
    # when a page whose rows would start past a 64-bit integer is asked for
    page = _page(client, seven_customers["sup_th"], f"?page={number}")
    api = erp.get(reverse("customers_api:customer_list") + f"?page_size=200&page={number}")
    # then both answer that there is no such page (the count's LIMIT stays within 64 bits)
    assert (page.status_code, api.status_code) == (404, 404)
    # and a function view's get_page falls back to the true last page (13 rows, 200 a page)
    assert paginators.CappedPaginator(Customer.objects.all(), 200).get_page(number).number == 1


def test_function_views_fall_back_to_the_true_last_page(seven_customers):
    # given the eight customers of customer_world and the five made here
    paginator = paginators.CappedPaginator(Customer.objects.order_by("pk"), PER_PAGE)
    # when a page far past the end is asked for (get_page, as the function views page)
    page = paginator.get_page(40)
    # then it is the true last page, counted exactly
    assert (page.number, paginator.count, paginator.capped) == (4, 8, False)
    assert len(page.object_list) == 2


def test_the_api_counts_the_same_way_and_next_reaches_every_row(seven_customers, erp):
    # when the integration client (every customer: eight) reads the list two a page
    url, bodies = reverse("customers_api:customer_list") + "?page_size=2", []
    while url:
        bodies.append(erp.get(url).json())
        url = bodies[-1]["next"]
    # then the first pages give a lower bound, the last the exact count, and every row comes
    assert [(b["count"], b["count_exact"]) for b in bodies] == [
        (5, False),
        (5, False),
        (7, False),
        (8, True),
    ]
    codes = [row["customer_code"] for b in bodies for row in b["results"]]
    assert len(codes) == len(set(codes)) == 8
