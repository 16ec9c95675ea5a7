"""What every bulk sync endpoint shares: who may call it, how big a request may be, and
`Idempotency-Key` retries.

A sync body is checked for its *shape* here (an object holding a list under one key); each
item is checked by the app's service, so one bad item is reported without stopping the
others, and no item costs a serializer or a query of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import faults
from crm.api.parsers import NoNulJSONParser
from crm.api.schema import AutoSchema
from crm.choices import AuditSource
from crm.models import IdempotencyRecord
from crm.services import Actor

IDEMPOTENCY_KEY_MAX = 100


class IsSyncClient(permissions.BasePermission):
    """Sync writes: integration clients and administrators (or superusers) only."""

    message = gettext_lazy("Only integration clients and administrators may sync data.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and (user.is_administrator or user.is_integration_client)
        )


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request is too large.")
    default_code = "payload_too_large"


def api_actor(request: Request) -> Actor:
    """The audit actor of an API request: the person or client, labelled by username."""
    return Actor(user=request.user, source=AuditSource.API, label=request.user.username)


def field_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors keyed the way DRF keys them: "__all__" becomes "non_field_errors"."""
    return {
        ("non_field_errors" if key == "__all__" else key): [str(m) for m in msgs]
        for key, msgs in errors.items()
    }


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Optional, at most 100 characters. A retry with the same key and the same body gets "
        "the first response back (header `Idempotent-Replayed: true`) instead of being "
        "processed again; the same key with another body is refused (409). Keys are kept "
        "for a day."
    ),
)


def sync_responses(report: type[serializers.Serializer]) -> dict[int, Any]:
    return {
        200: report,
        400: OpenApiResponse(
            description=gettext_lazy("The body is not JSON or not of the documented shape.")
        ),
        403: OpenApiResponse(description=gettext_lazy("The caller may not sync data.")),
        409: OpenApiResponse(
            description=gettext_lazy(
                "The Idempotency-Key was used with another body, or its first request is "
                "still running."
            )
        ),
        413: OpenApiResponse(
            description=gettext_lazy("Too many items, or a body above the size limit.")
        ),
    }


class BulkSyncAPIView(APIView):
    """POST `{items_key: [...]}`; subclasses implement `sync(items, request) -> dict`."""

    schema = AutoSchema()
    permission_classes = [permissions.IsAuthenticated, IsSyncClient]
    parser_classes = [NoNulJSONParser]
    items_key: ClassVar[str]
    max_items: ClassVar[int]

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        # Before the body is read: an oversized body is refused without parsing it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.SYNC_MAX_BYTES
        if length > limit:
            raise PayloadTooLarge(
                _("The body is %(size)d bytes; at most %(limit)d are accepted. Send fewer items.")
                % {"size": length, "limit": limit}
            )
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._handle(request)
        return _idempotent(request, key.strip(), type(self).__name__, lambda: self._handle(request))

    def _handle(self, request: Request) -> Response:
        data = request.data
        items = data.get(self.items_key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValidationError(
                {self.items_key: [_("Expected a JSON object with a list under this key.")]}
            )
        if len(items) > self.max_items:
            raise PayloadTooLarge(
                _("%(n)d items sent; at most %(max)d are accepted per request. Split the batch.")
                % {"n": len(items), "max": self.max_items}
            )
        return Response(self.sync(items, request))


class IdempotencyConflict(APIException):
    """409: the Idempotency-Key is in use by a request still running, or was used with
    another body."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This Idempotency-Key is in use by another request.")
    default_code = "idempotency_conflict"


def _idempotent(
    request: Request, key: str, endpoint: str, handle: Callable[[], Response]
) -> Response:
    """Handles the request once per (client, endpoint, key) and replays the first response
    to a retry with the same body.

    The request and the record of its response are one transaction: a worker that dies half
    way (killed, out of memory, a restart) leaves neither — the key can be retried at once and
    the retry stores each item once — and a record, once there, always holds a response.
    While it runs, the key is held by a transaction-level advisory lock (PostgreSQL), so a
    duplicate sent meanwhile gets a 409 at once instead of waiting for it."""
    faults.point("api.sync.started")
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationError(
            {"Idempotency-Key": [_("Use 1 to %(n)d characters.") % {"n": IDEMPOTENCY_KEY_MAX}]}
        )
    body = json.dumps(request.data, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(body.encode()).hexdigest()
    running = IdempotencyConflict(
        _("The first request with this Idempotency-Key is still running; retry in a moment.")
    )
    try:
        with transaction.atomic():
            if not _key_lock(request.user.pk, endpoint, key):
                raise running
            records = IdempotencyRecord.objects.filter(
                client=request.user, endpoint=endpoint, key=key
            )
            # status 0: the mark of a request that was still running under the previous way
            # of keeping keys, whose worker died; it never finished, so it is forgotten.
            records.filter(status_code=0).delete()
            record = records.first()
            if record is not None:
                if record.request_hash != digest:
                    raise IdempotencyConflict(
                        _("This Idempotency-Key was used with a different request body.")
                    )
                return Response(
                    json.loads(record.response),
                    status=record.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            response = handle()
            faults.point("api.sync.handled")
            IdempotencyRecord.objects.create(
                client=request.user,
                endpoint=endpoint,
                key=key,
                request_hash=digest,
                status_code=response.status_code,
                response=json.dumps(response.data, cls=DjangoJSONEncoder, ensure_ascii=False),
            )
    except IntegrityError:
        # A duplicate stored the key first (only where no advisory lock serialises them,
        # i.e. SQLite): this request's work is rolled back with it.
        raise running from None
    faults.point("api.sync.committed")
    return response


def _key_lock(client_id: int, endpoint: str, key: str) -> bool:
    """Takes the key's lock for the rest of the transaction, or says another transaction
    holds it (PostgreSQL; elsewhere, always True: SQLite runs one writer at a time)."""
    if connection.vendor != "postgresql":
        return True
    name = f"idempotency:{client_id}:{endpoint}:{key}".encode()
    lock = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock])
        return bool(cursor.fetchone()[0])
