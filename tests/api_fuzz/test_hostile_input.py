"""Hostile input the generated fuzzing seldom reaches, sent to the API as explicit cases:

- JSON nested far beyond the depth limit (5,000 and 100,000 levels) on every JSON operation;
- an unpaired surrogate (`\\ud800`) in each text value of each JSON body, one at a time;
- dates at the ends of the calendar (0001-01-01, 9999-11-30, 9999-12-31 and date-times whose
  offset takes them out of it) in each date value of each body and each date query parameter.

Every response must be a 4xx or a success: no 500. A sync refuses the spoiled item, naming the
field, and stores the valid one beside it; a single-object endpoint answers 400 naming it.
Bodies are sent as raw JSON text (the surrogate as its `\\ud800` escape), through Django's
handler with exceptions turned into 500 responses, as a client would see them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.api_fuzz.conftest import ACCOUNT_MANAGER_KEY, INTEGRATION_CLIENT_KEY
from tests.crm.upload_files import upload

pytestmark = pytest.mark.django_db

SURROGATE = "\ud800"
EXTREME_DATES = ("0001-01-01", "9999-11-30", "9999-12-31")
# Offsets taking a date-time past either end of the calendar once converted to UTC.
EXTREME_DATETIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def _order(external_id: str, customer_code: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "customer_code": customer_code,
        "order_date": _day(3),
        "status": "delivered",
        "payment_method": "electronic",
        "paid_on_time": True,
        "payment_date": _day(2),
        "lines": [{"product_code": "6901028180566", "quantity": 2, "unit_price": "230.00"}],
    }


def _customer(code: str) -> dict[str, Any]:
    return {
        "customer_code": code,
        "store_name": "天河新店",
        "legal_representative": "张三",
        "address": "天河路 1 号",
        "phone": "13800000009",
        "license_issue_date": "2020-03-01",
        "license_expiry_date": "2030-02-28",
        "annual_review_date": _day(30),
        "owner_birthday": "1980-05-17",
    }


# name -> (path, items key, the valid item, the item to spoil). The two items of a sync are
# distinct, so the valid one is stored whatever happens to the other.
SYNCS: dict[str, tuple[str, str, dict, dict]] = {
    "areas": (
        "/api/v1/areas/sync/",
        "areas",
        {"code": "NEW1", "name": "新一区", "parent": "TH"},
        {"code": "NEW2", "name": "新二区", "parent": "TH"},
    ),
    "customers": (
        "/api/v1/customers/sync/",
        "customers",
        _customer("440100100001"),
        _customer("440100000001"),
    ),
    "products": (
        "/api/v1/products/sync/",
        "products",
        {"code": "6901028000001", "name": "新品一", "brand": "玉溪", "wholesale_price": "230.00"},
        {
            "code": "6901028000002",
            "name": "新品二",
            "brand": "中华",
            "manufacturer": "上海烟草",
            "wholesale_price": "450.00",
            "tar_mg": "10",
            "is_key_brand": True,
        },
    ),
    "orders": (
        "/api/v1/orders/sync/",
        "orders",
        _order("SO-HOSTILE-1", "440100000001"),
        _order("SO-HOSTILE-2", "440100100001"),
    ),
}


def _visit() -> dict[str, Any]:
    start = timezone.localtime() - dt.timedelta(hours=2)
    return {
        "customer_code": "440100000001",
        "visited_at": start.isoformat(),
        "ended_at": (start + dt.timedelta(minutes=20)).isoformat(),
        "visit_type": "routine",
        "purpose": "例行拜访",
        "stock_level": "low",
        "stock_notes": "缺货",
        "price_display": "compliant",
        "competitor_notes": "无",
        "customer_requests": "希望增加配额",
        "follow_ups": [{"action": "反馈配额申请", "due_date": _day(-3)}],
        "client_id": str(uuid.uuid4()),
    }


def _service_request() -> dict[str, Any]:
    return {
        "customer_code": "440100000001",
        "request_type": "complaint",
        "priority": "normal",
        "description": "卷烟包装破损",
        "raised_at": (timezone.localtime() - dt.timedelta(hours=1)).isoformat(),
    }


# name -> (path, caller's token, body builder): one object per request, made by a person.
SINGLES = {
    "visits": ("/api/v1/visits/", ACCOUNT_MANAGER_KEY, _visit),
    "service-requests": ("/api/v1/service-requests/", ACCOUNT_MANAGER_KEY, _service_request),
}
DATE_QUERIES = [
    ("/api/v1/orders/", "date_from"),
    ("/api/v1/orders/", "date_to"),
    ("/api/v1/visits/", "date_from"),
    ("/api/v1/visits/", "date_to"),
]


def _client(key: str) -> Client:
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")


def _post(key: str, path: str, text: str):
    return _client(key).generic("POST", path, text.encode(), content_type="application/json")


def _leaves(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(dotted path, text) of every string value in a body."""
    if isinstance(value, str):
        return [(path, value)]
    if not isinstance(value, dict | list):
        return []
    children = value.items() if isinstance(value, dict) else enumerate(value)
    return [
        leaf
        for key, child in children
        for leaf in _leaves(child, f"{path}.{key}" if path else str(key))
    ]


def _replaced(value: Any, path: str, new: str) -> Any:
    """A copy of `value` with the string at `path` replaced by `new`."""
    value = json.loads(json.dumps(value))
    *parents, last = path.split(".")
    holder = value
    for key in parents:
        holder = holder[int(key) if isinstance(holder, list) else key]
    holder[int(last) if isinstance(holder, list) else last] = new
    return value


def _spoilt(item: dict) -> list[tuple[str, str, str]]:
    """(kind, path, new text) for every hostile variant of an item or body."""
    cases = []
    for path, text in _leaves(item):
        cases.append(("surrogate", path, text + SURROGATE))
        if _DATE.match(text):
            cases += [("date", path, day) for day in EXTREME_DATES]
        elif _DATETIME.match(text):
            cases += [("date", path, moment) for moment in EXTREME_DATETIMES]
    return cases


def _named(response, path: str) -> bool:
    """Whether the response names the field at `path` (`lines.0.product_code`; DRF may nest
    list items, so the last named segment is looked for too)."""
    body = response.content.decode()
    field = [part for part in path.split(".") if not part.isdigit()][-1]
    return path in body or f'"{field}"' in body


@pytest.mark.parametrize("name", SYNCS)
def test_a_spoilt_sync_item_is_refused_alone(fuzz_world, name):
    path, key, valid, spoilable = SYNCS[name]
    failures = []
    for kind, where, text in _spoilt(spoilable):
        body = {key: [valid, _replaced(spoilable, where, text)]}

        response = _post(INTEGRATION_CLIENT_KEY, path, json.dumps(body))

        if response.status_code != 200:
            failures.append((kind, where, text, response.status_code, response.content[:300]))
            continue
        report = response.json()
        refused = {error["index"]: error["errors"] for error in report["errors"]}
        if 0 in refused:
            failures.append((kind, where, text, "the valid item was refused", refused[0]))
        if kind == "surrogate" and not (1 in refused and _named(response, where)):
            failures.append((kind, where, "the spoilt item was not refused by name", report))
    assert not failures, failures


def test_orders_dated_at_the_ends_of_the_calendar_are_refused(fuzz_world):
    path, key, valid, spoilable = SYNCS["orders"]
    for where in ("order_date", "payment_date"):
        for day in EXTREME_DATES:
            body = {key: [valid, _replaced(spoilable, where, day)]}

            report = _post(INTEGRATION_CLIENT_KEY, path, json.dumps(body)).json()

            assert [error["index"] for error in report["errors"]] == [1], (where, day, report)
            assert where in report["errors"][0]["errors"]


@pytest.mark.parametrize("name", SINGLES)
def test_a_spoilt_single_object_is_refused_by_name(fuzz_world, name):
    path, key, build = SINGLES[name]
    failures = []
    for kind, where, text in _spoilt(build()):
        body = _replaced(build(), where, text)

        response = _post(key, path, json.dumps(body))

        if response.status_code >= 500:
            failures.append((kind, where, text, response.status_code))
        elif kind == "surrogate" and not (response.status_code == 400 and _named(response, where)):
            failures.append((kind, where, response.status_code, response.content[:300]))
    assert not failures, failures


@pytest.mark.parametrize(("path", "parameter"), DATE_QUERIES)
def test_a_date_filter_at_the_ends_of_the_calendar_is_answered(fuzz_world, path, parameter):
    for day in EXTREME_DATES:
        response = _client(ACCOUNT_MANAGER_KEY).get(path, {parameter: day})

        assert response.status_code in (200, 400), (day, response.status_code)


OPERATIONS = [(path, key, INTEGRATION_CLIENT_KEY) for path, key, _v, _s in SYNCS.values()] + [
    (path, "follow_ups" if name == "visits" else "description", key)
    for name, (path, key, _build) in SINGLES.items()
]


@pytest.mark.parametrize("levels", [settings.API_JSON_MAX_DEPTH, 5_000, 100_000])
@pytest.mark.parametrize(("path", "key", "token"), OPERATIONS)
def test_deep_nesting_is_refused_on_every_json_operation(fuzz_world, path, key, token, levels):
    # `levels` arrays inside the body's object: one level more than that in all (the first
    # case is one level over the limit).
    body = f'{{"{key}": {"[" * levels}{"]" * levels}}}'

    response = _post(token, path, body)

    assert response.status_code == 400, response.content[:300]
    assert f"more than {settings.API_JSON_MAX_DEPTH} levels" in response.content.decode()


@pytest.mark.parametrize(("path", "key", "token"), OPERATIONS[:1])
def test_nesting_up_to_the_limit_is_decoded(fuzz_world, path, key, token):
    levels = settings.API_JSON_MAX_DEPTH - 1  # the limit exactly, with the body's object
    body = f'{{"{key}": {"[" * levels}{"]" * levels}}}'

    response = _post(token, path, body)

    # decoded and synced: its one item, a list, is refused in the report
    assert response.status_code == 200, response.content[:300]
    assert [error["index"] for error in response.json()["errors"]] == [0]


# --- bodies above Django's limit on the other endpoints -----------------------------------


def test_a_json_body_above_djangos_limit_is_a_json_413(fuzz_world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(_visit()) + " " * 1000

    response = _post(ACCOUNT_MANAGER_KEY, "/api/v1/visits/", body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "at most 1000 are accepted" in response.content.decode()


def test_a_multipart_body_above_djangos_limit_is_a_json_413(fuzz_world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    fields = {**_visit(), "purpose": "x" * 2000}
    del fields["follow_ups"]

    response = _client(ACCOUNT_MANAGER_KEY).post("/api/v1/visits/", fields)  # multipart

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than 1000 bytes" in response.content.decode()


def _spooled(monkeypatch) -> list[int]:
    """The sizes of the uploaded files Django has spooled, as they are received."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler

    received: list[int] = []
    receive = MemoryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        received.append(len(raw_data))
        return receive(self, raw_data, start)

    monkeypatch.setattr(MemoryFileUploadHandler, "receive_data_chunk", counting)
    return received


def test_a_photo_above_its_limit_is_a_413_before_it_is_read(fuzz_world, settings, monkeypatch):
    # given a 1 MB photo limit, and a body holding more than that beside the other fields
    from visits.models import VisitsConfig

    VisitsConfig.objects.update_or_create(pk=1, defaults={"photo_max_mb": 1})
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    spooled = _spooled(monkeypatch)
    fields = {**_visit(), "photo": upload(b"\xff\xd8" + bytes(1024 * 1024 + 20_000), "p.jpg")}
    del fields["follow_ups"]

    # when
    response = _client(ACCOUNT_MANAGER_KEY).post("/api/v1/visits/with-photo/", fields)

    # then: refused by its Content-Length, not spooled and judged afterwards
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert spooled == []


def test_a_file_sent_where_none_is_taken_counts_against_djangos_limit(fuzz_world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    fields = {**_service_request(), "file": upload(bytes(20_000), "big.bin")}

    response = _client(ACCOUNT_MANAGER_KEY).post("/api/v1/service-requests/", fields)

    assert response.status_code == 413, response.content[:300]
