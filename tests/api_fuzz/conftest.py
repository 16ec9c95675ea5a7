"""A small world for the API fuzz tests, and the WSGI app they call in-process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone

from crm.choices import Role
from crm.models import ApiToken
from crm.services import api_client_create
from tests.customers.factories import make_customer
from tests.orders.factories import ACTOR, make_product
from tests.services.factories import raise_request
from tests.visits.factories import log_visit

# Fixed keys: the fuzz tests send `Authorization: Token <key>`; only digests are stored.
ACCOUNT_MANAGER_KEY = "fuzz-account-manager-key"
INTEGRATION_CLIENT_KEY = "fuzz-integration-client-key"


def _token(user, key: str) -> None:
    ApiToken.objects.create(user=user, prefix=key[:8], digest=ApiToken.digest_of(key))


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, called in the test's own transaction. Like Django's test client,
    it must not close the connection at the end of each request (that would end the test's
    transaction), so `close_old_connections` is unhooked while a fuzz test runs."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(areas, make_user):
    """Two account managers in TH and one in YX with a customer each, a supervisor, products,
    an order per customer, a visit and a service request; an integration client with a token,
    and a token for the account manager am_th.

    Customer and product codes are fixed, and are the ones the schema's examples use, so the
    examples reach the services with existing rows."""
    from orders.services import order_sync_many

    am_th = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_th")
    am_th2 = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_th2")
    am_yx = make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_yx")
    make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_th")
    customers = [
        make_customer(areas["TH"], am_th, customer_code="440100000001", store_name="天河一号店"),
        make_customer(areas["TH"], am_th2, customer_code="440100100001", store_name="天河二号店"),
        make_customer(areas["YX"], am_yx, customer_code="440100000002", store_name="越秀店"),
    ]
    _token(am_th, ACCOUNT_MANAGER_KEY)
    client, _key = api_client_create(name="erp_fuzz", actor=ACTOR)
    _token(client, INTEGRATION_CLIENT_KEY)
    products = [
        make_product("6901028180566", "230.00", brand="玉溪", is_key_brand=True),
        make_product("6901028075862", "450.00", brand="中华"),
        make_product("6901028001234", "95.50", brand="红双喜", active=False),
    ]
    day = timezone.localdate() - dt.timedelta(days=3)
    rows = [
        {
            "external_id": f"SO-FUZZ-{n}",
            "customer_code": customer.customer_code,
            "order_date": day.isoformat(),
            "status": "delivered",
            "payment_method": "electronic",
            "paid_on_time": True,
            "payment_date": None,
            "lines": [
                {"product_code": p.code, "quantity": n + 1, "unit_price": str(p.wholesale_price)}
                for p in products[:2]
            ],
        }
        for n, customer in enumerate(customers)
    ]
    report = order_sync_many(rows=rows, source=client.username, actor=ACTOR)
    assert not report.errors, report.errors
    return {
        "am_th": am_th,
        "erp": client,
        "customers": customers,
        "products": products,
        "visit": log_visit(customers[0], am_th),
        "service_request": raise_request(customers[0], am_th),
    }
