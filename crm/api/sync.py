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

import orjson
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import faults
from crm.api.parsers import NoNulJSONParser, PayloadTooLarge, unsized_body
from crm.api.serializers import UNKNOWN_FIELD
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


class SyncBodyMixin:
    """How a sync endpoint reads its body: JSON of up to `SYNC_MAX_BYTES` (not Django's
    2.5 MiB), also when sent chunked, without Content-Length; a larger one is a 413 (see
    `NoNulJSONParser`), read no further than one byte past the limit."""

    parser_classes = [NoNulJSONParser]

    def max_body_bytes(self) -> int:
        return settings.SYNC_MAX_BYTES

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        stream = unsized_body(request)
        if stream is not None:
            # DRF parses a body only when Content-Length announces one; the parser reads
            # this one up to the limit.
            drf_request._stream = stream
        return drf_request


def api_actor(request: Request) -> Actor:
    """The audit actor of an API request: the person or client, labelled by username."""
    return Actor(user=request.user, source=AuditSource.API, label=request.user.username)


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Optional, at most 100 characters. A retry with the same key and the same body gets "
        "the first response back (header `Idempotent-Replayed: true`) instead of being "
        "processed again; the same key with another body is refused (409). Keys are kept "
        "for a day."
    ),
)
IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[200],
    description=gettext_lazy(
        "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key and body (nothing was processed again); absent otherwise."
    ),
)
# The parameters (and response headers) of every sync operation.
SYNC_PARAMETERS = [IDEMPOTENCY_PARAMETER, IDEMPOTENT_REPLAYED_HEADER]


def sync_responses(report: type[serializers.Serializer]) -> dict[int, Any]:
    """The responses of a sync operation; every error is the one `ApiError` shape (added by
    `AutoSchema`), described here."""
    return {
        200: report,
        400: OpenApiResponse(
            description=gettext_lazy(
                "The body is not JSON, not an object holding the list of items, or holds "
                "another key; or the Idempotency-Key is empty or too long."
            )
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


class BulkSyncAPIView(SyncBodyMixin, APIView):
    """POST `{items_key: [...]}`; subclasses implement `sync(items, request) -> dict`.

    A subclass documents its operation by declaring `request_serializer` (the body) and
    `report_serializer` (the 200), and optionally `schema_examples`; the errors, the
    Idempotency-Key and the `Idempotent-Replayed` header are the same for every sync."""

    permission_classes = [permissions.IsAuthenticated, IsSyncClient]
    items_key: ClassVar[str]
    max_items: ClassVar[int]
    request_serializer: ClassVar[type[serializers.Serializer]]
    report_serializer: ClassVar[type[serializers.Serializer]]
    schema_examples: ClassVar[list[OpenApiExample]] = []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "request_serializer" in vars(cls):
            documented = extend_schema(
                request=cls.request_serializer,
                responses=sync_responses(cls.report_serializer),
                parameters=SYNC_PARAMETERS,
                examples=cls.schema_examples,
            )
            extend_schema_view(post=documented)(cls)

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        # Read first: a body refused for its size, depth or text leaves no Idempotency-Key.
        request.data  # noqa: B018 (the property reads and checks the body)
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
        if unknown := [key for key in data if key != self.items_key]:
            raise ValidationError({key: [UNKNOWN_FIELD] for key in unknown})
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
    digest = _body_digest(request.data)
    running = IdempotencyConflict(
        _("The first request with this Idempotency-Key is still running; retry in a moment.")
    )
    with transaction.atomic():
        if not _key_lock(request.user.pk, endpoint, key):
            raise running
        records = IdempotencyRecord.objects.filter(client=request.user, endpoint=endpoint, key=key)
        # status 0: the mark of a request that was still running under the previous way of
        # keeping keys, whose worker died; it never finished, so it is forgotten.
        records.filter(status_code=0).delete()
        record = records.first()
        if record is not None:
            if record.request_hash != digest and record.request_hash != _legacy_digest(
                request.data
            ):
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
        try:
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
            # i.e. SQLite): this request's work is rolled back with it. (A database error of
            # the handling itself is the server's, not a key in use.)
            raise running from None
    faults.point("api.sync.committed")
    return response


def _body_digest(data: Any) -> str:
    """The digest a key's record keeps of the body: of its canonical JSON (keys sorted),
    written by orjson (2 ms for a 1 MB body; `json.dumps` took 13). A body orjson cannot
    write (an unpaired surrogate, an integer beyond 64 bits) gets `_legacy_digest`. The
    marker keeps the two kinds apart."""
    try:
        dumped = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is one
        return _legacy_digest(data)
    return hashlib.sha256(b"orjson:" + dumped).hexdigest()


def _legacy_digest(data: Any) -> str:
    """The digest records kept before `_body_digest` (a key is kept for a day: a retry
    across the upgrade still matches its record)."""
    body = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    # surrogatepass: a body may carry an unpaired surrogate (refused per item by the sync);
    # the digest of every valid body is the same as with a plain encode().
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


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
