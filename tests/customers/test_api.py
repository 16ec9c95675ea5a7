"""Customers and areas through the REST API: scoped reads, filters, query counts, syncs."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import AuditSource, Role
from crm.models import Area, AuditEntry
from customers.models import Customer, CustomerSystem
from tests.api_errors import api_error, field_errors
from tests.customers.factories import make_customer

LIST = reverse("customers_api:customer_list")
CUSTOMER_SYNC = reverse("customers_api:customer_sync")
AREA_SYNC = reverse("customers_api:area_sync")


def detail(code: str) -> str:
    return reverse("customers_api:customer_detail", args=[code])


def codes(response) -> list[str]:
    return [row["customer_code"] for row in response.json()["results"]]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    """An API client signed in (by session) as the given user."""

    def sign_in(user):
        api.force_login(user)
        return api

    return sign_in


def new_customer(n: int, **fields) -> dict:
    """A minimal valid sync item: codes and licence numbers are 12 digits."""
    return {
        "customer_code": f"44019999{n:04d}",
        "store_name": f"同步商店{n}",
        "license_number": f"99019999{n:04d}",
        "business_format": "B",
        "market_type": "C",
        "area": "TH",
        **fields,
    }


def customer_audit_count() -> int:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer)
    ).count()


# --- authentication and permissions -----------------------------------------------------


def test_anonymous_requests_are_refused_with_401(api, customer_world):
    for method, url in [
        ("get", LIST),
        ("get", detail(customer_world["c_th"].customer_code)),
        ("post", CUSTOMER_SYNC),
        ("post", AREA_SYNC),
    ]:
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code == 401, url


def test_account_manager_may_not_sync(as_user, customer_world):
    api = as_user(customer_world["am_th"])
    for url, body in [(CUSTOMER_SYNC, {"customers": []}), (AREA_SYNC, {"areas": []})]:
        response = api.post(url, body, format="json")
        assert response.status_code == 403, url
    assert api.post(CUSTOMER_SYNC, {"customers": [new_customer(1)]}).status_code == 403
    assert not Customer.objects.filter(customer_code=new_customer(1)["customer_code"]).exists()


def test_supervisor_may_not_sync(as_user, customer_world):
    response = as_user(customer_world["sup_gz"]).post(AREA_SYNC, {"areas": []}, format="json")
    assert response.status_code == 403


def test_administrators_and_superusers_may_sync(as_user, customer_world, make_user):
    assert as_user(customer_world["admin"]).post(AREA_SYNC, {"areas": []}).status_code == 200
    root = make_user(Role.SUPERVISOR, is_superuser=True)
    assert as_user(root).post(CUSTOMER_SYNC, {"customers": []}).status_code == 200


# --- reading customers ------------------------------------------------------------------


def test_list_item_has_the_code_and_three_blocks(as_user, customer_world):
    # given a customer with a licence officer and a phone
    c_th = customer_world["c_th"]
    c_th.license_officer = customer_world["lo_th"]
    c_th.save()

    # when the administrator lists customers
    response = as_user(customer_world["admin"]).get(LIST)

    # then each item carries the code and the static, dynamic and system blocks
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert body["count"] == 3
    item = next(row for row in body["results"] if row["customer_code"] == c_th.customer_code)
    assert set(item) == {"customer_code", "static", "dynamic", "system"}
    assert item["static"]["store_name"] == "天河一号店"
    assert item["static"]["area"] == "TH"
    assert item["static"]["account_manager"] == "am_th"
    assert item["static"]["license_officer"] == "lo_th"
    assert item["dynamic"]["phone"] == "13800000001"
    assert item["dynamic"]["status"] == "active"
    assert "grade" in item["system"] and item["system"]["grade"] is None
    assert "grade" not in item["static"] and "phone" not in item["static"]


def test_account_manager_sees_only_their_own_customers(as_user, customer_world):
    response = as_user(customer_world["am_th"]).get(LIST)
    assert codes(response) == [customer_world["c_th"].customer_code]


def test_supervisor_sees_the_customers_of_their_areas(as_user, customer_world):
    th = as_user(customer_world["sup_th"]).get(LIST)
    assert codes(th) == sorted(
        [customer_world["c_th"].customer_code, customer_world["c_th2"].customer_code]
    )
    gz = as_user(customer_world["sup_gz"]).get(LIST)
    assert gz.json()["count"] == 3


def test_integration_client_sees_every_customer(erp, customer_world, areas):
    make_customer(areas["SZ"])
    assert erp.get(LIST).json()["count"] == 4


def test_detail_gives_one_customer_in_the_same_shape(as_user, customer_world):
    c_th = customer_world["c_th"]
    response = as_user(customer_world["am_th"]).get(detail(c_th.customer_code))
    assert response.status_code == 200
    body = response.json()
    assert body["customer_code"] == c_th.customer_code
    assert set(body) == {"customer_code", "static", "dynamic", "system"}
    assert body["static"]["account_manager"] == "am_th"


def test_detail_of_another_managers_customer_is_404(as_user, customer_world):
    api = as_user(customer_world["am_th"])
    assert api.get(detail(customer_world["c_th2"].customer_code)).status_code == 404
    assert api.get(detail("440100999999")).status_code == 404


def test_list_filters_by_search_text(as_user, customer_world):
    api = as_user(customer_world["admin"])
    assert codes(api.get(LIST, {"q": "越秀"})) == [customer_world["c_yx"].customer_code]
    code = customer_world["c_th2"].customer_code
    assert codes(api.get(LIST, {"q": code})) == [code]


def test_list_filters_by_area_including_sub_areas(as_user, customer_world, areas):
    make_customer(areas["SZ"])
    api = as_user(customer_world["admin"])
    assert api.get(LIST, {"area": "GZ"}).json()["count"] == 3
    assert codes(api.get(LIST, {"area": "YX"})) == [customer_world["c_yx"].customer_code]


def test_list_filters_by_business_format(as_user, customer_world, areas):
    shop = make_customer(areas["TH"], business_format="B")
    super_ = make_customer(areas["TH"], business_format="S")
    api = as_user(customer_world["admin"])
    assert codes(api.get(LIST, {"business_format": "B"})) == [shop.customer_code]
    both = api.get(LIST, {"business_format": ["B", "S"]})
    assert codes(both) == sorted([shop.customer_code, super_.customer_code])


def test_list_is_sorted_by_the_ordering_parameter(as_user, customer_world):
    api = as_user(customer_world["admin"])
    names = [
        row["static"]["store_name"]
        for row in api.get(LIST, {"ordering": "-store_name"}).json()["results"]
    ]
    assert names == sorted(names, reverse=True)
    default = codes(api.get(LIST))
    assert default == sorted(default)


def test_list_sorts_by_every_key_given_repeated_or_comma_separated(as_user, customer_world):
    # given two customers with one store name, so the second key decides between them
    api = as_user(customer_world["admin"])
    same = [customer_world["c_th"].pk, customer_world["c_th2"].pk]
    Customer.objects.filter(pk__in=same).update(store_name="同名店")
    expected = list(
        Customer.objects.order_by("store_name", "-customer_code").values_list(
            "customer_code", flat=True
        )
    )
    by_code_only = list(
        Customer.objects.order_by("-customer_code").values_list("customer_code", flat=True)
    )
    assert expected != by_code_only

    # when
    repeated = codes(api.get(f"{LIST}?ordering=store_name&ordering=-customer_code"))
    commas = codes(api.get(LIST, {"ordering": "store_name,-customer_code"}))

    # then both keys apply, in the order given
    assert repeated == commas == expected


def test_list_refuses_an_unknown_filter_value(as_user, customer_world):
    response = as_user(customer_world["admin"]).get(LIST, {"business_format": "?"})
    assert "business_format" in field_errors(response, 400, "invalid")


def test_list_is_paged(as_user, customer_world):
    body = as_user(customer_world["admin"]).get(LIST, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None


def test_list_query_count_does_not_grow_with_the_page(
    as_user, customer_world, areas, django_assert_num_queries
):
    # given customers that each refer to an area, an account manager and a licence officer
    Customer.objects.update(license_officer=customer_world["lo_th"])
    api = as_user(customer_world["sup_gz"])

    # session, user, the supervisor's areas, the area tree, count, page
    with django_assert_num_queries(6):
        response = api.get(LIST)
    assert response.json()["count"] == 3

    # when there are more customers, with other managers and licence officers
    for n in range(7):
        owner = [customer_world["am_th"], customer_world["am_th2"], customer_world["am_yx"]][n % 3]
        make_customer(owner.areas.first(), owner, license_officer="lo_th")

    # then the same number of queries gives every row
    with django_assert_num_queries(6):
        response = api.get(LIST)
    assert response.json()["count"] == 10
    assert all(row["static"]["license_officer"] == "lo_th" for row in response.json()["results"])


# --- syncing areas ----------------------------------------------------------------------


def test_area_sync_creates_updates_and_reports_errors(erp, areas):
    # given the areas GZ > TH, YX and SZ
    body = {
        "areas": [
            {"code": "FS", "name": "佛山市"},
            {"code": "NH", "name": "南海区", "parent": "FS"},
            {"code": "TH", "name": "天河区", "parent": "GZ"},
            {"code": "YX", "name": "越秀新区", "parent": "GZ"},
            {"code": "NS", "name": "南沙区", "parent": "NOPE"},
            {"name": "无编码"},
            {"code": "bad code!", "name": "x"},
        ]
    }

    # when the integration client syncs them
    response = erp.post(AREA_SYNC, body, format="json")

    # then each area is handled on its own
    assert response.status_code == 200
    report = response.json()
    assert {k: report[k] for k in ("created", "updated", "unchanged")} == {
        "created": 2,
        "updated": 1,
        "unchanged": 1,
    }
    assert [(e["index"], e["code"], sorted(e["errors"])) for e in report["errors"]] == [
        (4, "NS", ["parent"]),
        (5, None, ["code"]),
        (6, "bad code!", ["code"]),
    ]
    assert Area.objects.get(code="NH").parent.code == "FS"
    assert Area.objects.get(code="YX").name == "越秀新区"
    assert not Area.objects.filter(code="NS").exists()
    entry = AuditEntry.objects.filter(object_id=str(Area.objects.get(code="FS").pk)).first()
    assert entry.source == AuditSource.API and entry.actor_label == "erp"


def test_area_sync_replay_changes_nothing(erp, areas):
    body = {"areas": [{"code": "FS", "name": "佛山市"}, {"code": "YX", "name": "越秀新区"}]}
    erp.post(AREA_SYNC, body, format="json")
    before = AuditEntry.objects.count()

    report = erp.post(AREA_SYNC, body, format="json").json()

    assert report == {"created": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert AuditEntry.objects.count() == before


def test_area_sync_refuses_a_cycle(erp, areas):
    report = erp.post(AREA_SYNC, {"areas": [{"code": "GZ", "name": "广州市", "parent": "TH"}]})
    assert report.json()["errors"][0]["errors"]["parent"]
    assert Area.objects.get(code="GZ").parent is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "areas"),
        ({"areas": "GZ"}, "areas"),
        ([{"code": "GZ"}], "areas"),
        ({"areas": [], "area": []}, "area"),
    ],
)
def test_area_sync_refuses_a_body_of_the_wrong_shape(erp, areas, body, field):
    response = erp.post(AREA_SYNC, body, format="json")
    assert field in field_errors(response, 400, "invalid")


def test_area_sync_reports_an_item_that_is_not_an_object_and_keeps_the_others(erp, areas):
    body = {"areas": [["GZ", "广州"], "GZ", {"code": "BY", "name": "白云区", "parent": "GZ"}]}
    report = erp.post(AREA_SYNC, body, format="json").json()
    assert report["created"] == 1
    assert [(e["index"], e["code"], list(e["errors"])) for e in report["errors"]] == [
        (0, None, ["non_field_errors"]),
        (1, None, ["non_field_errors"]),
    ]


def test_area_sync_refuses_an_unknown_key_naming_it(erp, areas):
    # given a mistyped key in one area
    body = {
        "areas": [
            {"code": "BY", "name": "白云区", "parnet": "GZ"},
            {"code": "HZ", "name": "海珠区"},
        ]
    }
    # when
    report = erp.post(AREA_SYNC, body, format="json").json()
    # then the area is refused, naming the key, and the other stored
    assert report["errors"] == [
        {"index": 0, "code": "BY", "errors": {"parnet": ["Unknown field."]}}
    ]
    assert report["created"] == 1
    assert not Area.objects.filter(code="BY").exists()


def test_area_and_customer_syncs_refuse_more_than_1000_items_with_413(erp, customer_world):
    areas = [{"code": f"A{n}", "name": f"区{n}"} for n in range(1001)]
    body = api_error(erp.post(AREA_SYNC, {"areas": areas}, format="json"), 413)
    assert body["code"] == "payload_too_large"
    assert "1000" in body["detail"]
    customers = [{"customer_code": f"4401999{n:05d}"} for n in range(1001)]
    api_error(erp.post(CUSTOMER_SYNC, {"customers": customers}, format="json"), 413)
    assert not Area.objects.filter(code="A0").exists()


def test_area_sync_replays_an_idempotency_key(erp, areas):
    body = {"areas": [{"code": "BY", "name": "白云区", "parent": "GZ"}]}
    first = erp.post(AREA_SYNC, body, format="json", HTTP_IDEMPOTENCY_KEY="areas-1")
    again = erp.post(AREA_SYNC, body, format="json", HTTP_IDEMPOTENCY_KEY="areas-1")
    assert (
        again.json() == first.json() == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    )
    assert again["Idempotent-Replayed"] == "true"
    other = {"areas": [{"code": "BY", "name": "白云", "parent": "GZ"}]}
    api_error(erp.post(AREA_SYNC, other, format="json", HTTP_IDEMPOTENCY_KEY="areas-1"), 409)


# --- syncing customers ------------------------------------------------------------------


def test_customer_sync_creates_customers(erp, customer_world):
    rows = [new_customer(1, account_manager="am_th", phone="13900000001"), new_customer(2)]

    response = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "warnings": [],
    }
    created = Customer.objects.select_related("dynamic").get(customer_code="440199990001")
    assert created.account_manager == customer_world["am_th"]
    assert created.dynamic.phone == "13900000001"
    assert CustomerSystem.objects.filter(customer=created).exists()


def test_customer_sync_minimal_create(erp, areas):
    row = {
        "customer_code": "440199990009",
        "store_name": "最小商店",
        "license_number": "990199990009",
        "business_format": "Z",
        "market_type": "X",
        "area": "YX",
    }
    report = erp.post(CUSTOMER_SYNC, {"customers": [row]}, format="json").json()
    assert report["created"] == 1, report
    assert erp.get(detail("440199990009")).json()["static"]["area"] == "YX"


def test_customer_sync_replay_is_unchanged_and_writes_no_history(erp, customer_world):
    rows = [new_customer(1, account_manager="am_th"), new_customer(2, latitude="23.123456")]
    erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json")
    before = AuditEntry.objects.count()

    report = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()

    assert report == {"created": 0, "updated": 0, "unchanged": 2, "errors": [], "warnings": []}
    assert AuditEntry.objects.count() == before


def test_customer_sync_warns_of_possible_duplicates_and_stores_the_items(erp, customer_world):
    # given c_th (phone 13800000001) and a shop on 天河路 5 号
    c_th = customer_world["c_th"]
    erp.post(CUSTOMER_SYNC, {"customers": [new_customer(1, address="天河路 5 号")]}, format="json")
    rows = [
        # the same phone written another way
        new_customer(2, phone="+86 138-0000-0001"),
        # the same address written another way, in another area
        new_customer(3, address="天河路５號", area="YX"),
        new_customer(4, phone="13700000000"),
    ]

    report = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()

    assert report["created"] == 3 and not report["errors"]
    by_index = {(w["index"], w["field"]): w for w in report["warnings"]}
    assert set(by_index) == {(0, "phone"), (1, "address")}
    phone = by_index[(0, "phone")]
    assert phone["code"] == "possible_duplicate"
    assert phone["customer_code"] == "440199990002"
    assert phone["matches"] == [c_th.customer_code]
    assert c_th.customer_code in phone["message"]
    assert by_index[(1, "address")]["matches"] == ["440199990001"]
    # stored as sent
    stored = Customer.objects.select_related("dynamic").get(customer_code="440199990002")
    assert stored.dynamic.phone == "+86 138-0000-0001"


def test_customer_sync_warns_when_an_update_takes_another_shops_phone(erp, customer_world):
    erp.post(CUSTOMER_SYNC, {"customers": [new_customer(1)]}, format="json")
    c_th = customer_world["c_th"]

    changed = erp.post(
        CUSTOMER_SYNC, {"customers": [new_customer(1, phone="138 0000 0001")]}, format="json"
    ).json()
    again = erp.post(
        CUSTOMER_SYNC, {"customers": [new_customer(1, phone="138 0000 0001")]}, format="json"
    ).json()

    assert changed["updated"] == 1
    assert [(w["field"], w["matches"]) for w in changed["warnings"]] == [
        ("phone", [c_th.customer_code])
    ]
    assert again["unchanged"] == 1 and again["warnings"] == []


def test_customer_sync_takes_json_numbers_digit_for_digit(erp, customer_world):
    # given coordinates sent as JSON numbers (23.1 is not exact as a float)
    rows = [new_customer(1, latitude=23.1, longitude=113.264385, registered_capital=50000)]

    # when they are synced twice
    first = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()
    replay = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()

    # then they are stored as sent, and the replay finds nothing to change
    assert first["created"] == 1, first
    assert replay["unchanged"] == 1, replay
    body = erp.get(detail(rows[0]["customer_code"])).json()
    assert Decimal(body["dynamic"]["latitude"]) == Decimal("23.1")
    assert body["dynamic"]["longitude"] == "113.264385"
    assert body["static"]["registered_capital"] == "50000.00"


def test_customer_sync_update_is_recorded_as_an_api_change(erp, customer_world):
    # given a customer made by the sync
    erp.post(CUSTOMER_SYNC, {"customers": [new_customer(1)]}, format="json")

    # when one of its fields changes in the next sync
    row = new_customer(1, store_name="改名商店")
    report = erp.post(CUSTOMER_SYNC, {"customers": [row]}, format="json").json()

    # then it is updated, and the history names the API client and the source
    assert report["updated"] == 1
    customer = Customer.objects.get(customer_code=row["customer_code"])
    assert customer.store_name == "改名商店"
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        field="store_name",
    )
    assert entry.source == AuditSource.API
    assert entry.actor_label == "erp"
    assert (entry.old_value, entry.new_value) == ("同步商店1", "改名商店")


def test_customer_sync_reports_an_unknown_area_and_stores_the_others(erp, customer_world):
    rows = [new_customer(1), new_customer(2, area="NOWHERE"), new_customer(3)]

    report = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()

    assert report["created"] == 2
    assert [(e["index"], e["code"], list(e["errors"])) for e in report["errors"]] == [
        (1, "440199990002", ["area"])
    ]
    assert set(
        Customer.objects.filter(customer_code__startswith="44019999").values_list(
            "customer_code", flat=True
        )
    ) == {"440199990001", "440199990003"}


def test_customer_sync_never_writes_a_system_field(erp, customer_world):
    code = customer_world["c_th"].customer_code
    before = customer_audit_count()

    report = erp.post(
        CUSTOMER_SYNC,
        {"customers": [{"customer_code": code, "grade": 30}, new_customer(1, grade=5)]},
        format="json",
    ).json()

    assert report["created"] == 0 and report["updated"] == 0
    assert [(e["index"], list(e["errors"])) for e in report["errors"]] == [
        (0, ["grade"]),
        (1, ["grade"]),
    ]
    assert CustomerSystem.objects.get(customer__customer_code=code).grade is None
    assert not Customer.objects.filter(customer_code="440199990001").exists()
    assert customer_audit_count() == before


def test_customer_sync_reports_invalid_values_by_field(erp, customer_world):
    rows = [
        new_customer(1, customer_code="12345"),
        new_customer(2, business_format="?", license_number="x"),
        {"store_name": "无编码"},
    ]
    report = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()
    errors = {e["index"]: sorted(e["errors"]) for e in report["errors"]}
    assert errors == {
        0: ["customer_code"],
        1: ["business_format", "license_number"],
        2: ["customer_code"],
    }
    assert report["created"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"customers": {"customer_code": "440199990001"}},
        [{"customer_code": "440199990001"}],
        {"customers": [], "customer": [{"customer_code": "440199990001"}]},
    ],
)
def test_customer_sync_refuses_a_body_of_the_wrong_shape(erp, customer_world, body):
    before = Customer.objects.count()
    response = erp.post(CUSTOMER_SYNC, body, format="json")
    assert field_errors(response, 400, "invalid")
    assert Customer.objects.count() == before


def test_customer_sync_reports_an_item_that_is_not_an_object_and_keeps_the_others(
    erp, customer_world
):
    rows = ["440199990001", None, new_customer(3)]
    report = erp.post(CUSTOMER_SYNC, {"customers": rows}, format="json").json()
    assert report["created"] == 1
    assert [(e["index"], list(e["errors"])) for e in report["errors"]] == [
        (0, ["non_field_errors"]),
        (1, ["non_field_errors"]),
    ]


def test_customer_sync_refuses_malformed_json(erp, customer_world):
    response = erp.post(CUSTOMER_SYNC, '{"customers": [', content_type="application/json")
    assert response.status_code == 400
    response = erp.post(CUSTOMER_SYNC, '{"customers": [NaN]}', content_type="application/json")
    assert response.status_code == 400


def test_customer_sync_takes_json_only(erp, customer_world):
    response = erp.post(CUSTOMER_SYNC, {"customers": "x"}, format="multipart")
    assert response.status_code == 415


def test_schema_documents_the_customer_endpoints(erp):
    schema = erp.get(reverse("api:schema"), {"format": "json"}).json()
    for path in (
        "/api/v1/customers/",
        "/api/v1/customers/{customer_code}/",
        "/api/v1/customers/sync/",
        "/api/v1/areas/sync/",
    ):
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    assert "grade" in components["CustomerSystemBlock"]["properties"]
    assert "grade" not in components["CustomerSyncItem"]["properties"]
    assert components["CycleEnum"]["enum"][:3] == ["weekly", "fortnightly", "monthly"]
