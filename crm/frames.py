"""Bulk reads into pandas and bulk writes from it, the fast way each database allows.

PostgreSQL, reading: Arrow through `adbc-driver-postgresql` (binary COPY decoded in C++ into
columns), on a connection of its own in autocommit — 2.25 M fact rows in about 2.4 s, where
psycopg's COPY handed them over one row at a time for `read_csv` (3.8 s) and a binary COPY
decoded with NumPy took 2.9 s; the server's own COPY of the same query is 2.3 s of that (see
bench/README.md). That connection sees only committed rows, so inside a transaction (a test, a
write that reads its own rows) the read goes through Django's connection with COPY + CSV as
before. Other databases (SQLite for the quick start and the tests) use a plain cursor; their
data sets are small.

PostgreSQL, writing: COPY from CSV that Arrow's C++ writer formats (200,000 rows × 42 mostly
float columns in about 0.6 s instead of pandas' 4.4 s), on Django's connection, inside the
caller's transaction. `stale_rows_delete` compares each row's digest (`row_digests`) with the
stored one first, so a month computed again writes only what changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import sys
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, models
from psycopg.conninfo import make_conninfo

try:  # optional: the fast paths; without them everything runs through psycopg as before
    import pyarrow as pa
    import pyarrow.csv as pa_csv
except ImportError:  # pragma: no cover
    pa = pa_csv = None
try:
    import adbc_driver_postgresql.dbapi as adbc
except ImportError:  # pragma: no cover
    adbc = None


# --- memory -------------------------------------------------------------------------------
# The monthly chain allocates and frees many arrays of 2-20 MB (a column of 2.25 M facts, a
# customer × month matrix). glibc's malloc raises its mmap threshold after each such free (up
# to 32 MB), so later arrays come from the heap and the arenas of the read threads, whose
# freed memory the process keeps; Arrow's jemalloc pool keeps its own. A fixed threshold of
# 1 MB (large blocks always mmapped, returned when freed) and Arrow on the system allocator
# took the chain's peak from 806 to about 700 MB and its resident memory after the grading
# from 556 to about 410 MB (bench/README.md). Process-wide, set once when this module is
# imported; small allocations are unaffected.

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def _return_freed_memory() -> None:
    if pa is not None:
        pa.set_memory_pool(pa.system_memory_pool())
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to set
            ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 1 << 20)


_return_freed_memory()


# --- reading --------------------------------------------------------------------------


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
        frame = _arrow_frame(sql, params, columns=columns, dtypes=dtypes)
        if frame is None:
            frame = _copy_frame(sql, params, columns=columns, plain=plain)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=list(columns))
    for name in columns:
        if name in dates:
            frame[name] = pd.to_datetime(frame[name], errors="coerce").astype("datetime64[us]")
        elif name in plain:
            frame[name] = frame[name].astype(plain[name])
    return frame


def _copy_frame(
    sql: str, params: Sequence[Any], *, columns: Sequence[str], plain: Mapping[str, Any]
) -> pd.DataFrame:
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        literal = cursor.cursor.mogrify(sql, list(params))
        with cursor.cursor.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    return pd.read_csv(buffer, header=None, names=list(columns), dtype=plain, keep_default_na=True)


# PostgreSQL types the Arrow read casts each pandas type to, so that numeric columns arrive
# as float64 buffers rather than one Python string per value.
# Integer columns that cannot be NULL keep their width (int4 arrives as int32 and is widened
# column by column in NumPy, half the Arrow buffer of a cast to int8).
_ARROW_CASTS = {"float64": "float8", "Int64": "int8", "date": "date"}
_INT64_NULLABLE = {pa.int64(): pd.Int64Dtype()} if pa is not None else {}


def _arrow_frame(
    sql: str, params: Sequence[Any], *, columns: Sequence[str], dtypes: Mapping[str, Any]
) -> pd.DataFrame | None:
    """The Arrow read, or None where it cannot be used (no driver, inside a transaction
    whose uncommitted rows another connection would not see)."""
    if adbc is None or pa is None or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        literal = cursor.cursor.mogrify(sql, list(params))
    names = [f"c{i}" for i in range(len(columns))]
    select = ", ".join(
        f"q.{name}::{_ARROW_CASTS[str(dtypes.get(column))]}"
        if str(dtypes.get(column)) in _ARROW_CASTS
        else f"q.{name}"
        for name, column in zip(names, columns, strict=True)
    )
    wrapped = f"SELECT {select} FROM ({literal}) AS q({', '.join(names)})"  # noqa: S608 (mogrified)
    table = _arrow_fetch(wrapped)
    # Column by column, each Arrow column released once converted: the whole table and the
    # whole frame never coexist (2.25 M facts: about 200 MB less at the peak).
    data = {}
    for name in columns:
        column = table.column(0)
        table = table.remove_column(0)
        # Nullable 64-bit integers as Int64, not through float64 (exact beyond 2⁵³: digests).
        mapper = _INT64_NULLABLE.get if str(dtypes.get(name)) == "Int64" else None
        data[name] = column.to_pandas(date_as_object=False, types_mapper=mapper)
        del column
    return pd.DataFrame(data, copy=False)


# The bulk reads' own sessions get more sort/hash memory than the server's default (4MB):
# the first order dates (a MIN per customer over every fact) spilled to disk at 4MB and took
# 1.8 s instead of about 0.5 (200,000 customers, 2.25 M facts).
_ARROW_WORK_MEM = "64MB"


def _arrow_fetch(sql: str) -> Any:
    """Runs `sql` on an ADBC connection of its own (autocommit, closed after the read: about
    20 ms to open, against seconds of reading; a cached one would outlive Django's and the
    threads of a chain) and returns the Arrow table."""
    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port", "sslmode")
    conninfo = make_conninfo(**{k: params[k] for k in keys if params.get(k) not in (None, "")})
    with adbc.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(f"SET work_mem = '{_ARROW_WORK_MEM}'")
        cursor.execute(sql)
        return cursor.fetch_arrow_table()


def concurrent_reads_possible() -> bool:
    """Whether reads may run at once in threads: Arrow reads, each thread on connections of
    its own, of committed rows (not inside a transaction, whose rows they would not see)."""
    return (
        connection.vendor == "postgresql"
        and adbc is not None
        and pa is not None
        and not connection.in_atomic_block
    )


# --- writing --------------------------------------------------------------------------


def write_frame(
    model: type[models.Model], frame: pd.DataFrame, *, constants: Mapping[str, Any] | None = None
) -> int:
    """Inserts the rows of `frame` into `model`'s table; its columns are the model's column
    names (`customer_id` for a foreign key), and `constants` gives columns whose value is the
    same in every row (a month, a run id). NaN and None become NULL, except in text columns,
    which are NOT NULL by convention and get "" instead.

    PostgreSQL: COPY from CSV in chunks of 20,000 rows, formatted by Arrow's writer (pandas'
    `to_csv` where Arrow cannot convert a column); a constant is formatted once. Elsewhere
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
            copy.write(_csv(chunk))
    return len(frame)


_COPY_CHUNK = 20_000


def _csv(frame: pd.DataFrame) -> bytes | str:
    """`frame` as CSV rows without a header: NULL as an empty field, text quoted (so an
    empty text stays ""). Arrow's writer prints floats as the shortest text that reads back
    as the same number, as pandas does."""
    if pa is not None:
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
            return buffer.getvalue()
        except (pa.ArrowException, TypeError, ValueError):
            pass  # a column Arrow cannot convert (mixed objects): pandas' writer
    return frame.to_csv(header=False, index=False, na_rep="")


def stale_rows_delete(
    model: type[models.Model],
    frame: pd.DataFrame,
    digests: np.ndarray,
    *,
    where: Mapping[str, Any],
    key: str = "customer_id",
    stored: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Makes the rows of `model` under `where` (one month's results) ready to receive `frame`
    (one row per `key`) whose rows' digests are `digests` (`row_digests`): deletes the stored
    rows whose key is missing from `frame` or whose stored `digest` differs (NULL counts as
    different: a row written before digests, or changed outside the runs), and returns the
    rows of `frame` to write (new or changed) with their `digest` column — so a month computed
    again with the same outcome writes nothing.

    `stored` is the result of `stored_digests` read beforehand (outside the write's
    transaction, where the Arrow read is possible); read here otherwise. Elsewhere than
    PostgreSQL (SQLite: the quick start, the tests) the plain path: every row under `where` is
    deleted and all of `frame` returned. Call inside the write's transaction."""
    queryset = model.objects.filter(**where)
    if connection.vendor != "postgresql":
        queryset.delete()
        return frame.assign(digest=digests)
    if stored is None:
        stored = stored_digests(model, where=where, key=key)
    stored_keys = stored[key].to_numpy(dtype="int64")
    stored_digest = stored["digest"]
    known = stored_digest.notna().to_numpy()
    stored_digest = stored_digest.fillna(0).to_numpy(dtype="int64")
    at = pd.Index(stored_keys).get_indexer(frame[key].to_numpy())
    found = at >= 0
    same = np.zeros(len(frame), dtype=bool)
    same[found] = known[at[found]] & (stored_digest[at[found]] == digests[found])
    kept = np.zeros(len(stored_keys), dtype=bool)
    kept[at[same]] = True
    stale = stored_keys[~kept]
    for start in range(0, len(stale), _DELETE_CHUNK):
        queryset.filter(**{f"{key}__in": stale[start : start + _DELETE_CHUNK].tolist()}).delete()
    if not same.any():  # a first write: all of `frame`, not a copy of it
        return frame.assign(digest=digests)
    return frame[~same].assign(digest=digests[~same])


_DELETE_CHUNK = 50_000


def stored_digests(
    model: type[models.Model], *, where: Mapping[str, Any], key: str = "customer_id"
) -> pd.DataFrame:
    """The `key` and `digest` (nullable) of the stored rows under `where`, what
    `stale_rows_delete` compares (nothing elsewhere than PostgreSQL, where the plain path
    replaces every row without comparing)."""
    if connection.vendor != "postgresql":
        return pd.DataFrame()
    qs = model.objects.filter(**where).order_by().values_list(key, "digest")
    return query_frame(
        *qs.query.sql_with_params(),
        columns=[key, "digest"],
        dtypes={key: "int64", "digest": "Int64"},
    )


# --- row digests --------------------------------------------------------------------------
# A stored result row carries a 64-bit digest of its values, so that a month computed again is
# compared by reading (customer, digest) instead of every column back (200,000 rows × 20-40
# columns through Arrow: 1.3 s of the monthly chain and its largest frame).
# Each column is normalised to what PostgreSQL stores and hashed by pandas' `hash_array`
# (numbers: a fixed bijective mix of their 64 bits; text: SipHash-2-4 with `_DIGEST_KEY` over
# UTF-8), then the columns are folded in name order by `(digest ^ (column + name)) × odd`,
# bijective in each column: rows differing in one number always differ in digest, in text
# with the chance of a SipHash collision (2⁻⁶⁴). Nothing depends on the process (no Python
# `hash`, no seed), so every worker and machine computes the same digest; a pandas that hashed
# differently would only make every row be written once more.

_DIGEST_KEY = "crm.row.digest.1"  # SipHash's key: exactly 16 bytes
_DIGEST_FOLD = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection mod 2⁶⁴


def row_digests(
    model: type[models.Model],
    frame: pd.DataFrame,
    *,
    constants: Mapping[str, Any] | None = None,
    ignore: Sequence[str] = (),
) -> np.ndarray:
    """The digest (int64, for a bigint column) of each row of `frame` as stored in `model`'s
    table: over its columns (named as the model's columns) and `constants` (the same in every
    row: a scheme id), except those in `ignore` (which run wrote a row, when). Each value as
    PostgreSQL stores it: decimals rounded at the field's places as numeric input rounds the
    CSV's text, numbers and booleans as floats (NULL and NaN alike), text with NULL as "",
    dates with NULL as NaT."""
    constants = dict(constants or {})
    names = sorted(name for name in [*frame.columns, *constants] if name not in ignore)
    rows = len(frame)
    digests = np.zeros(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in names:
            field = model._meta.get_field(name)
            if name in frame.columns:
                hashed = _column_hash(frame[name], field)
            else:
                hashed = np.repeat(_column_hash(pd.Series([constants[name]]), field), rows)
            label = pd.util.hash_array(np.array([name], dtype=object), hash_key=_DIGEST_KEY)
            digests = (digests ^ (hashed + label[0])) * _DIGEST_FOLD
    return digests.view(np.int64)


def _column_hash(values: pd.Series, field: models.Field) -> np.ndarray:
    """The uint64 hash of each value of a column as PostgreSQL stores it in `field`."""
    if isinstance(field, models.CharField | models.TextField):
        # Few distinct texts (codes, tiers): each hashed once, then spread by its code; NULL
        # (code -1) takes the last one, "".
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        text = np.array([*(str(u) for u in uniques), ""], dtype=object)
        return pd.util.hash_array(text, hash_key=_DIGEST_KEY, categorize=False)[codes]
    if isinstance(field, models.DateField):
        days = pd.to_datetime(values).astype("datetime64[us]").to_numpy().view(np.int64)
        return pd.util.hash_array(days)  # NaT: one fixed integer
    if isinstance(field, models.BooleanField):
        numbers = values.astype(object).map({True: 1.0, False: 0.0, "t": 1.0, "f": 0.0})
        numbers = numbers.astype("float64").to_numpy()
    else:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        if isinstance(field, models.DecimalField):
            numbers = _decimal_rounded(numbers, field.decimal_places)
    # One NaN (any sign or payload) and one zero (-0.0 is 0 in numeric), whatever pandas does.
    numbers = np.where(np.isnan(numbers), np.nan, numbers + 0.0)
    return pd.util.hash_array(numbers)


def _decimal_rounded(values: np.ndarray, places: int) -> np.ndarray:
    """`values` as PostgreSQL stores them in a numeric column of `places` decimals when given
    as the shortest text of each float (what the CSV holds): rounded half away from zero, as
    the nearest float. Far from a tie NumPy's rounding agrees; the few values within a few
    units in the last place of a tie are rounded in Python from their text."""
    scale = 10.0**places
    scaled = values * scale
    rounded = np.round(scaled)
    finite = np.isfinite(scaled)
    distance = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5)
    ties = np.flatnonzero(finite & (distance <= 8 * np.spacing(np.abs(scaled)) + 1e-12))
    unit = Decimal(1).scaleb(-places)
    for i in ties:
        exact = Decimal(repr(float(values[i]))).quantize(unit, rounding=ROUND_HALF_UP)
        rounded[i] = float(exact.scaleb(places))
    return rounded / scale
