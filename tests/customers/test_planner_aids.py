"""What PostgreSQL is given to plan an account manager's pages well at 200,000 shops (issue 23's
third pass, bench/README.md): checked in the catalogue, since a test database is too small for
the planner to choose differently without them."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_birthday_statistics_keep_every_month_and_day(postgres):
    """customers 0016: with a count for each of the 366 month/day pairs, the week's birthdays
    of one account manager are read from his own shops, not from the company's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxstattarget FROM pg_statistic_ext WHERE stxname = %s",
            ["customers_dynamic_birthday_stats"],
        )
        assert cursor.fetchone() == (1000,)


def test_an_account_managers_customers_are_listed_with_their_ids(postgres):
    """customers 0017: the account manager's index carries the customer's id, so joining his
    shops to their plans or requests reads the index alone; the plain one is gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer' "
            "AND indexdef LIKE '%%(account_manager_id)%%'"
        )
        indexes = dict(cursor.fetchall())
    assert list(indexes) == ["customers_manager_idx"]
    assert indexes["customers_manager_idx"].endswith("(account_manager_id) INCLUDE (id)")
