"""The steps every recorded job run shares (`crm.models.JobRun`: grading and valuation runs):
refuse months that have not begun, hold a month while a run works on it, abandon the runs
whose process died, claim a queued run, record a failure. Each takes the run model, so the
rules are written once.

**Holding a month.** A run holds its month with a lock that dies with its process: on
PostgreSQL a session advisory lock on a connection of its own (keyed by the run model and
the month), elsewhere (SQLite) an OS file lock (`flock`) on a file under `VAR_DIR/locks`.
Whatever kills the process — `kill -9`, the out-of-memory killer, Celery's hard time limit, a
restarted machine — ends its session or closes its file, and the lock is gone. So a live run
row whose month nobody holds is a run whose process stopped: the next start of that month
(or a look at the runs page) marks it failed with that reason, and the new run starts at
once. What has no process yet keeps the older rule: a run still queued in the broker counts
as abandoned only once it is older than the task time limit.

A run split over several workers (the grading chord) is held by each part while it computes
(a shared lock; the chord's body takes it exclusively) and reports a heartbeat when it is
claimed and when each part starts and ends: between parts — waiting in the broker — it
counts as alive while its heartbeat is younger than `JOB_HEARTBEAT_TIMEOUT`.
"""

from __future__ import annotations

import atexit
import datetime as dt
import fcntl
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import faults
from crm.choices import RunStatus
from crm.dates import month_start
from crm.exceptions import DomainError
from crm.models import JobRun
from crm.stored_text import columns, text

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=JobRun)

# How long a step waits for a month another process holds only for an instant (a start
# checking for abandoned runs); a month held by a running run is refused after this.
LEASE_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.1


# --- months --------------------------------------------------------------------------


def this_month() -> dt.date:
    return month_start(timezone.localdate())


def month_check(month: dt.date) -> None:
    """Refuses a month that has not begun: its results would be computed from no sales and,
    being the latest, would become every customer's current values."""
    if month_start(month) > this_month():
        raise DomainError(
            _("%(m)s has not begun yet: choose %(this)s or an earlier month.")
            % {"m": f"{month:%Y-%m}", "this": f"{this_month():%Y-%m}"},
            field="month",
        )


def results_current_month(results: type[models.Model]) -> dt.date | None:
    """The latest month of `results` (grade or value results: one row per customer and
    month) that is not after this month: the month the customers' current values come
    from. Results of a later month (stored before future months were refused) never count."""
    return (
        results.objects.filter(month__lte=this_month())
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


def results_months(results: type[models.Model]) -> list[dt.date]:
    """The months of `results` (one row per customer and month), newest first.

    A recursive "skip scan": one index probe per month on the (month, customer) index instead
    of a DISTINCT over every result row (2.4 million for 200,000 shops × 12 months)."""
    table = results._meta.db_table
    sql = (
        f"WITH RECURSIVE m(month) AS ("  # noqa: S608 (the table name comes from the model)
        f"  SELECT MAX(month) FROM {table}"
        f"  UNION ALL"
        f"  SELECT (SELECT MAX(r.month) FROM {table} r WHERE r.month < m.month)"
        f"  FROM m WHERE m.month IS NOT NULL"
        f") SELECT month FROM m WHERE month IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        field = results._meta.get_field("month")
        return [field.to_python(row[0]) for row in cursor.fetchall()]


def results_month_is_current(results: type[models.Model], month: dt.date) -> bool:
    """Whether the customers' current values come from `month` once its results are
    written: it has begun, and no later month up to this one has results."""
    return (
        month <= this_month()
        and not results.objects.filter(month__gt=month, month__lte=this_month()).exists()
    )


def run_list(model: type[R]) -> models.QuerySet[R]:
    """Every run of `model`, newest first, with who started it and its scheme."""
    return model.objects.select_related("started_by", "scheme").order_by("-created_at", "-id")


# --- holding a month -----------------------------------------------------------------


class MonthBusy(DomainError):
    """Another process holds the month (a run of it is running there)."""


class _Lock:
    """One attempt at holding (model, month): a session advisory lock on a connection of its
    own (PostgreSQL), else an OS file lock. Not re-entrant; see `month_lease`."""

    def __init__(self, model: type[JobRun], month: dt.date) -> None:
        label = model._meta.label_lower
        self.postgres = connection.vendor == "postgresql"
        # Two int4 keys: a namespace per run model and the month (no collision between months).
        self.keys = (
            zlib.crc32(label.encode()) - 2**31,
            month.year * 100 + month.month,
        )
        self.name = f"{label}-{month:%Y-%m}"
        self.db = None
        self.fd: int | None = None
        self.held = False

    def try_acquire(self, *, shared: bool) -> bool:
        if self.postgres:
            if self.db is None:
                # Its own connection: the lock lives as long as this session, whatever the
                # default connection's transactions do, and ends when the process dies.
                default = connections[DEFAULT_DB_ALIAS]
                self.db = type(default)(dict(default.settings_dict), "crm_jobs_lease")
            function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
            with self.db.cursor() as cursor:
                cursor.execute(f"SELECT {function}(%s, %s)", list(self.keys))
                self.held = bool(cursor.fetchone()[0])
            return self.held
        if self.fd is None:
            self.fd = os.open(_lock_path(self.name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def close(self) -> None:
        """Releases the lock (if held) and what held it."""
        if self.db is not None:
            try:
                if self.held:
                    with self.db.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock_all()")
            finally:
                self.db.close()
                self.db = None
        if self.fd is not None:
            os.close(self.fd)  # closing the file releases its flock
            self.fd = None
        self.held = False


def _lock_path(name: str) -> str:
    """The lock file of `name` for this database, under `VAR_DIR/locks`. An in-memory
    database (the tests) exists only in its process, so its locks live in a folder of the
    process's own, removed when it exits."""
    database = str(connection.settings_dict.get("NAME"))
    if "memory" in database or database in ("", ":memory:"):
        folder = _process_lock_folder()
    else:
        folder = settings.VAR_DIR / "locks"
        folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(database.encode()).hexdigest()[:16]
    return str(folder / f"{name}-{digest}.lock")


@functools.cache
def _process_lock_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="crm-locks-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


# The months this thread holds: a step that runs inside another one holding the same month
# (the command holds it while the run is created and claimed) goes on.
_local = threading.local()


def _held() -> set[str]:
    if not hasattr(_local, "months"):
        _local.months = set()
    return _local.months


@contextmanager
def month_lease(
    model: type[JobRun],
    month: dt.date,
    *,
    shared: bool = False,
    wait: float | None = None,
) -> Iterator[None]:
    """Holds (`model`, `month`) for the block — exclusively, or `shared` with the other parts
    of a split run — and releases it after, or when the process dies. Waits up to `wait`
    seconds (default `LEASE_WAIT_SECONDS`) for another holder, then raises `MonthBusy`."""
    lock = _Lock(model, month)
    held = _held()
    if lock.name in held:
        yield
        return
    deadline = time.monotonic() + (LEASE_WAIT_SECONDS if wait is None else wait)
    try:
        while not lock.try_acquire(shared=shared):
            if time.monotonic() >= deadline:
                raise MonthBusy(
                    _("The %(run)s of %(m)s is already running in another process.")
                    % {"run": model._meta.verbose_name, "m": f"{month:%Y-%m}"}
                )
            time.sleep(_POLL_SECONDS)
        held.add(lock.name)
        try:
            yield
        finally:
            held.discard(lock.name)
    finally:
        lock.close()


# --- abandoned runs ------------------------------------------------------------------


def runs_abandon_dead(model: type[JobRun], **filters) -> int:
    """Marks failed, with the reason, the live runs (matching `filters`) that can no longer
    finish: a running run whose month no process holds (its process stopped; a split run
    also once its heartbeat is older than `JOB_HEARTBEAT_TIMEOUT`), and a run still queued
    after the task time limit (no worker ever took it). Returns how many. One query when
    nothing is live."""
    now = timezone.now()
    queue_limit = now - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    beat_limit = now - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    live = model.objects.filter(status__in=RunStatus.live(), **filters).values_list(
        "pk", "status", "month", "created_at", "heartbeat_at"
    )
    abandoned = 0
    for pk, status, month, created_at, heartbeat_at in live:
        if status == RunStatus.QUEUED:
            if created_at < queue_limit:
                abandoned += _abandon(model, pk, status, now, _QUEUED_TOO_LONG)
            continue
        if heartbeat_at is None:
            reason = _PROCESS_STOPPED
        elif heartbeat_at < beat_limit:
            reason = _PARTS_STOPPED
        else:
            continue  # a split run whose next part waits for a worker
        # Only if no process holds its month (one that does is its process, or one of its
        # parts, at work), and holding it meanwhile, so that none of its parts starts.
        with suppress(MonthBusy), month_lease(model, month, wait=0):
            abandoned += _abandon(model, pk, status, now, reason)
    return abandoned


# Why a run was abandoned: catalogue keys (crm.stored_text), read in each reader's language.
_QUEUED_TOO_LONG = "crm.run.queued_too_long"
_PROCESS_STOPPED = "crm.run.process_stopped"
_PARTS_STOPPED = "crm.run.parts_stopped"


def _abandon(model: type[JobRun], pk: int, status: str, now: dt.datetime, reason: str) -> int:
    """Marks run `pk` failed with `reason` (a catalogue key) if it is still `status`."""
    return model.objects.filter(pk=pk, status=status).update(
        status=RunStatus.FAILED,
        finished_at=now,
        **columns(text(reason), "error", params=False),
    )


# --- claiming and running ------------------------------------------------------------


def run_claim(model: type[R], run_id: int, *, related: tuple[str, ...] = ()) -> R | None:
    """Marks a queued run running and returns it (with `related` joined); None if it is not
    queued, e.g. a redelivered task. Call holding the run's month (`run_held`)."""
    with transaction.atomic():
        run = model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=run_id)
        if run.status != RunStatus.QUEUED:
            return None
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run


@contextmanager
def run_held(
    model: type[R],
    run_id: int,
    *,
    related: tuple[str, ...] = (),
    claim: bool = True,
    shared: bool = False,
    wait: float | None = None,
) -> Iterator[R | None]:
    """Holds the month of run `run_id` for the block and gives the run: with `claim`, a
    queued run marked running (None if it was not queued: a redelivered task); without, a
    running run (None once it has finished or failed: a part or the chord's body of a split
    run, `shared` for the parts). An error in the block is recorded on the run and raised
    again."""
    month = model.objects.filter(pk=run_id).values_list("month", flat=True).get()
    with ExitStack() as holding:
        try:
            holding.enter_context(month_lease(model, month, shared=shared, wait=wait))
        except MonthBusy as error:
            # A queued run that cannot start says so rather than stay queued, and the chord's
            # body that cannot finish its run fails it. A run that is running is otherwise
            # left to the process holding its month: this is a copy of its task the broker
            # delivered again (unacknowledged after its visibility timeout), or a part that
            # met the body.
            if not shared:
                run_fail(model, run_id, error, status=RunStatus.QUEUED if claim else None)
            raise
        if claim:
            run = run_claim(model, run_id, related=related)
        else:
            run = model.objects.select_related(*related).get(pk=run_id)
            if run.status != RunStatus.RUNNING:
                run = None
        if run is None:
            yield None
            return
        faults.point("jobs.run_claimed")
        try:
            yield run
        except Exception as error:  # noqa: BLE001 (recorded on the run, then re-raised)
            run_fail(model, run_id, error)
            raise


@contextmanager
def run_started(
    model: type[R], month: dt.date, create: Callable[[], R], *, related: tuple[str, ...] = ()
) -> Iterator[R]:
    """A run this process creates and runs itself (the recompute command, the monthly
    chain's valuation): holds `month`, then creates the run with `create` (which checks for
    abandoned runs and refuses a second live one) and claims it in the same transaction — so
    no moment exists when the run is queued with nobody to run it. An error in the block is
    recorded on the run and raised again."""
    with month_lease(model, month):
        with transaction.atomic():
            created = create()
            run = run_claim(model, created.pk, related=related)
        assert run is not None  # noqa: S101 (created queued in this transaction)
        faults.point("jobs.run_claimed")
        try:
            yield run
        except Exception as error:  # noqa: BLE001 (recorded on the run, then re-raised)
            run_fail(model, run.pk, error)
            raise


def run_beat(model: type[JobRun], run_id: int, **changes) -> None:
    """Records a sign of life of a split run (with `changes`, e.g. a part counted done)."""
    model.objects.filter(pk=run_id).update(heartbeat_at=timezone.now(), **changes)


def run_fail(
    model: type[JobRun], run_id: int, error: BaseException, *, status: str | None = None
) -> None:
    """Records `error` on a live run (a finished run keeps its outcome); with `status`, only
    on a run in that status."""
    logger.exception("%s %s failed", model._meta.verbose_name, run_id, exc_info=error)
    model.objects.filter(pk=run_id, status__in=[status] if status else RunStatus.live()).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=f"{type(error).__name__}: {error}"[:2000],
    )
