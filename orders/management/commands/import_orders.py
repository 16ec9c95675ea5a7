"""import_orders FILE.csv [--source NAME] [--dry-run]: backfills order history from a file.

The file is streamed (never loaded whole): rows are gathered into orders, orders into batches
of 1,000, and each batch goes through the same checks and writes as the REST sync. The
monthly facts of every touched (customer, month) are refreshed once at the end rather than
after each batch, which is what makes years of history quick to load. Each batch marks the
facts it makes stale in its own transaction (`SalesFactPending`), so an import that is
stopped half-way (killed, out of memory, a restart) leaves those marks: the next import, a
rebuild or the half-hourly drain refreshes them, even though the rerun finds the orders of
the stored batches unchanged.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm import faults
from crm.choices import AuditSource, Role
from crm.models import User
from crm.services import Actor
from orders.services import MAX_ORDERS_PER_SYNC, order_sync_many, sales_facts_pending_drain
from orders.sync import ORDER_FIELDS

REQUIRED = (
    "external_id",
    "customer_code",
    "order_date",
    "status",
    "payment_method",
    "product_code",
    "quantity",
    "unit_price",
)
OPTIONAL = ("paid_on_time", "payment_date", "amount")
_INTEGER = re.compile(r"^[+-]?\d+$")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass
class _PendingOrder:
    data: dict[str, Any]
    rows: list[int] = field(default_factory=list)  # file row number of each line
    problems: dict[str, list[str]] = field(default_factory=dict)


class Command(BaseCommand):
    help = (
        "Imports orders from a CSV file, one row per order line (columns: "
        + ", ".join(REQUIRED)
        + "; optional: "
        + ", ".join(OPTIONAL)
        + "). The rows of one order must follow each other. Orders are matched by "
        "(source, external_id): importing a file twice changes nothing. Bad orders are "
        "reported by row and the others are stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a UTF-8 .csv file.")
        parser.add_argument(
            "--source",
            help="The integration client whose order numbers these are (default: the only "
            "active integration client).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=MAX_ORDERS_PER_SYNC,
            help="Orders per transaction (default %(default)s).",
        )

    def handle(self, *args, file, source, dry_run, batch_size, **options):
        source = self._source(source)
        actor = Actor.system("import_orders", AuditSource.IMPORT)
        self.totals = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0, "lines": 0}
        self.next_progress = 200_000
        started = time.monotonic()
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                self._check_header(reader.fieldnames or [])
                batch: list[_PendingOrder] = []
                for order in self._orders(reader):
                    batch.append(order)
                    if len(batch) >= batch_size:
                        self._store(batch, source, actor, dry_run)
                        batch = []
                        self._progress(started)
                if batch:
                    self._store(batch, source, actor, dry_run)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Cannot read {file} as UTF-8 CSV: {exc}") from exc

        loaded = time.monotonic() - started
        # Every pending fact, this import's and any an earlier, stopped one left behind.
        refreshed = 0 if dry_run else sales_facts_pending_drain()
        elapsed = time.monotonic() - started
        t = self.totals
        rate = t["lines"] / elapsed if elapsed else 0
        prefix = "Dry run (nothing written): " if dry_run else ""
        style = self.style.WARNING if t["refused"] else self.style.SUCCESS
        self.stdout.write(
            style(
                f"{prefix}{t['created']} orders created, {t['updated']} updated, "
                f"{t['unchanged']} unchanged, {t['refused']} refused; {t['lines']} lines in "
                f"{elapsed:.1f} s ({rate:,.0f} lines/s; facts of {refreshed} customer-months "
                f"refreshed in {elapsed - loaded:.1f} s)."
            )
        )

    def _source(self, source: str | None) -> str:
        if source:
            return source
        clients = list(
            User.objects.filter(role=Role.INTEGRATION_CLIENT, is_active=True).values_list(
                "username", flat=True
            )[:2]
        )
        if len(clients) != 1:
            raise CommandError(
                "Name the source with --source: the integration client whose order numbers "
                "these are (orders are unique per source and order number)."
            )
        return clients[0]

    def _check_header(self, header: list[str]) -> None:
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise CommandError("The file has no column " + ", ".join(missing) + ".")

    def _orders(self, reader: csv.DictReader) -> Iterator[_PendingOrder]:
        """Orders from consecutive rows with the same external_id."""
        finished: set[str] = set()
        current: _PendingOrder | None = None
        for row in reader:
            number = reader.line_num
            external_id = (row.get("external_id") or "").strip()
            if current is None or external_id != current.data["external_id"]:
                if current is not None:
                    finished.add(current.data["external_id"])
                    yield current
                current = _PendingOrder(
                    data={"external_id": external_id, "lines": []}
                    | {name: _cell(name, row.get(name)) for name in ORDER_FIELDS}
                )
                if external_id and external_id in finished:
                    current.problems["external_id"] = [
                        "This order's rows do not follow each other; an order's lines must be "
                        "on consecutive rows."
                    ]
            else:
                for name in ORDER_FIELDS:
                    if _cell(name, row.get(name)) != current.data[name]:
                        current.problems.setdefault(name, []).append(
                            f"Row {number} gives another {name} for the same order."
                        )
            line = {
                "product_code": row.get("product_code"),
                "quantity": _cell("quantity", row.get("quantity")),
                "unit_price": row.get("unit_price"),
            }
            if (row.get("amount") or "").strip():
                line["amount"] = row["amount"]
            current.data["lines"].append(line)
            current.rows.append(number)
        if current is not None:
            yield current

    def _store(self, batch, source, actor, dry_run) -> None:
        ready = [order for order in batch if not order.problems]
        report = order_sync_many(
            rows=[order.data for order in ready],
            source=source,
            actor=actor,
            refresh_facts=False,
            dry_run=dry_run,
        )
        faults.point("import_orders.batch_stored")
        for key in ("created", "updated", "unchanged"):
            self.totals[key] += getattr(report, key)
        self.totals["lines"] += sum(len(order.rows) for order in batch)
        refused = [(order, order.problems) for order in batch if order.problems]
        refused += [(ready[error["index"]], error["errors"]) for error in report.errors]
        self.totals["refused"] += len(refused)
        for order, problems in refused:
            for key, messages in problems.items():
                row = _row_of(key, order.rows)
                for message in messages:
                    self.stderr.write(
                        f"row {row}, order {order.data['external_id'] or '-'}, {key}: {message}"
                    )

    def _progress(self, started: float) -> None:
        """A line about every 200,000 order lines, so a long backfill shows it is moving."""
        lines = self.totals["lines"]
        if lines >= self.next_progress:
            self.next_progress = lines + 200_000
            rate = lines / (time.monotonic() - started)
            self.stdout.write(f"{lines:,} lines … ({rate:,.0f} lines/s)")


def _cell(name: str, value: str | None) -> Any:
    """A CSV cell as the sync expects it: whole numbers and booleans typed, empty as None."""
    value = (value or "").strip()
    if not value:
        return None
    if name == "quantity" and _INTEGER.match(value):
        return int(value)
    if name == "paid_on_time":
        return _BOOLEANS.get(value.lower(), value)
    return value


def _row_of(key: str, rows: list[int]) -> int:
    """The file row an error key points at: a line's own row, else the order's first row."""
    parts = key.split(".")
    if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(rows):
            return rows[index]
    return rows[0]
