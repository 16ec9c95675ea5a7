"""Reading customer files (CSV, XLSX) into catalogue-named rows, and writing exports.

Pure reading and writing: nothing here writes to the database. The import services
(`customers.imports`, the `import_customers` command) and the export views build on it.

Reading rules, shared by the import page and the command:

- the first row is the header; a header cell may be a catalogue name (`store_name`), an
  English label ("Store name") or a Chinese label ("店铺名称"), matched case-insensitively,
  ignoring surrounding spaces and full-width/half-width differences;
- an unknown header, a header given twice, a missing `customer_code` column or data under a
  column without a header is refused with a DomainError naming them;
- **empty cells are left out of the row**, so an import never clears a field: to clear a
  value, edit the customer instead;
- system-generated columns (grade, purchase figures…) are read-only: they are skipped and
  listed in `Table.ignored_columns`, so an export (which carries them) re-imports cleanly;
- fully empty rows are skipped; `Table.row_numbers` keeps each row's spreadsheet row number
  (header = 1) for reports;
- every value becomes text: XLSX dates as ISO `YYYY-MM-DD`, whole numbers without a
  trailing `.0` (a code that Excel stored as the number 440100000001 keeps all its digits);
- limits (the CRM_IMPORT_* settings) are checked before parsing: the
  uncompressed size (a CSV's bytes; an XLSX's members, read from the zip's directory, with
  each member's compression ratio), then the number of rows while streaming (an XLSX's parts
  are counted with expat before openpyxl opens them), so a "zip bomb" of millions of rows is
  refused after reading one row more than the limit.

Exports use the catalogue names as the header row, in catalogue order, so an export can be
edited and imported again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import IO, Any
from xml.parsers import expat

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from crm.exceptions import DomainError
from crm.stored_text import nested, rendered
from crm.stored_text import text as stored_text
from customers.catalogue import CATALOGUE, FIELDS, external_value

CSV_EXTENSIONS = {".csv"}
XLSX_EXTENSIONS = {".xlsx", ".xlsm"}

# Rows buffered per chunk yielded by `write_csv`: about 0.5 MB of text, few enough chunks
# that a 200,000-row export is not slowed by per-chunk overhead in the response.
CSV_CHUNK_ROWS = 1000
# Rows fetched per round trip when exporting: bounds memory whatever the size of the export.
EXPORT_CHUNK_SIZE = 2000


# Members smaller than this may compress as well as they like (a few repeated XML lines do):
# only a large one can hide enough work to matter.
RATIO_MIN_BYTES = 1024 * 1024
# A workbook has a dozen members; thousands are a zip built to be slow to open.
XLSX_MAX_MEMBERS = 1000
# Columns read from a sheet (the catalogue has fewer than 70; an export carries all of them):
# cells further right are not read.
XLSX_MAX_COLUMNS = 512


@dataclass
class Table:
    """A customer file as read: catalogue-named rows and where each came from."""

    rows: list[dict[str, str]]
    row_numbers: list[int]  # spreadsheet row number of each row (header = 1)
    columns: list[str]  # catalogue names of the columns read, in file order
    ignored_columns: list[str] = field(default_factory=list)  # system-generated, skipped


# --- reading -----------------------------------------------------------------------------


def _header_key(text: str) -> str:
    # NFKC folds full-width brackets and letters ("（元）" = "(元)") and "m²" to "m2".
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _header_names() -> dict[str, str]:
    """Every accepted header spelling -> catalogue name."""
    names: dict[str, str] = {}
    for spec in FIELDS:
        for spelling in (spec.name, spec.label_en, spec.label_zh):
            names[_header_key(str(spelling))] = spec.name
    return names


def read_rows(fileobj: IO[bytes], filename: str) -> list[dict[str, str]]:
    """Rows of catalogue-named text values from a CSV or XLSX file (see the module's rules)."""
    return read_table(fileobj, filename).rows


def check_file_type(filename: str) -> str:
    """The file's extension if it is one we read; DomainError otherwise."""
    extension = PurePath(filename or "").suffix.lower()
    if extension not in CSV_EXTENSIONS and extension not in XLSX_EXTENSIONS:
        raise DomainError(
            rendered(
                "customers.import.file.type",
                ext=extension or nested(stored_text("customers.import.file.no_extension")),
            ),
            field="file",
        )
    return extension


def check_file_limits(fileobj: IO[bytes], extension: str) -> None:
    """Refuses (DomainError on `file`) a file whose uncompressed data is over the limits
    (CRM_IMPORT_MAX_MB, CRM_IMPORT_MAX_RATIO), without parsing it: a CSV by its size, an XLSX
    by its zip directory. The file is left at its start."""
    max_bytes = settings.CRM_IMPORT_MAX_MB * 1024 * 1024
    max_ratio = settings.CRM_IMPORT_MAX_RATIO
    if extension in CSV_EXTENSIONS:
        fileobj.seek(0, 2)
        size = fileobj.tell()
        fileobj.seek(0)
        if size > max_bytes:
            raise _too_big()
        return
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _unreadable_workbook(exc) from exc
    finally:
        fileobj.seek(0)
    if len(members) > XLSX_MAX_MEMBERS:
        raise DomainError(
            rendered("customers.import.file.parts", n=len(members)),
            field="file",
        )
    if sum(member.file_size for member in members) > max_bytes:
        raise _too_big()
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_MIN_BYTES and ratio > max_ratio:
            raise DomainError(
                rendered(
                    "customers.import.file.ratio",
                    member=member.filename,
                    ratio=int(ratio),
                    limit=max_ratio,
                ),
                field="file",
            )


def _xlsx_scan_rows(fileobj: IO[bytes], max_rows: int) -> None:
    """Refuses a workbook with a part of more than `max_rows` data rows, streaming.

    Run before openpyxl opens the workbook: opening it reads each sheet that does not declare
    its size from start to end, keeping an empty element per row (the issue's 2 M rows took
    2 GB there, before a row could be counted). Here every part is parsed with expat in chunks,
    keeping nothing but a count, and the parse stops at the first row over the limit (by
    count, or by a row number that leaves that many rows before it), or at a sheet's declared
    size (Excel and openpyxl write it first: a usual workbook costs next to nothing here).
    Parts that are not XML (pictures, printer settings) are left to openpyxl; a document type
    declaration, which no spreadsheet part has, is refused.
    """
    try:
        with zipfile.ZipFile(fileobj) as archive:
            for member in archive.infolist():
                with archive.open(member) as part:
                    _scan_part(part, max_rows)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise _unreadable_workbook(exc) from exc
    finally:
        fileobj.seek(0)


# Bytes of a workbook part parsed at a time while counting its rows.
SCAN_CHUNK_BYTES = 256 * 1024


class _PartDone(Exception):
    """Ends the scan of a part early (expat has no other way out of a parse)."""


def _scan_part(part: IO[bytes], max_rows: int) -> None:
    rows = 0
    last_allowed = max_rows + 1  # the header row and max_rows data rows
    in_data = False

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal rows, in_data
        local = name.rpartition(" ")[2]
        if local == "row":
            rows += 1
            number = attributes.get("r", "")
            if rows > last_allowed or (number.isdigit() and int(number) > last_allowed):
                raise _too_many_rows(max_rows)
        elif local == "sheetData":
            in_data = True
        elif local == "dimension" and not in_data:
            # A sheet that declares its size first: openpyxl stops reading there when it
            # opens the workbook, and `_table` counts the rows it then hands out.
            raise _PartDone

    def doctype(*_args: Any) -> None:
        raise DomainError(
            rendered("customers.import.file.doctype"),
            field="file",
        )

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    try:
        while chunk := part.read(SCAN_CHUNK_BYTES):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _PartDone:
        return
    except expat.ExpatError:
        return  # not XML: openpyxl judges the part if it is one it reads


def _unreadable_workbook(exc: Exception) -> DomainError:
    return DomainError(
        rendered("customers.import.file.unreadable_workbook", error=str(exc)), field="file"
    )


def _too_many_rows(max_rows: int) -> DomainError:
    return DomainError(
        rendered("customers.import.file.too_many_rows", n=f"{max_rows:,}"),
        field="file",
    )


def _too_big() -> DomainError:
    return DomainError(
        rendered("customers.import.file.too_big", n=settings.CRM_IMPORT_MAX_MB),
        field="file",
    )


def read_table(fileobj: IO[bytes], filename: str) -> Table:
    """Reads a CSV or XLSX file; like `read_rows` but with row numbers and column facts,
    within the CRM_IMPORT_* limits (see the module's rules)."""
    extension = check_file_type(filename)
    check_file_limits(fileobj, extension)
    max_rows = settings.CRM_IMPORT_MAX_ROWS
    if extension in CSV_EXTENSIONS:
        records = _csv_records(fileobj)
    else:
        _xlsx_scan_rows(fileobj, max_rows)
        records = _xlsx_records(fileobj)
    try:
        return _table(records, max_rows=max_rows)
    except (UnicodeError, csv.Error, ValueError, KeyError, OSError) as exc:
        # KeyError/ValueError: openpyxl on a damaged workbook; csv.Error: a malformed CSV.
        raise DomainError(
            rendered("customers.import.file.unreadable", error=str(exc)), field="file"
        ) from exc


def _table(records: Iterator[Sequence[Any]], *, max_rows: int) -> Table:
    header = next(records, None)
    if header is None:
        raise DomainError(rendered("customers.import.file.empty"), field="file")
    names = _header_names()
    positions: list[tuple[int, str]] = []  # (column index, catalogue name)
    unknown, seen, headerless = [], {}, set()
    for position, cell in enumerate(header):
        text = _text(cell)
        if not text:
            headerless.add(position)
            continue
        name = names.get(_header_key(text))
        if name is None:
            unknown.append(text)
        elif name in seen:
            raise DomainError(
                rendered(
                    "customers.import.file.column_twice",
                    first=seen[name],
                    second=text,
                    name=name,
                ),
                field="file",
            )
        else:
            seen[name] = text
            positions.append((position, name))
    if unknown:
        raise DomainError(
            rendered("customers.import.file.unknown_columns", columns=", ".join(unknown)),
            field="file",
        )
    if "customer_code" not in seen:
        raise DomainError(rendered("customers.import.file.no_code_column"), field="file")

    ignored = [name for _pos, name in positions if CATALOGUE[name].is_system]
    kept = [(pos, name) for pos, name in positions if not CATALOGUE[name].is_system]
    width = len(header)
    rows: list[dict[str, str]] = []
    row_numbers: list[int] = []
    stray: set[int] = set()  # columns without a header that hold data
    for number, record in enumerate(records, start=2):
        # Every row read counts (empty ones too: a bomb may be millions of them), and the
        # reading stops at the first one over the limit.
        if number - 1 > max_rows:
            _close(records)
            raise _too_many_rows(max_rows)
        texts = [_text(cell) for cell in record]
        if not any(texts):
            continue
        stray.update(
            pos for pos, text in enumerate(texts) if text and (pos >= width or pos in headerless)
        )
        rows.append(
            {name: texts[pos] for pos, name in kept if pos < len(texts) and texts[pos] != ""}
        )
        row_numbers.append(number)
    if stray:
        raise DomainError(
            rendered(
                "customers.import.file.headerless",
                columns=", ".join(get_column_letter(pos + 1) for pos in sorted(stray)),
            ),
            field="file",
        )
    return Table(
        rows=rows,
        row_numbers=row_numbers,
        columns=[name for _pos, name in kept],
        ignored_columns=ignored,
    )


def _close(records: Iterator[Any]) -> None:
    close = getattr(records, "close", None)
    if close is not None:
        close()  # a generator's `finally` closes the workbook


def _csv_records(fileobj: IO[bytes]) -> Iterator[list[str]]:
    data = fileobj.read()
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on a Chinese Windows saves "CSV" in the ANSI code page (GBK); GB18030
            # is its superset and decodes any byte string GBK produced.
            text = data.decode("gb18030")
    del data
    reader = csv.reader(io.StringIO(text, newline=""))
    return ([_csv_unescape(cell) for cell in record] for record in reader)


def _csv_unescape(text: str) -> str:
    """Undoes the apostrophe `write_csv` puts before formula-like text, so exports re-import."""
    stripped = text.strip()
    if stripped[:1] == "'" and stripped[1:2] and stripped[1] in "=+-@\t\r":
        return stripped[1:]
    return text


def _xlsx_records(fileobj: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError… on bad files
        raise _unreadable_workbook(exc) from exc

    sheet = workbook.worksheets[0]
    # openpyxl pads every row to the sheet's declared width (or, undeclared, to its last
    # cell's column): a sheet claiming 16,384 columns would make each row that long.
    width = min(sheet.max_column or XLSX_MAX_COLUMNS, XLSX_MAX_COLUMNS)

    def records() -> Iterator[tuple[Any, ...]]:
        try:
            yield from sheet.iter_rows(values_only=True, max_col=width)
        finally:
            workbook.close()

    return records()


def _text(value: Any) -> str:
    """A cell's value as stripped text (see the module's rules)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        # Whole numbers (codes, counts) lose the ".0"; floats hold integers exactly to 2**53.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


# --- writing -----------------------------------------------------------------------------


def export_columns() -> list[str]:
    """Every catalogue name, in catalogue order: the header row of exports."""
    return [spec.name for spec in FIELDS]


def customer_rows(queryset: QuerySet, columns: Sequence[str]) -> Iterator[list[Any]]:
    """Each customer of `queryset` as a list of external values (codes, usernames, ISO dates).

    The caller scopes and filters the queryset; here every reference is joined so there is
    no query per row, and rows are fetched in chunks so memory stays flat.
    """
    queryset = queryset.select_related(
        "dynamic", "system", "area", "account_manager", "license_officer"
    )
    for customer in queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [external_value(customer, name) for name in columns]


# Cells that Excel would run as a formula when a CSV is opened (CSV injection). Numbers and
# phone numbers such as "+86 138 0000 0000" or "-12.5" are harmless and left alone.
_FORMULA_START = ("=", "@", "\t", "\r")
_NUMBERISH = re.compile(r"[+-][\d .\-]*")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) or (
        text[:1] in ("+", "-") and not _NUMBERISH.fullmatch(text)
    ):
        return "'" + text
    return text


def write_csv(rows_iter: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[bytes]:
    """Encoded CSV chunks for a StreamingHttpResponse: UTF-8 with a BOM (so Excel shows the
    Chinese text correctly), header row of catalogue names.

    Cells that Excel would run as formulas get a leading apostrophe, which `read_rows`
    removes again; the XLSX export needs none (its cells are typed).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows_iter:
        writer.writerow([_csv_cell(value) for value in row])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    rows_iter: Iterable[Sequence[Any]], columns: Sequence[str], *, title: str = "customers"
) -> bytes:
    """An .xlsx workbook (one sheet, header row of catalogue names) as bytes.

    openpyxl's write-only mode streams rows to a temporary file, so memory stays small
    while rows are added. Codes stay text; decimal and integer fields become numbers and
    date fields real dates, so Excel can sum and sort them; text is never a formula.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])  # Excel's sheet-name limit
    sheet.append(list(columns))
    kinds = [_xlsx_kind(name) for name in columns]
    for row in rows_iter:
        sheet.append(
            [_xlsx_cell(sheet, kind, value) for kind, value in zip(kinds, row, strict=True)]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_kind(name: str) -> str:
    spec = CATALOGUE.get(name)
    if spec is None or spec.is_reference:
        return "text"
    model_field = spec.model_field
    if isinstance(model_field, models.DateField):
        return "date"
    if isinstance(model_field, (models.DecimalField, models.IntegerField)):
        return "number"
    return "text"


def _xlsx_cell(sheet, kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "number" and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            # openpyxl stores text starting with "=" as a formula; force a text cell.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
    return value
