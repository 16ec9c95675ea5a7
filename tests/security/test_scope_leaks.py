"""A TH account manager, supervisor or licence officer never sees the YX customer anywhere:
not on a list, not through a search (`?q=` with its code, name, phone or licence number),
not in a CSV or XLSX export, not in the REST API, not in a customer picker, not on the pages
that list visits, services, orders, grades, values, warnings or compliance records, and not
in a notification. The YX customer has one row of every kind (world.py), each carrying its
name, so a leaked related row shows up as well as a leaked customer.

Also within TH: am_th2 (another account manager of TH) never sees am_th's customer c_th.

Each listing URL has a control: someone entitled to the YX customer (admin, or sup_yx) gets
the same URL and must see it there, so a page that shows nobody anything proves nothing.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.security.conftest import client_as
from tests.security.world import TH_PHONE, YX_CODE, YX_LICENSE, YX_NAME, YX_PHONE

# Who must not see the YX customer (and am_th2 not c_th either), each with their baseline:
# someone of the same role in SZ, who sees no customer at all. A marker leaks when a TH user's
# page says it more often than the baseline's (which may repeat a searched term, say).
TH_USERS = {"sup_th": "sup_sz", "am_th": "am_sz", "lo_th": "lo_sz", "am_th2": "am_sz"}
YX_MARKERS = (YX_CODE, YX_NAME, YX_PHONE, YX_LICENSE)


def _c_th_markers(world) -> tuple[str, ...]:
    return (world["c_th"].customer_code, world["c_th"].store_name, TH_PHONE)


# Every listing: its URL (name, the world row or username it names, the query) and the
# control, someone entitled to the YX customer who must see it on that URL ("-": the URL
# shows no customer to anyone entitled, e.g. a page about TH or about the user). Queries may
# name the YX customer's {code}, {name}, {phone}, {licence}, and {yesterday}.
# fmt: off
LISTINGS = """
# url name                         names    query                       control format
customers:list                     -        -                           admin   html
customers:list                     -        ?q={code}                   admin   html
customers:list                     -        ?q={name}                   admin   html
customers:list                     -        ?q={phone}                  admin   html
customers:list                     -        ?q={licence}                admin   html
customers:list                     -        ?account_manager=am_yx      admin   html
customers:list                     -        ?area=YX                    admin   html
customers:export                   -        -                           admin   csv
customers:export                   -        ?q={code}                   admin   csv
customers:export                   -        ?format=xlsx                admin   xlsx
customers:export                   -        ?format=xlsx&q={name}       admin   xlsx
customers:detail                   c_th     -                           -       html
customers:change                   c_th     -                           -       html
customers:dynamic_edit             c_th     -                           -       html
customers:change_requests          -        -                           sup_yx  html
customers:duplicates               -        -                           admin   html
customers:change_requests          -        ?status=all                 sup_yx  html
notifications                      -        -                           am_yx   html
home                               -        -                           am_yx   html
crm:area_list                      -        -                           -       html
orders:list                        -        -                           admin   html
orders:list                        -        ?customer={code}            admin   html
orders:detail                      order    -                           -       html
grading:overview                   -        -                           admin   html
grading:overview                   -        ?account_manager=am_yx      admin   html
grading:export                     -        -                           admin   csv
grading:export                     -        ?format=xlsx                admin   xlsx
grading:overrides                  -        -                           admin   html
grading:overrides                  -        ?status=all                 admin   html
valuation:overview                 -        -                           admin   html
valuation:export                   -        ?list=core                  -       csv
valuation:export                   -        ?list=problem               admin   csv
valuation:export                   -        ?list=problem&format=xlsx   admin   xlsx
valuation:warnings                 -        -                           admin   html
allocation:overview                -        -                           -       html
allocation:exceptions              -        -                           admin   html
allocation:exceptions              -        ?status=all                 sup_yx  html
valuation:warnings                 -        ?customer={code}            admin   html
valuation:compliance               -        -                           admin   html
valuation:compliance               -        ?customer={code}            admin   html
visits:agenda                      -        -                           -       html
visits:agenda                      -        ?day={yesterday}            am_yx   html
visits:agenda                      -        ?am=am_th                   -       html
visits:follow_ups                  -        -                           am_yx   html
visits:follow_ups                  -        ?tab=area                   admin   html
visits:log                         -        -                           admin   html
visits:log                         -        ?q={code}                   admin   html
visits:log                         -        ?q={name}                   admin   html
visits:list                        -        -                           admin   html
visits:list                        -        ?customer_code={code}       admin   html
visits:detail                      visit    -                           -       html
visits:plan_reschedule             plan     -                           -       html
visits:plan_skip                   plan     -                           -       html
visits:coverage                    -        -                           -       html
visits:coverage_export             -        -                           -       csv
visits:coverage_export             -        ?am=am_th                   -       csv
visits:coverage_export             -        ?am=am_yx                   admin   csv
visits:coverage_detail             am_th    -                           -       html
services:queue                     -        -                           admin   html
services:queue                     -        ?queue=area                 admin   html
services:queue                     -        ?queue=mine                 am_yx   html
services:queue                     -        ?queue=area&customer={code} admin   html
services:queue_export              -        ?queue=area                 admin   csv
services:queue_export              -        ?queue=area&format=xlsx     admin   xlsx
services:request_detail            service_request -                           -       html
services:request_new               -        ?q={code}                   admin   html
services:care                      -        -                           -       html
services:activity_list             -        -                           admin   html
services:activity_list             -        ?customer={code}            admin   html
services:activity_new              -        ?q={name}                   admin   html
services:training_list             -        -                           admin   html
services:training_new              -        -                           -       html
services:training_detail           training -                           -       html
services:satisfaction              -        -                           -       html
services:satisfaction_export       -        -                           -       csv
allocation:plans                   -        -                           -       html
allocation:plan                    allocation_plan -                    admin   html
allocation:plan                    allocation_plan ?q={code}            admin   html
allocation:plan_export             allocation_plan -                    admin   csv
audits:forms                       -        -                           -       html
audits:form                        audit_form -                         -       html
audits:price_product               audit_product -                      admin   html
audits:price_product               audit_product ?format=csv            admin   csv
audits:shelves_missing             -        -                           admin   html
customers_api:customer_list        -        -                           admin   json
customers_api:customer_list        -        ?q={code}                   admin   json
customers_api:customer_list        -        ?q={phone}                  admin   json
allocation_api:allocation_list     -        -                           admin   json
allocation_api:allocation_list     -        ?customer={code}            admin   json
orders_api:order_list              -        -                           admin   json
orders_api:order_list              -        ?customer={code}            admin   json
visits_api:visit_list              -        -                           admin   json
services_api:service_request_list  -        -                           admin   json
api:area_list                      -        -                           -       json
api:me                             -        -                           -       json
api:notification_list              -        -                           am_yx   json
customers_api:customer_detail      c_th     -                           -       json
visits_api:visit_detail            visit    -                           -       json
services_api:service_request_detail service_request -                           -       json
"""
# fmt: on


def _listings() -> list[tuple[str, str, str, str, str | None, str]]:
    rows = []
    for line in LISTINGS.strip().splitlines():
        if line.startswith("#"):
            continue
        name, names, query, control, fmt = line.split()
        ident = name + ("" if names == "-" else f"[{names}]") + ("" if query == "-" else query)
        rows.append((ident, name, names, query, None if control == "-" else control, fmt))
    return rows


# World rows whose URL names them by their code (a product), not their pk.
NAMED_BY_CODE = {"audit_product"}


def listing_path(world, name: str, names: str, query: str) -> str:
    """The URL of a listing row: `names` is a world row (a person by username, a customer by
    code, anything else by pk)."""
    if names == "-":
        path = reverse(name)
    else:
        row = world[names]
        key = (
            getattr(row, "username", None)
            or getattr(row, "customer_code", None)
            or (row.code if names in NAMED_BY_CODE else row.pk)
        )
        path = reverse(name, args=[key])
    if query == "-":
        return path
    return path + query.format(
        code=YX_CODE, name=YX_NAME, phone=YX_PHONE, licence=YX_LICENSE, yesterday=world["yesterday"]
    )


# Pages of the matrix that are not listings here, and why.
NOT_LISTINGS = {
    # Administrators only (they see every customer): nothing to leak to a TH user.
    "admin:index": "administrators only",
    "customers:import": "administrators only",
    "customers:import_detail": "administrators only",
    "customers:merge": "administrators only",
    # The field catalogue's settings: field names and policies, no customer at all.
    "customers:catalogue": "administrators only; lists fields, no customer",
    "customers:catalogue_draft": "administrators only; lists fields, no customer",
    "customers:catalogue_preview": "administrators only; lists fields, no customer",
    "customers:catalogue_discard": "administrators only; names a draft, no customer",
    "grading:runs": "administrators only",
    "grading:run_status": "administrators only",
    "grading:schemes": "administrators only",
    "grading:scheme": "administrators only",
    "valuation:runs": "administrators only",
    "valuation:run_status": "administrators only",
    "valuation:schemes": "administrators only",
    "valuation:scheme": "administrators only",
    "orders:products": "administrators only",
    "orders:settings": "administrators only",
    "visits:settings": "administrators only",
    "services:settings": "administrators only",
    "crm:user_password_reset": "administrators only",
    "allocation:runs": "administrators only",
    "allocation:run_status": "administrators only",
    "allocation:schemes": "administrators only",
    "allocation:scheme": "administrators only",
    "allocation:plan_create": "administrators only",
    "allocation:plan_edit": "administrators only",
    "allocation:plan_preview": "administrators only (totals per grade, no customer)",
    "audits:form_create": "administrators only",
    "audits:form_edit": "administrators only",
    "audits:question_create": "administrators only",
    "audits:question_edit": "administrators only",
    # No customer data at all.
    "password_change": "a form about the user's own password",
    "customers:create": "an empty form",
    "health": "no data",
    "service_worker": "no data (the offline route's script)",
    "manifest": "no data (the installable app's name and icons)",
    "api:schema": "the API's description",
    "api:docs": "the API's description",
    "orders_api:product_list": "the product catalogue (not scoped)",
    "audits:reports": "a redirect to audits:prices",
    "audits:prices": "figures per product: no customer named",
    "audits:shelves": "figures per product: no customer named",
    "audits_api:price_monitoring": "figures per product: no customer named",
    "visits:photo": "an image",
    "audits:answer_photo": "an image",
    "customers:change_request_attachment": "a file (its scope: the access matrix, test_uploads)",
}

# Listings that show a bug (xfail, strict).
KNOWN_LEAKS: dict[str, str] = {}


def body_text(response, fmt: str) -> str:
    """Everything the response says, as text (an XLSX's cells, a stream's bytes)."""
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            " ".join("" if cell is None else str(cell) for cell in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def _params():
    for ident, name, names, query, control, fmt in _listings():
        marks = []
        if ident in KNOWN_LEAKS:
            marks.append(pytest.mark.xfail(strict=True, reason=f"bug: {KNOWN_LEAKS[ident]}"))
        yield pytest.param(name, names, query, control, fmt, id=ident, marks=marks)


@pytest.mark.parametrize(("name", "names", "query", "control", "fmt"), list(_params()))
def test_th_users_never_see_the_yx_customer(w, name, names, query, control, fmt):
    path = listing_path(w, name, names, query)
    if control is not None:
        response = client_as(w, control).get(path)
        assert response.status_code == 200, f"{path} as {control}"
        assert YX_CODE in body_text(response, fmt) or YX_NAME in body_text(response, fmt), (
            f"control: {control} should see the YX customer on {path}"
        )
    seen = {}
    for user, baseline_user in TH_USERS.items():
        response = client_as(w, user).get(path)
        if response.status_code in (403, 404):
            continue  # refused outright: nothing shown
        assert response.status_code == 200, f"{path} as {user}: {response.status_code}"
        text = body_text(response, fmt)
        foreign = YX_MARKERS + (_c_th_markers(w) if user == "am_th2" else ())
        leaked = [m for m in foreign if m in text]
        if leaked:  # said more often than to someone who sees nothing?
            baseline = body_text(client_as(w, baseline_user).get(path), fmt)
            leaked = [m for m in leaked if text.count(m) > baseline.count(m)]
        if leaked:
            seen[user] = leaked
    assert not seen, f"{path} shows what these users may not see: {seen}"


def test_every_page_is_a_listing_or_says_why_not():
    """A new page of the matrix must be added to LISTINGS (or to NOT_LISTINGS, with why)."""
    from tests.security.test_access_matrix import ROWS

    listed = {row[1] for row in _listings()} | set(NOT_LISTINGS)
    pages = {
        name
        for name, method, obj, outcomes in ROWS
        if method == "GET" and obj != "yx" and outcomes["admin"] == "200"
    }
    assert pages - listed == set()


def test_yx_detail_urls_are_404_for_th_users(w):
    """The YX customer's own page and API detail, by code: 404 for every TH user (the
    matrix covers every URL that names a row; this one names the customer by code only)."""
    for user in ("sup_th", "am_th", "lo_th", "am_th2"):
        client = client_as(w, user)
        for path in (
            reverse("customers:detail", args=[YX_CODE]),
            reverse("customers_api:customer_detail", args=[YX_CODE]),
            reverse("visits:log") + f"?customer={YX_CODE}",
            reverse("services:request_new") + f"?customer={YX_CODE}",
            reverse("services:activity_new") + f"?customer={YX_CODE}",
        ):
            assert client.get(path).status_code == 404, f"{path} as {user}"


def test_a_supervisor_of_every_area_sees_every_customer_and_no_new_root(w):
    """A supervisor of every root area is filtered on no area (crm.scope): he sees every
    customer, on the list, the search and the API; a root area added later is not his, and its
    shop stays out of his pages and out of a supervisor of a part's."""
    from django.test import Client

    from crm.choices import Role
    from tests.crm.factories import AreaFactory, UserFactory
    from tests.customers.factories import make_customer

    whole = UserFactory(role=Role.SUPERVISOR, areas=[w["areas"]["GZ"], w["areas"]["SZ"]])
    client = Client()
    client.force_login(whole)
    names = [w[key].store_name for key in ("c_th", "c_th2", "c_yx")]

    def page(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, path
        return response.content.decode()

    listing = page(reverse("customers:list"))
    assert all(name in listing for name in names)
    api = page(reverse("customers_api:customer_list"))
    assert all(w[key].customer_code in api for key in ("c_th", "c_th2", "c_yx"))

    hk = AreaFactory(code="HK", name="香港")
    outside = make_customer(hk, store_name="香港新店")
    for path in (
        reverse("customers:list"),
        reverse("customers:list") + "?q=香港",
        reverse("customers_api:customer_list"),
    ):
        assert outside.store_name not in page(path), path
        assert outside.customer_code not in page(path), path
        assert outside.store_name not in client_as(w, "sup_gz").get(path).content.decode()
    assert all(name in page(reverse("customers:list")) for name in names)
    assert client.get(reverse("customers:detail", args=[outside.customer_code])).status_code == 404
