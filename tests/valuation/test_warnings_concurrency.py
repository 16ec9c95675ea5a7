"""Two refreshes of the early warnings at the same time (the daily one and the monthly chain's;
PostgreSQL only: SQLite serialises writers, so it cannot show the race this guards against).

Both read the same signs before their transactions; the second to write must find the
warnings the first opened (one warning per episode, the unique constraint) and fail on
nothing.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from crm.models import Notification
from customers.models import CustomerSystem
from tests.customers.factories import make_customer
from valuation import services
from valuation.models import EarlyWarning, WarningRefresh

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 20)


def test_two_refreshes_at_once_open_each_warning_once(postgres, areas, make_user, monkeypatch):
    # given 20 customers of one account manager without an order for 50 days
    am = make_user(areas=[areas["TH"]])
    customers = [make_customer(areas["TH"], account_manager=am) for _ in range(20)]
    CustomerSystem.objects.filter(customer__in=customers).update(
        last_order_date=dt.date(2026, 10, 1)
    )
    services.scheme_active()  # created once, before the threads
    # and two refreshes that have both read the signs before either writes
    read = services.warning_signs
    both_read = threading.Barrier(2)

    def signs_then_wait(**kwargs):
        signs = read(**kwargs)
        both_read.wait(timeout=30)
        return signs

    monkeypatch.setattr(services, "warning_signs", signs_then_wait)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            services.warnings_refresh(today=TODAY)
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then one opened the 20 warnings, the other found them
    assert errors == []
    assert EarlyWarning.objects.count() == 20
    assert sorted(WarningRefresh.objects.values_list("opened", "updated", "resolved")) == [
        (0, 0, 0),
        (20, 0, 0),
    ]
    assert Notification.objects.filter(user=am).count() == 1
