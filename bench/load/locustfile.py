"""Locust users for the CRM's load test: account managers at work (see bench/load/run_load.py).

Each simulated user signs in as an account manager of its own, through the sign-in form, and
then, with 1-3 s of thinking between pages, browses a weighted mix of what an account manager
opens in a day: the home page, the customer list (first page, a search, a filter, a later page),
the page of one of their customers (every other time, one of its other tabs too: mix.py), the
agenda and the visit list, the visit form (shown, then sent: a visit is stored), the service
requests queue and now and then the grading overview.

Environment (run_load.py sets it):
    LOAD_USERS     comma-separated account manager usernames; user n takes the n-th (cycling)
    LOAD_PASSWORD  their password
    LOAD_TZ        the site's time zone, for the visit's time (default Asia/Shanghai)

Requests are named by page ("customer detail", "visit form: save"…), so locust's statistics
group by page. A request fails when no answer comes back (a refused or dropped connection or a
timeout: locust's status 0), when it answers anything but 2xx/3xx, when it ends on the sign-in
page (session lost), or when the page lacks what it must show (a marker in the body); each
failure counts once, under its page's name (run_load.py's summary lists them per page).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import re
import time
from zoneinfo import ZoneInfo

from locust import HttpUser, between, events, task
from mix import TAB_OPENED, TAB_WEIGHTS, TABS
from visit_form import VISIT_PURPOSE, visit_form_data

USERNAMES = [name for name in os.environ.get("LOAD_USERS", "").split(",") if name]
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
TZ = ZoneInfo(os.environ.get("LOAD_TZ", "Asia/Shanghai"))
PAGE_SIZE = 50  # customers per list page (customers.views.CustomerListView.paginate_by)

_next_user = itertools.count()

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CLIENT_ID_RE = re.compile(r'name="client_id" value="([^"]+)"')
CUSTOMER_LINK_RE = re.compile(r'<td><a href="/customers/(\d+)/">')
CUSTOMER_COUNT_RE = re.compile(r'data-testid="customer-count">(\d+)<')
STATIC_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
ADDRESS_RE = re.compile(r" (?:object )?at 0x[0-9a-f]+")
VISIT_SAVED_RE = re.compile(r"^(?:https?://[^/]+)?/visits/(\d+)/$")


@events.test_start.add_listener
def _check_environment(environment, **_kwargs) -> None:
    if not USERNAMES or not PASSWORD:
        raise SystemExit("Set LOAD_USERS and LOAD_PASSWORD (bench/load/run_load.py does).")


class AccountManager(HttpUser):
    wait_time = between(1, 3)

    # --- set-up -------------------------------------------------------------------------

    def on_start(self) -> None:
        number = next(_next_user)
        self.username = USERNAMES[number % len(USERNAMES)]
        self.rng = random.Random(number)  # noqa: S311 (a simulated user's choices, no secret)
        self.codes: list[str] = []
        self.pages = 1
        self.sign_in()
        self.first_list()

    def sign_in(self) -> None:
        token, statics = None, []
        with self.client.get("/login/", name="sign-in page", catch_response=True) as response:
            if not self._unanswered(response):
                token = self._match(response, CSRF_RE, "no CSRF token on the sign-in page")
                statics = STATIC_RE.findall(response.text)
        # The sign-in page's first form is the language switch: post the sign-in form's fields.
        with self.client.post(
            "/login/",
            data={
                "csrfmiddlewaretoken": token or "",
                "username": self.username,
                "password": PASSWORD,
                "next": "",
            },
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if self._unanswered(response):
                pass
            elif response.status_code != 302 or "/login/" in response.headers.get("Location", ""):
                response.failure(f"sign-in of {self.username} refused ({response.status_code})")
        # A browser's first visit fetches the static files once (whitenoise serves them).
        for path in statics:
            self.client.get(path, name="static file (first visit)")

    def first_list(self) -> None:
        """The customer list, whose rows give the user's customers for later pages."""
        self.customer_list("/customers/", "customer list")

    # --- helpers ------------------------------------------------------------------------

    def _page(self, path: str, name: str, *markers: str, any_of: tuple[str, ...] = ()) -> None:
        """GET a page; fail it when it lands on the sign-in page, lacks one of `markers` or
        has none of `any_of`."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if not self._failed(response):
                text = response.text
                missing = [m for m in markers if m not in text]
                if missing:
                    response.failure(f"page lacks {missing[0]!r}")
                elif any_of and not any(m in text for m in any_of):
                    response.failure(f"page has none of {any_of!r}")

    @staticmethod
    def _unanswered(response) -> bool:
        """Marks `response` failed and says so when no page came back: no answer at all (a
        refused or dropped connection, a timeout: locust gives status 0, no URL and no body)
        or a status other than 2xx/3xx. The request then counts once, under its page's name,
        in locust's failures."""
        if response.status_code == 0:
            # Without the addresses of connection objects the text may name: locust groups
            # failures by their message.
            reason = ADDRESS_RE.sub("", str(response.error))[:160]
            response.failure(f"no answer ({type(response.error).__name__}: {reason})")
        elif not 200 <= response.status_code < 400:
            response.failure(f"HTTP {response.status_code}")
        else:
            return False
        return True

    @classmethod
    def _failed(cls, response) -> bool:
        """As `_unanswered`, and also when the page is the sign-in page (the session was lost
        and the page redirected there)."""
        if cls._unanswered(response):
            return True
        if "/login/" in (response.url or ""):
            response.failure("redirected to the sign-in page (session lost)")
            return True
        return False

    @staticmethod
    def _match(response, pattern: re.Pattern[str], message: str) -> str | None:
        found = pattern.search(response.text or "")
        if found is None:
            response.failure(message)
            return None
        return found.group(1)

    def customer_list(self, path: str, name: str, *, rows_expected: bool = True) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if self._failed(response):
                return
            text = response.text
            codes = CUSTOMER_LINK_RE.findall(text)
            if 'data-testid="customer-table"' not in text:
                response.failure("no customer table")
            elif rows_expected and not codes:
                response.failure("the customer list has no rows")
            if name == "customer list" and codes:
                self.codes = codes
                count = CUSTOMER_COUNT_RE.search(text)
                if count:
                    self.pages = max(1, (int(count.group(1)) + PAGE_SIZE - 1) // PAGE_SIZE)

    def some_code(self) -> str | None:
        return self.rng.choice(self.codes) if self.codes else None

    # --- tasks (weights: how often an account manager opens each page) -----------------

    @task(8)
    def home(self) -> None:
        self._page("/", "home", 'data-testid="current-user"')

    @task(8)
    def list_first_page(self) -> None:
        self.customer_list("/customers/", "customer list")

    @task(5)
    def list_search(self) -> None:
        code = self.some_code()
        if code is None:
            return
        if self.rng.random() < 0.5:
            # Part of a shop's name (trigram index): the bench shops are named 基准店<n>号.
            query = f"基准店{int(code[-8:])}号"
            name = "customer list: search name"
        else:
            query = code[: self.rng.randint(8, 11)]  # a code prefix, as typed
            name = "customer list: search code"
        self.customer_list(f"/customers/?q={query}", name)

    @task(4)
    def list_filter(self) -> None:
        path = self.rng.choice(
            [
                "/customers/?business_format=Z&status=active",
                "/customers/?value_tier=potential",
                "/customers/?market_type=X&ordering=store_name",
                "/customers/?status=active&ordering=-updated_at",
            ]
        )
        # A filter may match none of a portfolio's customers (the bench fill gives some managers
        # shops of one market type only): the table must be there, rows need not.
        self.customer_list(path, "customer list: filter", rows_expected=False)

    @task(3)
    def list_later_page(self) -> None:
        if self.pages < 2:
            return
        page = self.rng.randint(2, self.pages)
        self.customer_list(f"/customers/?page={page}", "customer list: page N")

    @task(14)
    def customer_detail(self) -> None:
        """A customer page (its overview tab); every other time, after a look at it, one of its
        other tabs, which the page loads on demand (htmx)."""
        code = self.some_code()
        if code is None:
            return
        self._page(f"/customers/{code}/", "customer detail", 'data-testid="customer-name"')
        if self.rng.random() < TAB_OPENED:
            time.sleep(self.rng.uniform(1, 3))
            tab = self.rng.choices(TABS, weights=TAB_WEIGHTS)[0]
            with self.client.get(
                f"/customers/{code}/tab/{tab}/",
                name="customer tab (on demand)",
                headers={"HX-Request": "true"},
                catch_response=True,
            ) as response:
                if not self._failed(response) and "data-panel=" not in response.text:
                    response.failure("the tab holds no card")

    @task(7)
    def agenda(self) -> None:
        self._page("/visits/", "visits: agenda (today)", 'data-testid="agenda-title"')

    @task(4)
    def visit_list(self) -> None:
        self._page("/visits/all/", "visits: list", 'data-testid="visit-count"')

    @task(5)
    def log_visit(self) -> None:
        """The visit form of one of the user's customers, filled in, then sent."""
        code = self.some_code()
        if code is None:
            return
        with self.client.get(
            f"/visits/log/?customer={code}", name="visit form", catch_response=True
        ) as response:
            if self._failed(response):
                return
            if 'data-testid="visit-form"' not in response.text:
                response.failure("no visit form")
                return
            token = self._match(response, CSRF_RE, "no CSRF token on the visit form")
            client_id = self._match(response, CLIENT_ID_RE, "no draft id on the visit form")
        if token is None or client_id is None:
            return
        time.sleep(self.rng.uniform(1, 3))  # filling in the form (gevent's sleep: monkey-patched)
        now = dt.datetime.now(TZ).replace(second=0, microsecond=0)
        data = {
            "csrfmiddlewaretoken": token,
            **visit_form_data(
                now,
                client_id,
                stock_level=self.rng.choice(["sufficient", "low", ""]),
                price_display=self.rng.choice(["compliant", "partial", ""]),
            ),
        }
        with self.client.post(
            f"/visits/log/?customer={code}",
            data=data,
            name="visit form: save",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if self._unanswered(response):
                return
            if response.status_code != 302 or not VISIT_SAVED_RE.match(location):
                response.failure(f"visit not saved ({response.status_code}, Location {location!r})")
                return
        self._page(location, "visit detail", 'data-testid="visit-purpose"', VISIT_PURPOSE)

    @task(4)
    def services_queue(self) -> None:
        self._page("/services/", "services: request queue", 'data-testid="request-count"')

    @task(1)
    def grading_overview(self) -> None:
        # With grade results, the month's overview; without (the load database has none), the
        # invitation to start a run.
        self._page(
            "/grading/",
            "grading overview",
            any_of=('data-testid="grade-month"', 'data-testid="no-grades"'),
        )
