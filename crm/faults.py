"""Fault points for the chaos tests (`tests/chaos/`): named places in the jobs, the order import
and the sync API where a test can have the process killed with SIGKILL, as an operator's
`kill -9`, an out-of-memory kill or a power cut would.

Inert unless the settings enable it (`CRM_FAULT_INJECTION`, True only in the test settings:
production and local settings cannot turn it on from the environment). Then two environment
variables arm it, read by the process under test:

- `CRM_FAULT_KILL_AT="import_orders.batch_stored#3"`: killed the 3rd time the point is reached
  (the first time without `#n`);
- `CRM_FAULT_KILL_AFTER="jobs.run_claimed+0.25"`: killed 0.25 s after the point is first
  reached, wherever the process then is (the chaos tests draw the delay from a seeded RNG).

With `CRM_FAULT_ONCE=/some/file` the fault fires only in the process that creates that file
first: a gunicorn master respawns its killed worker with the same environment, and the
retry must not be killed again.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

from django.conf import settings

_hits: Counter[str] = Counter()


def point(name: str) -> None:
    """A place where the chaos tests may kill this process; nothing happens otherwise."""
    if not getattr(settings, "CRM_FAULT_INJECTION", False):
        return
    _hits[name] += 1
    at = os.environ.get("CRM_FAULT_KILL_AT", "")
    if at:
        target, _sep, nth = at.partition("#")
        if target == name and _hits[name] == int(nth or 1) and _first():
            _kill()
    after = os.environ.get("CRM_FAULT_KILL_AFTER", "")
    if after:
        target, _sep, delay = after.partition("+")
        if target == name and _hits[name] == 1 and _first():
            timer = threading.Timer(float(delay or 0), _kill)
            timer.daemon = True
            timer.start()


def _first() -> bool:
    """Whether this process is the one to fail (see CRM_FAULT_ONCE)."""
    once = os.environ.get("CRM_FAULT_ONCE", "")
    if not once:
        return True
    try:
        os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
