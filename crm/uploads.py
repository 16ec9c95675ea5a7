"""Uploaded files, end to end: accepted by their content, stored under random names, served
only by views that check the user's scope first.

Every app that takes a file from a user goes through here (change-request attachments, visit
photos, customer import files), so the rules live in one place:

- **Accepting** (`upload_check`): a file is judged by its bytes, never by its name or the
  browser's content type. PDF, JPEG, PNG and WebP are known (`ATTACHMENT_KINDS`; a caller may
  narrow the list); images are decoded in full, so a truncated JPEG or a PNG with corrupt data
  is refused with a clear message instead of failing later; a PDF must start with its header
  and end with its `%%EOF` marker. Anything else is refused on the caller's field.
- **Storing** (`RandomName`, the models' `upload_to`): the stored name is a random hex stem and
  the extension of the verified type, under a folder per kind and month. The sender's name never
  reaches the storage, so a stored file cannot be guessed or named to look like something else.
- **Serving** (`file_response`): after the calling view has applied the scope rule of the object
  the file belongs to. Only names this module made are trusted for their type; images the
  upload check verified are shown inline, everything else is a download. Every answer carries
  `X-Content-Type-Options: nosniff`, a sandboxing Content-Security-Policy and
  `Cache-Control: private`. `/media/` is never served directly (crm/urls.py has no such route);
  in production the web server may send the bytes (`CRM_MEDIA_ACCEL`, see `media_accel`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO
from urllib.parse import quote

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.http import content_disposition_header
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from crm.exceptions import DomainError


@dataclass(frozen=True)
class FileKind:
    """A type of file we accept: how it is named, sent and (for images) decoded."""

    label: str  # shown in messages
    extension: str
    content_type: str
    image_format: str | None = None  # Pillow's format name; None for documents

    @property
    def is_image(self) -> bool:
        return self.image_format is not None


PDF = FileKind("PDF", "pdf", "application/pdf")
JPEG = FileKind("JPEG", "jpg", "image/jpeg", "JPEG")
PNG = FileKind("PNG", "png", "image/png", "PNG")
WEBP = FileKind("WebP", "webp", "image/webp", "WEBP")

# What a change request may carry. Visit photos take JPEG and PNG (visits.photos).
ATTACHMENT_KINDS = (PDF, JPEG, PNG, WEBP)
KINDS_BY_EXTENSION = {kind.extension: kind for kind in ATTACHMENT_KINDS}

# A decompression-bomb guard: no camera or scanner makes an image of more pixels than this
# (a 200-megapixel phone mode is 16,320 × 12,240). Decoding one costs about 3 bytes a pixel.
MAX_PIXELS = 80_000_000
# Readers look for a PDF's end-of-file marker in its last 1,024 bytes (the PDF specification's
# implementation note); a file cut short in transfer has none.
PDF_TAIL_BYTES = 1024

# The names RandomName and visits.photos give: 32 hex digits (a thumbnail adds "-thumb") and
# the extension of the verified type. A name of any other shape (a file stored before names
# were random) is served as an opaque download, whatever its extension says.
_RANDOM_NAME = re.compile(r"^[0-9a-f]{32}(?:-thumb)?\.([a-z0-9]{1,5})$")

# Answers with a file never run anything, even if a browser were talked into rendering one.
FILE_CSP = "default-src 'none'; sandbox"
# The file behind a URL never changes (a new upload gets a new name); private to the browser.
FILE_CACHE_CONTROL = "private, max-age=86400"


# --- accepting ---------------------------------------------------------------------------


def upload_check(
    upload: IO[bytes], *, field: str, max_bytes: int | None, kinds=ATTACHMENT_KINDS
) -> FileKind:
    """The type of `upload` judged by its content: one of `kinds`, fully verified.

    DomainError on `field` when the file is empty, larger than `max_bytes` (None: no limit),
    of another type, or damaged (an image that does not decode to its last pixel, a PDF
    without its end marker). The file is left at its start.
    """
    size = _size(upload)
    if max_bytes is not None and size > max_bytes:
        raise DomainError(
            _("The file is larger than %(n)s MB.") % {"n": _megabytes(max_bytes)}, field=field
        )
    if size == 0:
        raise DomainError(_("The file is empty."), field=field)
    upload.seek(0)
    kind = _sniff(upload.read(16))
    upload.seek(0)
    if kind is None or kind not in kinds:
        raise DomainError(
            _("Send a %(types)s file (judged by its content, not its name).")
            % {"types": get_text_list([k.label for k in kinds])},
            field=field,
        )
    try:
        if kind.is_image:
            _verify_image(upload, kind, field=field)
        else:
            _verify_pdf(upload, size, field=field)
    finally:
        upload.seek(0)
    return kind


def verified_file(upload: IO[bytes], kind: FileKind) -> File:
    """`upload` named by its verified type only, for a FileField whose `upload_to` is a
    RandomName: the sender's file name goes no further."""
    upload.seek(0)
    return File(upload, name=f"upload.{kind.extension}")


def _size(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    return size


def _megabytes(n_bytes: int) -> str:
    value = n_bytes / (1024 * 1024)
    return f"{value:g}" if value < 10 else str(round(value))


def _sniff(head: bytes) -> FileKind | None:
    """The kind the first bytes (magic numbers) announce, before any decoding."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def damaged_error(kind: FileKind, field: str) -> DomainError:
    """The refusal of a file of a known type that does not read to its end."""
    return DomainError(
        _("The %(type)s file is damaged or incomplete: send it again.") % {"type": kind.label},
        field=field,
    )


def _verify_image(upload: IO[bytes], kind: FileKind, *, field: str) -> None:
    """Decodes the whole image: `verify()` alone passes a truncated JPEG and a PNG whose
    compressed data is corrupt (its checksums are right); both fail only when decoded."""
    try:
        with Image.open(upload) as image:
            if image.format != kind.image_format:
                raise damaged_error(kind, field)
            if image.width * image.height > MAX_PIXELS:
                raise DomainError(
                    _("The image has more than %(n)s million pixels.")
                    % {"n": MAX_PIXELS // 1_000_000},
                    field=field,
                )
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            if kind is JPEG:
                # Decoded at 1/8 scale: every byte of the scan is still read (a truncated
                # file is still caught) at 1/64 of the memory.
                image.draft(None, (1, 1))
            image.load()
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        raise damaged_error(kind, field) from exc


def _verify_pdf(upload: IO[bytes], size: int, *, field: str) -> None:
    upload.seek(max(0, size - PDF_TAIL_BYTES))
    if b"%%EOF" not in upload.read(PDF_TAIL_BYTES):
        raise damaged_error(PDF, field)


# --- storing -----------------------------------------------------------------------------


@deconstructible
class RandomName:
    """A FileField's `upload_to`: `<folder>/<year>/<month>/<32 random hex digits>.<ext>`.

    The extension is the given name's (callers pass `verified_file`'s, or an import file's
    checked one); anything that is not 1-5 lower-case letters or digits becomes "bin".
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder.strip("/")

    def __call__(self, instance, filename: str) -> str:
        return random_name(self.folder, PurePosixPath(filename or "").suffix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RandomName) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


def random_name(folder: str, extension: str) -> str:
    """A fresh storage name in `folder` (see RandomName) for a file of `extension`."""
    extension = extension.lower().lstrip(".")
    if not re.fullmatch(r"[a-z0-9]{1,5}", extension):
        extension = "bin"
    month = timezone.localdate().strftime("%Y/%m")
    return f"{folder}/{month}/{uuid.uuid4().hex}.{extension}"


def is_random_name(name: str) -> bool:
    """Whether `name` was made by RandomName or visits.photos (whatever its extension)."""
    return _RANDOM_NAME.fullmatch(PurePosixPath(name).name) is not None


def served_kind(name: str) -> FileKind | None:
    """The verified type of a stored file, read from a name this module made; None for any
    other name (never trusted: it may be the sender's)."""
    match = _RANDOM_NAME.fullmatch(PurePosixPath(name).name)
    return KINDS_BY_EXTENSION.get(match.group(1)) if match else None


# --- serving -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaAccel:
    """The web server sends the file: nginx's X-Accel-Redirect (to an internal location) or
    Apache's / lighttpd's X-Sendfile (an absolute path)."""

    header: str
    prefix: str = ""


def media_accel() -> MediaAccel | None:
    """`CRM_MEDIA_ACCEL`: "" (default: the application streams the file), `x-sendfile`, or
    `x-accel-redirect:/internal-location/`."""
    value = (getattr(settings, "CRM_MEDIA_ACCEL", "") or "").strip()
    if not value:
        return None
    if value.lower() == "x-sendfile":
        return MediaAccel("X-Sendfile")
    method, _sep, prefix = value.partition(":")
    if method.lower() == "x-accel-redirect" and prefix.startswith("/") and prefix.endswith("/"):
        return MediaAccel("X-Accel-Redirect", prefix)
    raise ImproperlyConfigured(
        "CRM_MEDIA_ACCEL must be empty, 'x-sendfile' or 'x-accel-redirect:/location/' "
        f"(a path starting and ending with '/'), not {value!r}."
    )


@checks.register(checks.Tags.security)
def check_media_accel(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check`: a mistyped CRM_MEDIA_ACCEL, or X-Sendfile over a storage that has no
    files on disk, is reported at start rather than on the first download."""
    try:
        accel = media_accel()
        if accel is not None and accel.header == "X-Sendfile":
            _accel_target(accel, default_storage, "check")
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="crm.E101")]
    return []


def file_response(file: FieldFile | None, *, download_name: str) -> HttpResponse:
    """The stored `file`, for a view that has checked that the user may see its object.

    Verified images (by their name, see `served_kind`) are shown inline with their type;
    everything else — a PDF, a file stored before names were random — is a download
    (`download_name` plus the type's extension). 404 when there is no file or it is missing
    from the storage.
    """
    if not file:
        raise Http404
    name = file.name
    storage = file.storage
    kind = served_kind(name)
    inline = kind is not None and kind.is_image
    content_type = kind.content_type if kind else "application/octet-stream"
    filename = f"{download_name}.{kind.extension if kind else 'bin'}"
    accel = media_accel()
    if accel is None:
        try:
            handle = storage.open(name, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        response: HttpResponse = FileResponse(handle, content_type=content_type)
    else:
        if not storage.exists(name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response[accel.header] = _accel_target(accel, storage, name)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = FILE_CACHE_CONTROL
    return response


def _accel_target(accel: MediaAccel, storage, name: str) -> str:
    if accel.header == "X-Accel-Redirect":
        return accel.prefix + quote(name)
    # Only a FileSystemStorage's names are files the web server can open.
    if not isinstance(storage, FileSystemStorage):
        raise ImproperlyConfigured(
            "CRM_MEDIA_ACCEL=x-sendfile needs a storage on the local file system."
        )
    return storage.path(name)
