"""No list or table page overflows sideways on a 360 px phone (issue 20, part 2).

An account manager, a supervisor and an administrator (one browser context each) open every
page of the URL table (tests/security/urls.py) that names no row and that the access matrix
gives them (tests/security/test_access_matrix.py ROWS: the lists, their forms and settings),
with the security suite's world seeded: one row of each kind. On each page the document is no
wider than the screen (`document.documentElement.scrollWidth <= 360`) and every link and button
of a table row lies inside the screen — not beyond a table's own sideways scroll, where the
warnings page once hid its Acknowledge and Resolve buttons.
"""

from __future__ import annotations

import pytest

from tests.browser.test_csp_browser import pages_of, sign_in_as
from tests.security.test_access_matrix import ROLE_USERS, ROWS
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 360
# Pages drawn by others than the product: Django's admin site and the API docs (Swagger UI).
NOT_OURS = {"admin:index", "api:docs"}
LIST_NAMES = {name for name, method, obj, _o in ROWS if method == "GET" and obj == "-"} - NOT_OURS

# What a finger taps: buttons, page links, form fields (not check boxes: their label is the
# target, see crm.css).
TARGETS = (
    "main .btn, main .page-link, main select, main textarea,"
    " main input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
)
# The links and buttons of table rows that lie (even partly) outside the screen, the targets
# lower than 44 px, and the document's width. Hidden elements (no box, or the 1 px box of
# `.visually-hidden`) are not counted.
MEASURE = """([width, targets]) => {
  const shown = el => {
    const box = el.getBoundingClientRect();
    const seen = box.width > 1 && box.height > 1;
    return seen && getComputedStyle(el).visibility !== "hidden" ? box : null;
  };
  const name = el => (el.textContent || el.getAttribute("aria-label") || el.name || el.tagName)
    .trim().replace(/\\s+/g, " ").slice(0, 40);
  const outside = [];
  for (const el of document.querySelectorAll("table tbody tr a, table tbody tr button")) {
    const box = shown(el);
    if (box && (box.left < -0.5 || box.right > width + 0.5)) {
      outside.push(`${name(el)} (${Math.round(box.left)}..${Math.round(box.right)} px)`);
    }
  }
  const small = [];
  for (const el of document.querySelectorAll(targets)) {
    const box = shown(el);
    if (box && box.height < 43.5) small.push(`${name(el)} (${Math.round(box.height)} px)`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, outside, small};
}"""


@pytest.fixture
def world(live_server):
    w = build_world()
    w["base"] = live_server.url
    return w


@pytest.mark.walk
@pytest.mark.parametrize("role", ["am", "sup", "admin"])
def test_no_list_page_overflows_a_360_px_phone(world, page, role):
    page.set_viewport_size({"width": WIDTH, "height": 780})
    sign_in_as(page, world, ROLE_USERS[role])
    urls = pages_of(world, role, LIST_NAMES)
    assert len(urls) >= 15, urls  # the walk reached the lists
    problems = []
    for url in urls:
        response = page.goto(world["base"] + url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        found = page.evaluate(MEASURE, [WIDTH, TARGETS])
        if found["scrollWidth"] > WIDTH:
            problems.append(f"{url} is {found['scrollWidth']} px wide")
        if found["outside"]:
            problems.append(f"{url}: off the screen: {', '.join(found['outside'])}")
        if found["small"]:
            problems.append(f"{url}: lower than 44 px: {', '.join(found['small'])}")
    assert not problems, f"as {role} at {WIDTH} px:\n" + "\n".join(problems)
