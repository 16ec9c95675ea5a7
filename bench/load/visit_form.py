"""What the load test sends as a filled-in visit form (locustfile.py and profile_pages.py):
no Django and no locust here, so both can import it."""

from __future__ import annotations

import datetime as dt

# Purpose of the visits the load test stores, so run_load.py can take them away before a rerun.
VISIT_PURPOSE = "负载测试拜访"


def visit_form_data(
    now: dt.datetime, client_id: str, *, stock_level: str, price_display: str
) -> dict[str, str]:
    """The visit form's fields: a 14-minute visit ending a minute before `now` (wall-clock time
    of the site's zone), the load test's purpose, the follow-up rows left empty."""
    data = {
        "visited_at": f"{now - dt.timedelta(minutes=15):%Y-%m-%dT%H:%M}",
        "ended_at": f"{now - dt.timedelta(minutes=1):%Y-%m-%dT%H:%M}",
        "visit_type": "routine",
        "purpose": VISIT_PURPOSE,
        "stock_level": stock_level,
        "stock_notes": "",
        "price_display": price_display,
        "competitor_notes": "",
        "customer_requests": "",
        "latitude": "",
        "longitude": "",
        "location_accuracy_m": "",
        "client_id": client_id,
    }
    for row in range(3):
        data[f"fu{row}-action"] = ""
        data[f"fu{row}-due_date"] = ""
    return data
