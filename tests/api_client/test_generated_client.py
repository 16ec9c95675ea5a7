"""An integration through a client generated from the schema, against a live server.

What an ordering system's developer would do: generate a typed client from /api/v1/schema/,
then sync areas, customers, products and orders (with a retry under the same Idempotency-Key,
and a change), read every list to its last page, and meet every documented error. The client
raises on a status the schema does not declare (`raise_on_unexpected_status`), and parses
every body into its models: a value outside a declared enum, a missing key or an undeclared
body fails here. Before this test, the client could not import the visits and service-request
modules, crashed reading an order paid `other`, and parsed no error body at all.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import pkgutil
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from crm.choices import Role
from crm.dates import add_months
from crm.models import ApiToken
from crm.services import api_client_create
from customers.models import Customer
from orders.models import Order
from orders.services import order_sync_many
from tests.allocation.grades import publish_month
from tests.customers.factories import make_customer
from tests.grading.factories import make_grade
from tests.orders.factories import ACTOR, make_product
from tests.services.factories import raise_request
from tests.visits.factories import log_visit, png_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(user) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, prefix=key[:8], digest=ApiToken.digest_of(key))
    return key


@pytest.fixture
def connect(live_server, crm_client):
    """A generated client for the live server: with a token, or anonymous without one."""
    from crm_client.client import AuthenticatedClient, Client

    def make(key: str | None = None):
        if key is None:
            return Client(base_url=live_server.url, raise_on_unexpected_status=True)
        return AuthenticatedClient(
            base_url=live_server.url, token=key, prefix="Token", raise_on_unexpected_status=True
        )

    return make


@pytest.fixture
def erp(connect):
    _user, key = api_client_create(name="ordering-system", actor=ACTOR)
    return connect(key)


@pytest.fixture
def people(areas, make_user):
    return {
        "am": make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_th"),
        "am_yx": make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_yx"),
    }


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def read_all(endpoint, client, **filters) -> list:
    """Every row of a list endpoint, page by page (two a page) until `next` is null."""
    rows, page = [], 1
    while True:
        response = endpoint.sync_detailed(client=client, page=page, page_size=2, **filters)
        assert response.status_code == HTTPStatus.OK, response.content
        rows += response.parsed.results
        if response.parsed.next_ is None:
            assert len(rows) == response.parsed.count
            return rows
        page += 1


# --- the generated code ----------------------------------------------------------------------


def test_the_client_is_generated_from_the_served_schema_and_every_module_imports(
    crm_client, openapi_schema, people, live_server
):
    modules = [
        module.name for module in pkgutil.walk_packages(crm_client.__path__, prefix="crm_client.")
    ]
    for name in modules:
        importlib.import_module(name)  # a module that cannot import fails here
    assert {
        "crm_client.api.visits.visits_create",
        "crm_client.api.visits.visits_with_photo_create",
    } <= set(modules)
    assert "crm_client.api.service_requests.service_requests_create" in modules
    assert "crm_client.api.audits.audit_forms_due" in modules
    # the schema the client was generated from is the one the server serves
    served = httpx.get(
        f"{live_server.url}/api/v1/schema/",
        params={"format": "json"},
        headers={"Authorization": f"Token {token_for(people['am'])}"},
    )
    assert served.json() == openapi_schema


# --- syncs -----------------------------------------------------------------------------------


def test_every_sync_with_a_replay_and_a_change(crm_client, erp, people):
    from crm_client.api.areas import areas_sync_create
    from crm_client.api.customers import customers_sync_create
    from crm_client.api.orders import orders_list, orders_sync_create
    from crm_client.api.products import products_sync_create
    from crm_client.models import (
        AreaSyncItem,
        AreaSyncRequest,
        BusinessFormatEnum,
        CustomerPaymentMethodEnum,
        CustomerSyncItem,
        CustomerSyncRequest,
        MarketTypeEnum,
        OrderLineSync,
        OrderPaymentMethodEnum,
        OrderStatusEnum,
        OrderSyncItem,
        OrderSyncRequest,
        ProductSyncItem,
        ProductSyncRequest,
    )

    def synced(operation, body, key, **expected):
        """Sends `body` under `key`, then again (a replay), and checks both answers."""
        first = operation.sync_detailed(client=erp, body=body, idempotency_key=key)
        again = operation.sync_detailed(client=erp, body=body, idempotency_key=key)
        assert first.status_code == again.status_code == HTTPStatus.OK, first.content
        assert "Idempotent-Replayed" not in first.headers
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.parsed.to_dict() == first.parsed.to_dict()
        report = first.parsed
        got = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
        assert got == {**{"created": 0, "updated": 0, "unchanged": 0}, **expected}, report
        return report

    # areas
    areas = [
        AreaSyncItem(code="FS", name="佛山市"),
        AreaSyncItem(code="NH", name="南海区", parent="FS"),
    ]
    synced(areas_sync_create, AreaSyncRequest(areas=areas), "areas-1", created=2)
    areas[1] = AreaSyncItem(code="NH", name="南海", parent="FS")
    synced(areas_sync_create, AreaSyncRequest(areas=areas), "areas-2", updated=1, unchanged=1)

    # customers, one of them paying by bank transfer (a value of the customers' list only)
    def customer(n: int, **fields) -> CustomerSyncItem:
        return CustomerSyncItem(
            customer_code=f"44060500000{n}",
            store_name=f"南海{n}号店",
            license_number=f"44060599999{n}",
            business_format=BusinessFormatEnum.B,
            market_type=MarketTypeEnum.C,
            area="NH",
            account_manager="am_th",
            **fields,
        )

    customers = [customer(1, payment_method=CustomerPaymentMethodEnum.BANK_TRANSFER), customer(2)]
    synced(customers_sync_create, CustomerSyncRequest(customers=customers), "cust-1", created=2)
    customers[1] = customer(2, phone="13800000002")
    synced(
        customers_sync_create,
        CustomerSyncRequest(customers=customers),
        "cust-2",
        updated=1,
        unchanged=1,
    )
    assert Customer.objects.get(customer_code="440605000001").dynamic.payment_method == (
        "bank_transfer"
    )

    # products
    products = [
        ProductSyncItem(
            code="6901028180566", name="玉溪(软)", wholesale_price="230.00", tar_mg="10.0"
        ),
        ProductSyncItem(code="6901028075862", name="中华(硬)", wholesale_price="450.00"),
    ]
    synced(products_sync_create, ProductSyncRequest(products=products), "prod-1", created=2)
    products[0] = ProductSyncItem(code="6901028180566", name="玉溪(软)", wholesale_price="235.00")
    synced(
        products_sync_create,
        ProductSyncRequest(products=products),
        "prod-2",
        updated=1,
        unchanged=1,
    )

    # orders, one paid `other` (a value of the orders' list only), one refused per item
    def order(number: str, status=OrderStatusEnum.DELIVERED, **fields) -> OrderSyncItem:
        return OrderSyncItem(
            external_id=number,
            customer_code=fields.pop("customer_code", "440605000001"),
            order_date=days_ago(3),
            status=status,
            payment_method=OrderPaymentMethodEnum.OTHER,
            lines=[OrderLineSync(product_code="6901028180566", quantity=5, unit_price="235.00")],
            **fields,
        )

    orders = [order("SO-1"), order("SO-2", customer_code="449999999999")]
    report = synced(orders_sync_create, OrderSyncRequest(orders=orders), "orders-1", created=1)
    [refused] = report.errors
    assert (refused.index, refused.external_id) == (1, "SO-2")
    assert list(refused.errors.additional_properties) == ["customer_code"]
    orders = [order("SO-1", status=OrderStatusEnum.CANCELLED)]
    synced(orders_sync_create, OrderSyncRequest(orders=orders), "orders-2", updated=1)
    assert Order.objects.get(external_id="SO-1").status == "cancelled"

    # the order reads back with its enums
    [stored] = orders_list.sync_detailed(client=erp, external_id="SO-1").parsed.results
    assert (stored.payment_method, stored.status) == (
        OrderPaymentMethodEnum.OTHER,
        OrderStatusEnum.CANCELLED,
    )


def test_allocation_plans_are_synced_and_every_shops_quota_is_read_page_by_page(
    crm_client, erp, areas, people
):
    """What the ordering system does with supply allocation: send a plan (the issue's body),
    replay it, pull every shop's quota for a day by following `next`, and read the warning of
    an order past a quota."""
    from crm_client.api.allocation_plans import allocation_plans_sync_create
    from crm_client.api.allocations import allocations_list
    from crm_client.api.orders import orders_sync_create
    from crm_client.models import (
        AllocationPlanSyncStatusEnum,
        OrderLineSync,
        OrderPaymentMethodEnum,
        OrderStatusEnum,
        OrderSyncItem,
        OrderSyncRequest,
        PlanSyncItem,
        PlanSyncItemQuotas,
        PlanSyncRequest,
    )
    from crm_client.types import UNSET

    # given five shops graded 1, 2, 3, 1, 2 in a published month, and the product
    month = timezone.localdate().replace(day=1)
    shops = [make_customer(areas["TH"], people["am"]) for _n in range(5)]
    for shop, grade in zip(shops, (1, 2, 3, 1, 2), strict=True):
        make_grade(shop, month, grade, grade)
    publish_month(month)
    make_product("6901028001", "450.00")
    end = add_months(month, 1) - dt.timedelta(days=1)
    plan = PlanSyncItem(
        code="ZHZ",
        product_code="6901028001",
        starts_on=month,
        ends_on=end,
        quotas=PlanSyncItemQuotas.from_dict({"1": 30, "2": 20, "3": 10}),
        structure_classes=[1, 2, 3],
        supply=5000,
        status=AllocationPlanSyncStatusEnum.PUBLISHED,
    )
    bad = PlanSyncItem(
        code="NOPE", product_code="6900000000", starts_on=month, ends_on=end, quotas=plan.quotas
    )

    # when the plans are sent, then sent again
    first = allocation_plans_sync_create.sync_detailed(
        client=erp, body=PlanSyncRequest(plans=[plan, bad])
    )
    again = allocation_plans_sync_create.sync_detailed(
        client=erp, body=PlanSyncRequest(plans=[plan])
    )

    # then
    assert (first.parsed.created, first.parsed.updated, first.parsed.unchanged) == (1, 0, 0)
    [refused] = first.parsed.errors
    assert (refused.index, refused.code, refused.field) == (1, "NOPE", "product_code")
    assert (again.parsed.unchanged, again.parsed.errors) == (1, [])

    # every quota, two a page, by following `next` (its cursor)
    rows, cursor = [], UNSET
    while True:
        page = allocations_list.sync_detailed(client=erp, page_size=2, cursor=cursor).parsed
        assert page.on == timezone.localdate()
        rows += page.results
        if page.next_ is None:
            break
        cursor = int(parse_qs(urlsplit(page.next_).query)["cursor"][0])
    assert sorted((r.customer_code, r.grade, r.quota, r.remaining) for r in rows) == sorted(
        (shop.customer_code, grade, (30, 20, 10)[grade - 1], (30, 20, 10)[grade - 1])
        for shop, grade in zip(shops, (1, 2, 3, 1, 2), strict=True)
    )
    assert {(r.plan, r.product_code, r.starts_on, r.ends_on) for r in rows} == {
        ("ZHZ", "6901028001", month, end)
    }
    one = allocations_list.sync_detailed(client=erp, customer=shops[2].customer_code).parsed
    assert [(r.customer_code, r.quota) for r in one.results] == [(shops[2].customer_code, 10)]

    # an order past a quota (grade 3: 10 cartons) is stored, with a warning
    order = OrderSyncItem(
        external_id="SO-OVER",
        customer_code=shops[2].customer_code,
        order_date=timezone.localdate(),
        status=OrderStatusEnum.DELIVERED,
        payment_method=OrderPaymentMethodEnum.CASH,
        lines=[OrderLineSync(product_code="6901028001", quantity=12, unit_price="450.00")],
    )
    report = orders_sync_create.sync_detailed(
        client=erp, body=OrderSyncRequest(orders=[order])
    ).parsed
    assert report.created == 1
    [warning] = report.warnings
    assert (warning.index, warning.external_id, warning.code, warning.field) == (
        0,
        "SO-OVER",
        "over_allocation",
        "lines.0.quantity",
    )
    one = allocations_list.sync_detailed(client=erp, customer=shops[2].customer_code).parsed
    assert [(r.ordered, r.remaining) for r in one.results] == [(12, -2)]


# --- lists -------------------------------------------------------------------------------------


def test_every_list_is_read_to_its_last_page(crm_client, erp, areas, people):
    from crm_client.api.areas import areas_list
    from crm_client.api.customers import customers_list, customers_retrieve
    from crm_client.api.me import me_retrieve
    from crm_client.api.orders import orders_list
    from crm_client.api.products import products_list
    from crm_client.api.service_requests import service_requests_list, service_requests_retrieve
    from crm_client.api.visits import visits_list, visits_retrieve
    from crm_client.models import CustomersListOrderingItem

    # given five customers (two with one name), products, orders of every payment method,
    # visits and service requests
    shops = [make_customer(areas["TH"], people["am"], store_name=f"天河{n}号店") for n in range(4)]
    shops.append(make_customer(areas["YX"], people["am_yx"], store_name="天河1号店"))
    for code in ("P1", "P2", "P3"):
        make_product(code, "100.00")
    rows = [
        {
            "external_id": f"SO-{n}",
            "customer_code": shop.customer_code,
            "order_date": days_ago(n + 1).isoformat(),
            "status": "delivered",
            "payment_method": ("electronic", "cash", "other")[n % 3],
            "lines": [{"product_code": "P1", "quantity": 1, "unit_price": "100.00"}],
        }
        for n, shop in enumerate(shops)
    ]
    assert not order_sync_many(rows=rows, source="ordering-system", actor=ACTOR).errors
    visits = [log_visit(shop, people["am"]) for shop in shops[:3]]
    requests = [raise_request(shop, people["am"]) for shop in shops[:3]]

    # when the integration client reads every list to its end
    assert len(read_all(areas_list, erp)) == 4
    assert len(read_all(products_list, erp)) == 3
    assert {o.payment_method.value for o in read_all(orders_list, erp)} == {
        "electronic",
        "cash",
        "other",
    }
    assert len(read_all(visits_list, erp)) == 3
    assert len(read_all(service_requests_list, erp)) == 3
    # sorted by two keys, sent as a repeated parameter
    ordering = [CustomersListOrderingItem.STORE_NAME, CustomersListOrderingItem.VALUE_3]
    sorted_rows = read_all(customers_list, erp, ordering=ordering)
    expected = Customer.objects.order_by("store_name", "-customer_code")
    assert [c.customer_code for c in sorted_rows] == [c.customer_code for c in expected]

    # and one of each by its key, and who it is
    one = customers_retrieve.sync_detailed(shops[0].customer_code, client=erp).parsed
    assert one.static.store_name == "天河0号店"
    assert visits_retrieve.sync_detailed(visits[0].pk, client=erp).parsed.id == visits[0].pk
    request = service_requests_retrieve.sync_detailed(requests[0].pk, client=erp).parsed
    assert request.number == requests[0].number
    assert me_retrieve.sync_detailed(client=erp).parsed.username == "ordering-system"


# --- people's writes ----------------------------------------------------------------------------


def test_a_person_logs_visits_with_and_without_a_photo_and_raises_a_request(
    crm_client, connect, areas, people
):
    from crm_client.api.service_requests import service_requests_create
    from crm_client.api.visits import visits_create, visits_with_photo_create
    from crm_client.models import (
        FollowUpInput,
        ServiceRequestCreate,
        ServiceRequestPriorityEnum,
        ServiceRequestTypeEnum,
        VisitCreate,
        VisitCreateWithPhoto,
        VisitTypeEnum,
    )
    from crm_client.types import File

    shop = make_customer(areas["TH"], people["am"])
    am = connect(token_for(people["am"]))
    arrived = timezone.localtime() - dt.timedelta(hours=1)
    due = timezone.localdate() + dt.timedelta(days=3)

    logged = visits_create.sync_detailed(
        client=am,
        body=VisitCreate(
            customer_code=shop.customer_code,
            visited_at=arrived,
            visit_type=VisitTypeEnum.ROUTINE,
            purpose="例行拜访",
            follow_ups=[FollowUpInput(action="送价签", due_date=due)],
        ),
    )
    assert logged.status_code == HTTPStatus.CREATED, logged.content
    assert logged.headers["Location"].endswith(f"/api/v1/visits/{logged.parsed.id}/")
    assert [f.action for f in logged.parsed.follow_ups] == ["送价签"]

    with_photo = visits_with_photo_create.sync_detailed(
        client=am,
        body=VisitCreateWithPhoto(
            customer_code=shop.customer_code,
            visited_at=arrived,
            visit_type=VisitTypeEnum.ORDER,
            purpose="拍陈列",
            photo=File(
                payload=io.BytesIO(png_bytes()), file_name="shelf.png", mime_type="image/png"
            ),
            follow_ups=[
                FollowUpInput(action="补货", due_date=due),
                FollowUpInput(action="回电", due_date=due),
            ],
        ),
    )
    assert with_photo.status_code == HTTPStatus.CREATED, with_photo.content
    assert with_photo.parsed.has_photo is True
    assert [f.action for f in with_photo.parsed.follow_ups] == ["补货", "回电"]

    raised = service_requests_create.sync_detailed(
        client=am,
        body=ServiceRequestCreate(
            customer_code=shop.customer_code,
            request_type=ServiceRequestTypeEnum.SUPPLY,
            priority=ServiceRequestPriorityEnum.HIGH,
            description="希望增加中华(硬)的货源",
            visit=logged.parsed.id,
        ),
    )
    assert raised.status_code == HTTPStatus.CREATED, raised.content
    assert raised.headers["Location"].endswith(f"/api/v1/service-requests/{raised.parsed.id}/")
    assert raised.parsed.visit == logged.parsed.id


# --- errors ------------------------------------------------------------------------------------


def test_every_documented_error_parses_into_the_error_model(
    crm_client, connect, erp, areas, people, live_server
):
    from crm_client.api.areas import areas_list, areas_sync_create
    from crm_client.api.customers import customers_retrieve
    from crm_client.api.orders import orders_list, orders_sync_create
    from crm_client.api.products import products_sync_create
    from crm_client.api.service_requests import service_requests_create
    from crm_client.api.visits import visits_create, visits_retrieve
    from crm_client.models import (
        ApiError,
        AreaSyncItem,
        AreaSyncRequest,
        OrderSyncRequest,
        ProductSyncItem,
        ProductSyncRequest,
        ServiceRequestCreate,
        ServiceRequestPriorityEnum,
        ServiceRequestTypeEnum,
        VisitCreate,
        VisitTypeEnum,
    )

    shop = make_customer(areas["TH"], people["am"])
    am = connect(token_for(people["am"]))

    def error(response, status: HTTPStatus, code: str | None) -> ApiError:
        assert response.status_code == status, response.content
        assert isinstance(response.parsed, ApiError), response.content
        assert code is None or response.parsed.code == code, response.parsed
        assert response.parsed.detail
        return response.parsed

    # 400: a field refused, a key that is not a key, a body that is not JSON
    refused = service_requests_create.sync_detailed(
        client=am,
        body=ServiceRequestCreate(
            customer_code=shop.customer_code,
            request_type=ServiceRequestTypeEnum.OTHER,
            priority=ServiceRequestPriorityEnum.LOW,
            description="",
        ),
    )
    assert list(error(refused, HTTPStatus.BAD_REQUEST, "invalid").errors.additional_properties) == [
        "description"
    ]
    visit = VisitCreate(
        customer_code=shop.customer_code,
        visited_at=timezone.localtime() + dt.timedelta(hours=3),
        visit_type=VisitTypeEnum.ROUTINE,
        purpose="未来",
    )
    future = error(
        visits_create.sync_detailed(client=am, body=visit), HTTPStatus.BAD_REQUEST, "invalid"
    )
    assert "visited_at" in future.errors.additional_properties
    long_key = orders_sync_create.sync_detailed(
        client=erp, body=OrderSyncRequest(orders=[]), idempotency_key="k" * 101
    )
    assert (
        "Idempotency-Key"
        in error(long_key, HTTPStatus.BAD_REQUEST, "invalid").errors.additional_properties
    )
    not_json = erp.get_httpx_client().post(
        "/api/v1/orders/sync/",
        content=b'{"orders": [',
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == HTTPStatus.BAD_REQUEST
    assert ApiError.from_dict(not_json.json()).code == "parse_error"

    # 401: no token, a wrong one
    error(areas_list.sync_detailed(client=connect()), HTTPStatus.UNAUTHORIZED, "not_authenticated")
    error(
        areas_list.sync_detailed(client=connect("not-a-token")),
        HTTPStatus.UNAUTHORIZED,
        "authentication_failed",
    )

    # 403: an integration client logs no visit; a person syncs nothing
    visit.visited_at = timezone.localtime() - dt.timedelta(hours=1)
    error(
        visits_create.sync_detailed(client=erp, body=visit),
        HTTPStatus.FORBIDDEN,
        "permission_denied",
    )
    error(
        orders_sync_create.sync_detailed(client=am, body=OrderSyncRequest(orders=[])),
        HTTPStatus.FORBIDDEN,
        "permission_denied",
    )

    # 404: an object unknown or out of scope, a page past the end, a path matching no view
    error(
        customers_retrieve.sync_detailed("449999999999", client=erp),
        HTTPStatus.NOT_FOUND,
        "not_found",
    )
    error(visits_retrieve.sync_detailed(999999, client=am), HTTPStatus.NOT_FOUND, "not_found")
    error(orders_list.sync_detailed(client=erp, page=99), HTTPStatus.NOT_FOUND, "not_found")
    other = make_customer(areas["YX"], people["am_yx"])
    visit.customer_code = other.customer_code
    scoped = error(
        visits_create.sync_detailed(client=am, body=visit), HTTPStatus.NOT_FOUND, "not_found"
    )
    assert "customer_code" in scoped.errors.additional_properties
    nowhere = httpx.get(f"{live_server.url}/api/v1/nowhere/", headers={"Authorization": "Token x"})
    assert ApiError.from_dict(nowhere.json()).code == "not_found"

    # 409: an Idempotency-Key reused with another body; a visit draft sent twice
    first = ProductSyncRequest(
        products=[ProductSyncItem(code="P1", name="一", wholesale_price="10.00")]
    )
    assert (
        products_sync_create.sync_detailed(client=erp, body=first, idempotency_key="k").status_code
        == 200
    )
    changed = ProductSyncRequest(
        products=[ProductSyncItem(code="P1", name="一", wholesale_price="11.00")]
    )
    error(
        products_sync_create.sync_detailed(client=erp, body=changed, idempotency_key="k"),
        HTTPStatus.CONFLICT,
        None,  # the code is the idempotency mechanism's own
    )
    visit.customer_code = shop.customer_code
    visit.client_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    stored = visits_create.sync_detailed(client=am, body=visit)
    assert stored.status_code == HTTPStatus.CREATED
    again = visits_create.sync_detailed(client=am, body=visit)
    assert (
        "client_id"
        in error(again, HTTPStatus.CONFLICT, "duplicate_visit").errors.additional_properties
    )
    assert again.headers["Location"] == stored.headers["Location"]

    # 413: more items than a sync takes
    too_many = AreaSyncRequest(areas=[AreaSyncItem(code=f"A{n}", name="区") for n in range(1001)])
    error(
        areas_sync_create.sync_detailed(client=erp, body=too_many),
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "payload_too_large",
    )


def test_a_person_reads_the_forms_due_and_sends_the_answers_with_the_visit(
    crm_client, connect, areas, people
):
    from crm_client.api.audits import audit_forms_due
    from crm_client.api.visits import visits_create
    from crm_client.models import AuditAnswerInput, AuditInput, VisitCreate, VisitTypeEnum

    from audits.models import AuditForm
    from tests.audits.factories import make_form

    shop = make_customer(areas["TH"], people["am"])
    form = make_form(
        "shelf",
        [
            {"kind": "yes_no", "key": "tags", "is_display": True, "required": True},
            {"kind": "product_shelf", "product_scope": "listed", "products": [make_product("A")]},
        ],
    )
    AuditForm.objects.filter(pk=form.pk).update(activated_at=timezone.now() - dt.timedelta(days=1))
    am = connect(token_for(people["am"]))

    due = audit_forms_due.sync_detailed(client=am, customer=shop.customer_code)
    assert due.status_code == HTTPStatus.OK, due.content
    (asked,) = due.parsed
    assert [(q.type_.value, q.product_code) for q in asked.questions] == [
        ("yes_no", None),
        ("product_shelf", "A"),
    ]

    answers = [
        AuditAnswerInput(question=q.id, value=q.type_.value == "yes_no")
        if q.product_code is None
        else AuditAnswerInput(question=q.id, value=True, product_code=q.product_code)
        for q in asked.questions
    ]
    logged = visits_create.sync_detailed(
        client=am,
        body=VisitCreate(
            customer_code=shop.customer_code,
            visited_at=timezone.localtime() - dt.timedelta(hours=1),
            visit_type=VisitTypeEnum.ROUTINE,
            purpose="检查陈列",
            audits=[AuditInput(form=asked.id, answers=answers)],
        ),
    )
    assert logged.status_code == HTTPStatus.CREATED, logged.content
    (audit,) = logged.parsed.audits
    assert audit.form_code == "shelf" and audit.display_compliance == 1
    assert [(a.key, a.product_code, a.value) for a in audit.answers] == [
        ("tags", None, True),
        ("q2", "A", True),
    ]
