"""What the account manager's phone keeps for the road (the offline route, crm/offline.py):
today's and tomorrow's agenda, the customer page of every shop on them and its visit form, as
the agenda and the customer page link to it. The agenda lists these addresses in the page
(#offline-urls) and static/js/offline.js puts them in the service worker's cache."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.urls import reverse

from visits.models import PlannedVisit
from visits.selectors import Agenda


def _code(plan: PlannedVisit) -> str:
    # As the templates' `urlencode` filter writes it, so the kept address is the one clicked.
    return quote(plan.customer.customer_code, safe="/")


def offline_urls(*, agenda: Agenda, today: dt.date) -> list[str]:
    """The addresses to keep when `agenda` is the account manager's own agenda of `today`:
    that agenda, tomorrow's, and per shop planned (or overdue) today or tomorrow its customer
    page and its visit form, started from the plan (the agenda's button) and from the
    customer page (its button)."""
    tomorrow = today + dt.timedelta(days=1)
    agenda_url = reverse("visits:agenda")
    log_url = reverse("visits:log")
    plans = [*agenda.overdue, *agenda.planned]
    for day, day_plans in agenda.upcoming:
        if day == tomorrow:
            plans.extend(day_plans)
    urls = [agenda_url, f"{agenda_url}?day={tomorrow.isoformat()}"]
    for plan in plans:
        code = _code(plan)
        urls += [
            reverse("customers:detail", args=[plan.customer.customer_code]),
            f"{log_url}?customer={code}&plan={plan.pk}",
            f"{log_url}?customer={code}",
        ]
    return list(dict.fromkeys(urls))
