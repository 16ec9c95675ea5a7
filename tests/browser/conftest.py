"""Headless Chromium (Debian's `chromium`) driven by Playwright against pytest-django's live server.

scripts/test installs chromium when it is missing. A failed test leaves a screenshot in
test-artifacts/.
"""

import os
import shutil
from pathlib import Path

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
    # tests make between browser steps are ordinary synchronous code. Set only while the
    # browser runs, so it cannot leak into other tests (check --deploy warns about it).
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


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
