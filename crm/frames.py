"""Bulk reads into pandas and bulk writes from it, the fast way each database allows.

PostgreSQL streams rows with COPY in both directions: reading 600,000 fact rows through
`COPY … TO STDOUT` and `pandas.read_csv` is 2.5-2.9× faster than `pandas.read_sql` or
iterating a cursor (see bench/bench_grading.py). Other databases (SQLite for the quick
start) use a plain cursor; their data sets are small.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from django.db import connection, models


def query_frame(
    sql: str, params: Sequence[Any] = (), *, columns: Sequence[str], dtypes: Mapping[str, Any]
) -> pd.DataFrame:
    """The rows of `sql` (whose SELECT list is `columns`, in order) as a DataFrame.

    `dtypes` names each column's pandas type; date columns are given as "date" and come back
    as `datetime64` (NaT for NULL). Numbers are read as floats or nullable integers: the
    frames feed computations, never stored money.
    """
    dates = [name for name in columns if dtypes.get(name) == "date"]
    plain = {name: kind for name, kind in dtypes.items() if kind != "date"}
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            literal = cursor.cursor.mogrify(sql, list(params))
            with cursor.cursor.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
                for chunk in copy:
                    buffer.write(chunk)
        buffer.seek(0)
        if not buffer.getbuffer().nbytes:
            frame = pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
        else:
            frame = pd.read_csv(
                buffer, header=None, names=list(columns), dtype=plain, keep_default_na=True
            )
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=list(columns))
    for name in columns:
        if name in dates:
            frame[name] = pd.to_datetime(frame[name], errors="coerce")
        elif name in plain:
            frame[name] = frame[name].astype(plain[name])
    return frame


def write_frame(
    model: type[models.Model], frame: pd.DataFrame, *, constants: Mapping[str, Any] | None = None
) -> int:
    """Inserts the rows of `frame` into `model`'s table; its columns are the model's column
    names (`customer_id` for a foreign key), and `constants` gives columns whose value is the
    same in every row (a month, a run id). NaN and None become NULL, except in text columns,
    which are NOT NULL by convention and get "" instead.

    PostgreSQL: pandas' CSV writer feeds COPY in chunks of 20,000 rows, so formatting and the
    server's insert overlap (200,000 rows of 26 columns in about 5 s; formatting a constant
    date or time once instead of per row saves 2 s, see bench/bench_grading.py). Elsewhere
    `bulk_create` in batches of 2,000 (under SQLite's variable limit). Runs inside the
    caller's transaction.
    """
    constants = dict(constants or {})
    columns = [*frame.columns, *constants]
    if frame.empty:
        return 0
    if connection.vendor != "postgresql":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        model.objects.bulk_create(
            (model(**record, **constants) for record in records), batch_size=2000
        )
        return len(frame)
    fields = [model._meta.get_field(name) for name in columns]
    text = [f.column for f in fields if isinstance(f, models.CharField | models.TextField)]
    quote = connection.ops.quote_name
    options = "FORMAT csv" + (
        f", FORCE_NOT_NULL ({', '.join(quote(c) for c in text)})" if text else ""
    )
    written = {
        name: "" if value is None else value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in constants.items()
    }
    sql = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"FROM STDIN WITH ({options})"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for start in range(0, len(frame), _COPY_CHUNK):
            chunk = frame.iloc[start : start + _COPY_CHUNK].assign(**written)
            copy.write(chunk.to_csv(header=False, index=False, na_rep=""))
    return len(frame)


_COPY_CHUNK = 20_000
