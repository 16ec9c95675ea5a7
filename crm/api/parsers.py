"""Request bodies of the API: how much of a body is read, how deep its JSON may nest, and
which text it may hold. `NoNulJSONParser` is the JSON parser of every endpoint,
`BoundedMultiPartParser` the multipart one."""

from __future__ import annotations

import codecs
import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import renderers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant

from crm.text import strings

# Bytes read at a time from a request body.
_READ_CHUNK = 256 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request is too large.")
    default_code = "payload_too_large"


class NoNulJSONParser(BaseParser):
    """JSON bodies, bounded in size and depth, whose text holds no NUL character (`\\u0000`).

    - Size: at most `view.max_body_bytes()` bytes (the syncs: `SYNC_MAX_BYTES`), else
      Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`; at most one byte more is read, and a larger body
      is a 413. Not a `JSONParser` subclass on purpose: DRF reads a JSONParser's body through
      `HttpRequest.body`, which refuses anything above Django's limit with an HTML 400.
    - Depth: at most `API_JSON_MAX_DEPTH` nested arrays and objects (the deepest body the API
      documents has 5), counted before decoding and without recursion: Python's decoder
      recurses once per level, so a body of 5,000 `[` was a RecursionError.
    - NUL: PostgreSQL cannot store it, and the sync bodies reach the services before any
      field is checked, so a NUL anywhere in a body is refused here: a 400 naming where it
      is (`orders.3.lines.0.product_code`), the same on SQLite as on PostgreSQL.
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer
    strict = api_settings.STRICT_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        view = parser_context.get("view")
        raw = read_body(
            stream,
            limit=body_limit(view),
            declared=_declared_length(parser_context.get("request")),
        )
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        limit = settings.API_JSON_MAX_DEPTH
        too_deep = _("JSON parse error - arrays and objects nest more than %(n)d levels deep.")
        # Decoded first, and the depth judged from the values (a third of the time of
        # scanning a 1 MB body's text): text that does not decode is judged by its brackets
        # as before, so a body too deep is refused as such whatever else is wrong with it,
        # and Python's decoder, which recurses once per level, stops at its recursion limit.
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            if json_depth_exceeds(text, limit):
                raise ParseError(too_deep % {"n": limit}) from None
            if isinstance(exc, RecursionError):
                raise
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        if value_depth_exceeds(data, limit):
            raise ParseError(too_deep % {"n": limit})
        # JSON text holds a NUL only as the escape `\u0000` (the decoder refuses raw control
        # characters in strings): the data is walked only when the text has one.
        where = nul_path(data) if "\\u0000" in text else None
        if where is not None:
            raise ValidationError(
                {where or "non_field_errors": [_("Text may not contain NUL characters (\\u0000).")]}
            )
        return data


class BoundedMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing (413) a body whose Content-Length is above what the
    view takes, before reading any of it.

    Django bounds the fields of a multipart body (`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not its
    files: it spools them to disk whatever their size, and only then could a view refuse
    one. A view that takes a file says how large with `max_upload_bytes()`; its body may be
    that much above Django's limit (which leaves room for the other fields and the parts'
    headers). A body sent without Content-Length is not read at all (DRF reads none)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            upload = getattr(parser_context.get("view"), "max_upload_bytes", None)
            refuse_declared(
                _declared_length(parser_context.get("request")),
                limit + (upload() if upload is not None else 0),
            )
        return super().parse(stream, media_type, parser_context)


def body_limit(view) -> int | None:
    """The most bytes of a body `view` reads: its `max_body_bytes()`, else Django's
    `DATA_UPLOAD_MAX_MEMORY_SIZE` (None: no limit)."""
    limit = getattr(view, "max_body_bytes", None)
    if limit is not None:
        return limit()
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _declared_length(request) -> int:
    meta = getattr(request, "META", {})
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def refuse_declared(declared: int, limit: int | None) -> None:
    """A 413 when the body's Content-Length (`declared`) is above `limit` bytes."""
    if limit is not None and declared > limit:
        raise PayloadTooLarge(
            _("The body is %(size)d bytes; at most %(limit)d are accepted.")
            % {"size": declared, "limit": limit}
        )


def read_body(stream, *, limit: int | None, declared: int = 0) -> bytes:
    """The body from `stream`, refused with a 413 above `limit` bytes: at once when its
    Content-Length (`declared`) says so, otherwise (a chunked body) after reading at most
    `limit + 1` bytes."""
    refuse_declared(declared, limit)
    if limit is None:
        return stream.read()
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise PayloadTooLarge(
            _("The body is larger than %(limit)d bytes, the most accepted.") % {"limit": limit}
        )
    return b"".join(chunks)


def unsized_body(request: HttpRequest):
    """The stream of a body sent without Content-Length (`Transfer-Encoding: chunked`), or
    None when there is none or the server cannot tell where it ends.

    DRF reads a body only when Content-Length announces one, and Django's WSGI request
    reads none without it; gunicorn de-chunks the body and ends `wsgi.input` where it ends
    (`wsgi.input_terminated`), and an ASGI request holds the whole body already."""
    meta = request.META
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if meta.get("CONTENT_LENGTH") or not chunked:
        return None
    if "wsgi.input" not in meta:  # ASGI: the request reads its spooled body
        return request
    if meta.get("wsgi.input_terminated"):
        return meta["wsgi.input"]
    return None


# A JSON string (escapes included), or an unterminated one up to the end of the text: a match
# never fails once started, so the scan stays linear whatever the quotes and backslashes.
_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*(?:"|\Z)')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in the JSON `text` nest more than `limit` levels deep.

    Brackets inside strings do not count; the scan runs at C speed (string methods, regular
    expressions, itertools), with no recursion, whatever the depth: about as long as decoding
    the text. Malformed text is left to the decoder unless its brackets alone go too deep."""
    if text.count("[") + text.count("{") <= limit:
        return False
    # With no escaped quote, every quote opens or closes a string: the text outside the
    # strings is every other piece between quotes (twice as fast as finding each string).
    escaped = '\\"' in text
    outside = _STRING.sub("", text) if escaped else "".join(text.split('"')[::2])
    brackets = _NOT_BRACKET.sub("", outside)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def value_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests arrays and objects more than `limit` levels deep: what
    `json_depth_exceeds` says of its text. Level by level, without recursion."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for container in level
            for child in (container.values() if type(container) is dict else container)
            if type(child) is dict or type(child) is list
        ]
    return False


def nul_path(value: Any) -> str | None:
    """The dotted path of the first string (value or key) holding a NUL character, or None.
    A key holding one is reported by the path of the object it is in. Iterative."""
    for path, text in strings(value):
        if "\x00" in text:
            return path
    return None
