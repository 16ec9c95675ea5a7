"""Visit photos: checked by their content (not their name) and shrunk to a thumbnail.

Only JPEG and PNG are taken, up to the size in VisitsConfig, and only once the whole image
decodes (crm.uploads.upload_check: a truncated JPEG or a PNG with corrupt data is refused on
the `photo` field, not a failure later). The thumbnail is a JPEG at most `THUMBNAIL_PX` on its
longer side, turned upright by the photo's EXIF orientation (phones store portrait photos
sideways) and without the EXIF data. Both are stored under one random stem.
"""

from __future__ import annotations

import io
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from crm.uploads import JPEG, PNG, damaged_error, upload_check

THUMBNAIL_PX = 480
PHOTO_KINDS = (JPEG, PNG)


def photo_prepare(photo: UploadedFile, *, max_mb: int) -> tuple[ContentFile, ContentFile]:
    """The photo as stored (under a random name) and its thumbnail; DomainError on the `photo`
    field when it is too large, of another type or damaged."""
    kind = upload_check(photo, field="photo", max_bytes=max_mb * 1024 * 1024, kinds=PHOTO_KINDS)
    data = photo.read()
    try:
        thumbnail = _thumbnail(data)
    except (OSError, ValueError, SyntaxError) as exc:
        # The check decoded the image; a photo that still fails here (its EXIF data, say)
        # is refused the same way rather than failing the request.
        raise damaged_error(kind, "photo") from exc
    stem = uuid.uuid4().hex
    return (
        ContentFile(data, name=f"{stem}.{kind.extension}"),
        ContentFile(thumbnail, name=f"{stem}-thumb.jpg"),
    )


def _thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        thumb = ImageOps.exif_transpose(image)
        thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        if thumb.mode not in ("RGB", "L"):
            thumb = thumb.convert("RGB")
        out = io.BytesIO()
        thumb.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()
