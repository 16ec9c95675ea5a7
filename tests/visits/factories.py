"""Visits, plans and photos for tests.

Visits are logged through `visits.services.visit_log` (so follow-ups, plan matching and the
audit row are real); planned visits are made directly, on the day a test needs them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from crm.choices import AuditSource
from crm.services import Actor
from visits import services
from visits.models import PlannedVisit, Visit


def actor(user, source: AuditSource = AuditSource.PAGE) -> Actor:
    return Actor.of(user, source)


def today() -> dt.date:
    """The server's local date (visit_log plans and checks against it)."""
    return timezone.localdate()


def at(days_ago: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware local time `days_ago` days before today (1 or more: always in the past)."""
    day = today() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def earlier_today() -> dt.datetime:
    """A moment today that has passed: half an hour ago, or midnight when that was yesterday."""
    midnight = timezone.make_aware(dt.datetime.combine(today(), dt.time(0, 0)))
    return max(timezone.now() - dt.timedelta(minutes=30), midnight)


def visit_data(**overrides: Any) -> dict[str, Any]:
    """The least a visit needs (arrived earlier today, routine), with `overrides`."""
    data: dict[str, Any] = {
        "visited_at": earlier_today(),
        "visit_type": "routine",
        "purpose": "Routine check of the shelf",
    }
    data.update(overrides)
    return data


def log_visit(
    customer,
    user,
    *,
    follow_ups=(),
    photo=None,
    plan=None,
    client_id=None,
    source: AuditSource = AuditSource.PAGE,
    **overrides: Any,
) -> Visit:
    """Logs a visit through the service; `overrides` change the visit's fields."""
    return services.visit_log(
        customer=customer,
        data=visit_data(**overrides),
        actor=actor(user, source),
        follow_ups=follow_ups,
        photo=photo,
        plan=plan,
        client_id=client_id,
    )


def make_plan(customer, day: dt.date, **fields: Any) -> PlannedVisit:
    """An open planned visit of `customer` on `day` (weekly cycle unless `cycle_days` given)."""
    fields.setdefault("cycle_days", 7)
    return PlannedVisit.objects.create(customer=customer, planned_for=day, **fields)


# --- photos ------------------------------------------------------------------------------


def _image_bytes(
    width: int, height: int, fmt: str, *, noise: bool = False, mode: str = "RGB"
) -> bytes:
    if noise:
        # Random pixels do not compress: the file is about as large as width × height × 3.
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 120, 40)).convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    return _image_bytes(width, height, "JPEG")


def png_bytes(
    width: int = 64, height: int = 48, *, noise: bool = False, mode: str = "RGB"
) -> bytes:
    """A PNG; `mode` "RGBA", "P" or "L" for the kinds phones and editors also make."""
    return _image_bytes(width, height, "PNG", noise=noise, mode=mode)


def gif_bytes(width: int = 16, height: int = 16) -> bytes:
    return _image_bytes(width, height, "GIF")


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(path: str = "") -> set[str]:
    """Every file in the default storage (in memory in tests) under `path`."""
    if path and not default_storage.exists(path):
        return set()
    directories, files = default_storage.listdir(path)
    found = {f"{path}/{name}" if path else name for name in files}
    for directory in directories:
        found |= stored_files(f"{path}/{directory}" if path else directory)
    return found
