"""WCAG 2.1 AA: axe-core (tests/browser/vendor/axe.min.js, test-only) on every HTML page of the
URL table, for every role that may see it, at a desk's and a phone's width, in English and in
Simplified Chinese. Any serious or critical violation fails the walk, which lists them all
(page, role, language, width, rule, element).

Which pages: the GET rows of the access matrix (tests/security/test_access_matrix.py) with the
TH object, for each role whose expected outcome is 200 (am2 sees what am sees; the integration
client gets no page), built from the security suite's world. Left out: downloads (exports,
photos, attachments), the run-status rows htmx polls (fragments), the health probe and the API
(JSON), and the admin site (Django's own).

Lean on purpose (CI runs the suite twice): every role at both widths and in both languages, but
not every combination: each role at (English, 1440 px) and (Chinese, 360 px), and the
administrator, who sees every page, also at the other two. One browser context per role ×
language × width, one tab reused for all its pages, axe injected once per document and asked for
violations only.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from crm.panels import Tab
from tests.security.conftest import _sign_in_everyone
from tests.security.test_access_matrix import PATTERNS, ROLE_USERS, ROWS
from tests.security.urls import QUERIES, build_url
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WIDTHS = {"1440": {"width": 1440, "height": 900}, "360": {"width": 360, "height": 800}}
LANGUAGES = {"en": "en-US", "zh-hans": "zh-CN"}  # the language cookie and Accept-Language
ROLES = ("admin", "sup", "am", "lo", "anon")
EVERY_COMBINATION = {"admin"}  # see the module's docstring
FAILING_IMPACTS = ("serious", "critical")

# GET rows that answer something else than an HTML page of the product.
NOT_PAGES = {
    "health",  # JSON for the load balancer
    "admin:index",  # Django's admin site, not the product's design
    "customers:export",
    "customers:change_request_attachment",
    "grading:export",
    "valuation:export",
    "visits:photo",
    "visits:coverage_export",
    "services:queue_export",
    "services:satisfaction_export",
    "allocation:plan_export",
    "grading:run_status",  # a run's table row that htmx polls, not a page
    "valuation:run_status",
    "allocation:run_status",
}

# axe is handed the page once per document; it runs on the settled page (htmx's `load`
# requests done) and returns only the violations (no passes: less to compute and to copy).
RUN_AXE = """async () => {
  const start = Date.now();
  while (document.querySelector(".htmx-request") && Date.now() - start < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      summary: (n.failureSummary || "").split("\\n").slice(0, 2).join(" "),
    })),
  }));
}"""


def pages_of(role: str) -> list[str]:
    """The names of the GET pages `role` may see (expected 200 on the TH object or none)."""
    return [
        name
        for name, method, obj, outcomes in ROWS
        if method == "GET"
        and obj in ("-", "th")
        and outcomes[role] == "200"
        and name not in NOT_PAGES
        and not PATTERNS[name].route.startswith("api/")
    ]


def axe_problems(page, where: str, language: str) -> list[str]:
    """The serious and critical violations axe finds on the page the tab shows, one line each."""
    problems = []
    lang = page.evaluate("document.documentElement.lang")
    if lang != language:
        problems.append(f"{where}: <html lang={lang!r}>, not {language}")
    page.evaluate(AXE)
    for violation in page.evaluate(RUN_AXE):
        if violation["impact"] in FAILING_IMPACTS:
            problems.extend(
                f"{where}: {violation['id']} ({violation['impact']}: {violation['help']}) "
                f"at {node['target']}: {node['summary']}"
                for node in violation["nodes"]
            )
    return problems


@pytest.mark.walk
@pytest.mark.parametrize("role", ROLES)  # one test per role: xdist's workers share the walk
def test_every_page_has_no_serious_accessibility_violation(browser, live_server, capsys, role):
    # given the security suite's world, everyone signed in
    world = build_world()
    _sign_in_everyone(world)
    host = live_server.url
    urls = [
        (name, build_url(PATTERNS[name], world) + QUERIES.get(name, "")) for name in pages_of(role)
    ]
    # The customer page's other tabs, each opened from the server (?tab=): the page loads them
    # on demand, so the page the walk opens holds only its overview.
    detail = dict(urls).get("customers:detail")
    if detail:
        urls += [(f"customers:detail?tab={tab}", f"{detail}?tab={tab}") for tab in list(Tab)[1:]]
    # The merge page with two records compared (the field table, what moves), not only the
    # form that asks for their codes.
    merge = dict(urls).get("customers:merge")
    if merge:
        codes = f"?a={world['c_th'].customer_code}&b={world['c_th2'].customer_code}"
        urls.append(("customers:merge?a=&b=", f"{merge}{codes}"))
    problems: list[str] = []
    not_html: set[str] = set()  # a row that answers something else (a new JSON or script URL)
    checked = 0
    started = time.monotonic()
    for language, locale in LANGUAGES.items():
        for width, viewport in WIDTHS.items():
            if role not in EVERY_COMBINATION and (language == "en") != (width == "1440"):
                continue
            context = browser.new_context(locale=locale, viewport=viewport)
            cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": host}]
            if role != "anon":
                session = world["sessions"][ROLE_USERS[role]]
                cookies.append(
                    {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": host}
                )
            context.add_cookies(cookies)
            page = context.new_page()
            page.set_default_timeout(15_000)
            try:
                for name, url in urls:
                    # when axe looks at the page
                    response = page.goto(host + url)
                    where = f"{url} ({name}) as {role}, {language}, {width} px"
                    if response is None or response.status != 200:
                        problems.append(f"{where}: HTTP {response and response.status}")
                    elif not response.headers.get("content-type", "").startswith("text/html"):
                        not_html.add(name)
                    else:
                        problems += axe_problems(page, where, language)
                        checked += 1
            finally:
                context.close()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        covered = [name for name, _url in urls]
        print(f"\naxe walk as {role}: {checked} page views in {elapsed:.0f} s; pages: {covered}")
        if not_html:
            print(f"axe walk: not HTML, left out: {sorted(not_html)}")
    # then nothing serious or critical
    assert not problems, f"{len(problems)} accessibility problem(s):\n" + "\n".join(problems)


def signed_in_page(browser, host: str, session: str, *, viewport=WIDTHS["1440"]):
    context = browser.new_context(locale="en-US", viewport=viewport)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": host}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_an_htmx_action_is_announced_and_keeps_the_focus(browser, live_server):
    # given an account manager on the warnings page, typing a note in an open warning's row
    world = build_world()
    _sign_in_everyone(world)
    warning = world["warning"]
    page = signed_in_page(browser, live_server.url, world["sessions"]["am_th"])
    try:
        page.goto(f"{live_server.url}/valuation/warnings/")
        live = page.get_by_test_id("live-region")
        assert live.get_attribute("aria-live") == "polite"
        assert live.inner_text() == ""
        page.fill(f"#ack-note-{warning.pk}", "Calling the owner")
        # when they press Enter: htmx swaps the row for its acknowledged state
        page.press(f"#ack-note-{warning.pk}", "Enter")
        page.wait_for_function("() => document.getElementById('live-region').textContent.trim()")
        # then the page's one live region says what was done (the row brought no second one) ...
        assert live.inner_text().strip() == "The warning was acknowledged."
        assert page.locator("#live-region").count() == 1
        # ... and the focus is on the new row, not dropped to <body>
        page.wait_for_function(
            f"() => document.activeElement.closest('#warning-{warning.pk}') !== null"
        )
    finally:
        page.context.close()


def test_keyboard_skip_link_focus_ring_and_bell_name(browser, live_server):
    # given an account manager with an unread notification (the world sent one)
    world = build_world()
    _sign_in_everyone(world)
    page = signed_in_page(browser, live_server.url, world["sessions"]["am_th"])
    try:
        page.goto(f"{live_server.url}/customers/")
        # the bell's name says how many are unread
        bell = page.get_by_test_id("notifications-link")
        assert bell.get_attribute("aria-label") == "Notifications: 1 unread"
        # the first Tab reaches the skip link, which takes the focus to <main>
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'main'")
        # a focused control shows a solid outline: white on the dark navigation, dark blue
        # on the light page
        outline = "getComputedStyle(document.activeElement).outlineColor"
        bell.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
        assert page.evaluate(outline) == "rgb(255, 255, 255)"
        page.locator("main").locator("input:visible, a:visible, button:visible").first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        assert page.evaluate(outline) == "rgb(10, 88, 202)"
    finally:
        page.context.close()
