"""The pages under the Content-Security-Policy, in headless Chromium at a phone's width.

An administrator opens every page the access matrix gives them (tests/security/
test_access_matrix.py: every template of the product is drawn at least once), the admin
site's pages and the API docs; each other role opens its main pages, charts included. Any
policy violation, console error or uncaught error fails the test (the `journey` fixture).
And the Permissions-Policy: the phone's position is refused everywhere but on the visit form.

With CRM_BROWSER_SHOTS=<dir> each page's full screenshot is written there, to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from tests.security.test_access_matrix import ROLE_USERS, ROWS
from tests.security.urls import QUERIES, build_url, url_patterns
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATTERNS = {p.name: p for p in url_patterns()}
SHOTS = os.environ.get("CRM_BROWSER_SHOTS")
# Each role's main pages (those it may open: home, customers, a customer with its charts,
# the grading and value overviews, visits, coverage, services, the API docs).
MAIN_PAGES = (
    "home",
    "customers:list",
    "customers:detail",
    "grading:overview",
    "valuation:overview",
    "visits:agenda",
    "visits:log",
    "visits:follow_ups",
    "visits:coverage",
    "visits:coverage_detail",
    "services:queue",
    "services:care",
    "services:activity_new",
    "services:satisfaction",
    "api:docs",
)
# A page that needs a query to show what it is for.
PAGE_QUERIES = {"visits:log": lambda w: f"?customer={w['c_th'].customer_code}"}


@pytest.fixture
def world(live_server):
    w = build_world()
    w["base"] = live_server.url
    return w


def sign_in_as(page, world, key: str) -> None:
    """The browser carries a session of world[key] (made by the test client: no sign-in form)."""
    client = Client()
    client.force_login(world[key])
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.emulate_media(reduced_motion="reduce")  # charts drawn at once: steady screenshots
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": world["base"]}]
    )


def pages_of(world, role: str, names=None) -> list[str]:
    """The addresses of the HTML pages `role` may open (200 in the access matrix), of `names`
    only when given: the TH row of each kind."""
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(world[ROLE_USERS[role]])
    urls = []
    for name, method, obj, outcomes in ROWS:
        if method != "GET" or obj == "yx" or outcomes[role] != "200":
            continue
        if names is not None and name not in names:
            continue
        url = build_url(PATTERNS[name], world) + QUERIES.get(name, "")
        url += PAGE_QUERIES.get(name, lambda w: "")(world)
        response = client.get(url)
        # Whole pages: not exports, photos, JSON or the fragments htmx asks for.
        if response["Content-Type"].startswith("text/html") and b"<html" in response.content:
            urls.append(url)
    return urls


def admin_pages() -> list[str]:
    """The admin site: its index and the lists of the product's models (the only ones an
    administrator manages there; Django's groups and django-axes' logs are for superusers)."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        if model._meta.app_label == "crm":
            opts = model._meta
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls


def visit(page, journey, base: str, url: str, who: str) -> None:
    journey.step(url)
    response = page.goto(base + url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")  # charts drawn, the API docs' schema read
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
        page.screenshot(path=str(Path(SHOTS) / f"{who}-{slug}.png"), full_page=True)
    journey.check()


@pytest.mark.walk
def test_every_page_of_an_administrator_runs_under_the_policy(world, page, journey):
    sign_in_as(page, world, "admin")
    user_change = reverse("admin:crm_user_change", args=[world["am_th"].pk])
    for url in [
        *pages_of(world, "admin"),
        *admin_pages(),
        user_change,
        reverse("admin:crm_user_add"),
    ]:
        visit(page, journey, world["base"], url, "admin")
    # The API docs drew the operations they read from the schema (their script ran), and one
    # tried out answers (the request goes to this origin, the answer is highlighted).
    journey.step("try an operation in the API docs")
    page.goto(world["base"] + reverse("api:docs"))
    operation = page.locator("#operations-me-me_retrieve")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text(
        "200"
    )
    expect(operation.locator(".live-responses-table")).to_contain_text(world["admin"].username)
    journey.check()


@pytest.mark.parametrize("role", ["sup", "am", "lo"])
def test_the_main_pages_of_each_role_run_under_the_policy(world, page, journey, role):
    sign_in_as(page, world, ROLE_USERS[role])
    urls = pages_of(world, role, MAIN_PAGES)
    assert len(urls) >= 8, urls
    for url in urls:
        visit(page, journey, world["base"], url, role)


def test_a_violation_is_reported_to_the_test(world, page, journey, csp_violations):
    """The watch works: a style attribute a script adds is refused and reported, both by the
    securitypolicyviolation event and on the console."""
    sign_in_as(page, world, "am_th")
    page.goto(world["base"] + "/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    expect(page.locator("body")).not_to_have_css("color", "rgb(255, 0, 0)")
    for _ in range(50):  # the report reaches the test a moment later
        if csp_violations:
            break
        page.wait_for_timeout(100)
    assert [v.split(" refused")[0] for v in csp_violations] == ["style-src-attr"]
    console = [p for p in journey.problems if "Content Security Policy" in p]
    assert len(console) == 1, journey.problems
    # reported as expected: not a failure of this test
    csp_violations.clear()
    journey.problems.remove(console[0])


# The position as the page's script asks for it: the coordinates, or the error's code
# (1 = PERMISSION_DENIED, what a Permissions-Policy that denies the feature answers).
POSITION = """() => new Promise(resolve => navigator.geolocation.getCurrentPosition(
    p => resolve([p.coords.latitude, p.coords.longitude]), e => resolve(e.code), {timeout: 5000}
))"""


def test_only_the_visit_form_may_read_the_phones_position(world, page, journey):
    # given a phone that shares its position with the site
    page.context.grant_permissions(["geolocation"], origin=world["base"])
    page.context.set_geolocation({"latitude": 23.13, "longitude": 113.32})
    sign_in_as(page, world, "am_th")

    # when the agenda's page asks for it, it is refused (the Permissions-Policy)
    journey.step("the agenda")
    page.goto(world["base"] + reverse("visits:agenda"))
    assert page.evaluate(POSITION) == 1
    expected = [p for p in journey.problems if "Permissions policy violation" in p]
    assert len(expected) == 1, journey.problems  # the browser's report of the refusal
    journey.problems.remove(expected[0])
    # and the visit form gets it
    journey.step("the visit form")
    page.goto(world["base"] + reverse("visits:log") + f"?customer={world['c_th'].customer_code}")
    assert page.evaluate(POSITION) == [23.13, 113.32]
    journey.check()
