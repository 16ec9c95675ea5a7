"""What the account manager's phone keeps for the road (the offline route, crm/offline.py):
today's and tomorrow's agenda, the customer page of every shop on them and its visit form, as
the agenda and the customer page link to it. The agenda lists these addresses in the page
(#offline-urls) and static/js/offline.js puts them in the service worker's cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

from django.urls import reverse

from crm.navigation import url_builder
from visits.selectors import Agenda


def visit_log_links() -> Callable[..., str]:
    """A builder of the visit form's address started for a customer, and for a plan when
    given: what the agenda's "Start visit" button links to and what the phone keeps, so the
    two are one address. The code is written as the templates' `urlencode` filter writes it
    (the customer page's button); `visits:log` is reversed once."""
    log_url = reverse("visits:log")

    def link(customer_code: str, plan: int | None = None) -> str:
        url = f"{log_url}?customer={quote(customer_code, safe='/')}"
        return url if plan is None else f"{url}&plan={plan}"

    return link


def offline_urls(*, agenda: Agenda, today: dt.date) -> list[str]:
    """The addresses to keep when `agenda` is the account manager's own agenda of `today`:
    that agenda, tomorrow's, and per shop planned (or overdue) today or tomorrow its customer
    page and its visit form, started from the plan (the agenda's button) and from the
    customer page (its button).

    Tomorrow's shops come from the agenda's days ahead (ids and codes: the agenda reads the
    days ahead's visits only when one is opened). An opened day (an htmx fragment) is not
    kept: the service worker keeps pages; with no network the day's link opens tomorrow's
    kept agenda instead."""
    tomorrow = today + dt.timedelta(days=1)
    agenda_url = reverse("visits:agenda")
    visit_log = visit_log_links()
    customer_url = url_builder("customers:detail")
    plans = [(plan.pk, plan.customer.customer_code) for plan in (*agenda.overdue, *agenda.planned)]
    for coming in agenda.upcoming:
        if coming.day == tomorrow:
            plans.extend(coming.plans)
    urls = [agenda_url, f"{agenda_url}?day={tomorrow.isoformat()}"]
    for pk, customer_code in plans:
        urls += [
            customer_url(customer_code),
            visit_log(customer_code, pk),
            visit_log(customer_code),
        ]
    return list(dict.fromkeys(urls))
