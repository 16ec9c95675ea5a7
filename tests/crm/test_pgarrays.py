"""`crm.pgarrays.array_literal`: the array PostgreSQL reads back is the values sent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from crm.pgarrays import array_literal

TEXTS = [
    "plain",
    "",
    "NULL",
    "null",
    "with space",
    " padded ",
    'a "quoted" word',
    "back\\slash",
    "\\",
    '\\"',
    "{braces}",
    "a,b",
    "tab\there",
    "line\nbreak",
    "中华(12)",
    "\u3000ideographic space",
    "'single'",
    "$1",
    None,
]


def test_the_literal_of_numbers_and_dates_is_their_text():
    # given / when / then: what str and isoformat write, NULL for None
    assert array_literal([1, 22, None], "bigint") == "{1,22,NULL}"
    assert array_literal([Decimal("230.00"), Decimal("-1.50")], "numeric") == "{230.00,-1.50}"
    assert array_literal([dt.date(2026, 12, 7), None], "date") == "{2026-12-07,NULL}"
    assert array_literal([True, False, None], "boolean") == "{t,f,NULL}"
    assert array_literal([], "text") == "{}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("text", TEXTS),
        ("bigint", [1, -5, 9_223_372_036_854_775_807, None]),
        ("integer", [0, 1_000_000, None]),
        ("numeric", [Decimal("230.00"), Decimal("0.00"), Decimal("-12.35"), None]),
        ("date", [dt.date(2026, 1, 31), None, dt.date(1999, 12, 1)]),
        ("boolean", [True, None, False]),
        (
            "timestamptz",
            [dt.datetime(2026, 12, 7, 9, 30, 1, 123456, tzinfo=dt.UTC), None],
        ),
    ],
)
def test_postgresql_reads_back_the_values_sent(postgres, kind, values):
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v FROM unnest(%s::{kind}[]) WITH ORDINALITY AS a(v, n) ORDER BY n",  # noqa: S608
            [array_literal(values, kind)],
        )
        back = [row[0] for row in cursor.fetchall()]
    # then
    assert back == values
    assert [type(v) for v in back] == [type(v) for v in values]
