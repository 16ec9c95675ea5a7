"""Headless Chromium (Debian's `chromium`) driven by Playwright against pytest-django's live server.

scripts/test installs chromium when it is missing. A failed test leaves a screenshot in
test-artifacts/ (and, with the `journey` fixture, the screens of its last steps). Any
Content-Security-Policy violation a page reports fails the test that opened it.
"""

import os
import re
import shutil
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CRM_SKIP_BROWSER_TESTS"):
            pytest.skip("CRM_SKIP_BROWSER_TESTS is set and chromium is not installed")
        pytest.fail("chromium is not installed: run scripts/test, which installs it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the test thread; the database calls the
    # tests make between browser steps are ordinary synchronous code. Set while the browser
    # runs: from the first browser test to the end of the session (the deploy check's test
    # leaves it out of the environment it gives manage.py).
    mp = pytest.MonkeyPatch()
    mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        mp.undo()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Runs in every document before its own scripts (Playwright injects it whatever the policy)
# and hands each Content-Security-Policy violation to the test: what was blocked, where.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.crmCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "?"} on ${document.URL}` +
    ` (${event.sourceFile || "the page"}:${event.lineNumber}) ${event.sample}`
  );
}, true);
"""


@pytest.fixture
def csp_violations() -> list[str]:
    """The Content-Security-Policy violations the test's pages reported, in order."""
    return []


@pytest.fixture
def page(browser, request, csp_violations):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    context.expose_function("crmCspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    if report is not None and report.passed and csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations))


class Journey:
    """Watches a page through a user's journey: the browser console's errors, the page's
    uncaught exceptions, Content-Security-Policy violations and any request to another host
    than the live server (nothing may come from a CDN) are problems; `step()` fails on the
    first ones and keeps a screenshot of the last few steps, written to test-artifacts/ only
    when the test fails."""

    KEEP = 3

    def __init__(self, page, base_url: str, csp_violations: list[str] | None = None):
        self.page = page
        self.host = urlsplit(base_url).netloc
        self.problems: list[str] = []
        self.csp_violations = csp_violations if csp_violations is not None else []
        self.shots: deque[tuple[str, bytes]] = deque(maxlen=self.KEEP)
        self.count = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.context.on("request", self._request)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        self.problems.append(f"console error on {self.page.url}: {message.text} ({source})")

    def _request(self, request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.host:
            self.problems.append(f"request to another host: {request.url}")

    def forgive(self, text: str) -> None:
        """Drops the problems seen so far that mention `text`: errors the test caused on
        purpose (a request it made fail)."""
        self.problems = [problem for problem in self.problems if text not in problem]

    def check(self) -> None:
        problems = self.problems + [f"CSP: {v}" for v in self.csp_violations]
        assert not problems, "\n".join(problems)

    def step(self, name: str) -> None:
        """Starts the step `name`: checks that nothing went wrong so far, then keeps a
        screenshot of the screen the step starts from."""
        self.check()
        self.count += 1
        if self.page.url == "about:blank":
            return  # nothing to see before the first page
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.shots.append((f"{self.count:02d}-{slug}", self.page.screenshot()))

    def save(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for old in ARTIFACTS.glob(f"{name}-step*.png"):  # an earlier failure's
            old.unlink()
        for label, png in self.shots:
            (ARTIFACTS / f"{name}-step{label}.png").write_bytes(png)


@pytest.fixture
def journey(page, live_server, request, csp_violations):
    """A `Journey` watching `page` (see there). Fails the test if a problem was seen after
    its last step."""
    watch = Journey(page, live_server.url, csp_violations)
    yield watch
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        watch.save(request.node.name)
    elif report is not None and report.passed and watch.problems:
        pytest.fail("\n".join(watch.problems))
