"""Visit photos: checked by their content (not their name) and shrunk to a thumbnail.

Only JPEG and PNG are taken, up to the size in VisitsConfig. The thumbnail is a JPEG at most
`THUMBNAIL_PX` on its longer side, turned upright by the photo's EXIF orientation (phones
store portrait photos sideways) and without the EXIF data.
"""

from __future__ import annotations

import io
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from crm.exceptions import DomainError

THUMBNAIL_PX = 480
ACCEPTED = {"JPEG": "jpg", "PNG": "png"}
# A decompression bomb guard: no phone camera makes a photo of more pixels than this.
MAX_PIXELS = 80_000_000


def photo_check(photo: UploadedFile, *, max_mb: int) -> str:
    """The file's extension by its content ("jpg" or "png"); DomainError on the `photo` field
    when it is too large, not an image, or of another type."""
    if photo.size is not None and photo.size > max_mb * 1024 * 1024:
        raise DomainError(_("The photo is larger than %(n)d MB.") % {"n": max_mb}, field="photo")
    photo.seek(0)
    try:
        with Image.open(photo) as image:
            kind = image.format
            if image.width * image.height > MAX_PIXELS:
                raise DomainError(_("The photo has too many pixels."), field="photo")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DomainError(_("The photo is not a readable image."), field="photo") from exc
    finally:
        photo.seek(0)
    if kind not in ACCEPTED:
        raise DomainError(_("Send the photo as a JPEG or PNG file."), field="photo")
    return ACCEPTED[kind]


def photo_files(photo: UploadedFile, *, extension: str) -> tuple[ContentFile, ContentFile]:
    """The photo as stored (under a random name) and its thumbnail."""
    photo.seek(0)
    data = photo.read()
    with Image.open(io.BytesIO(data)) as image:
        thumb = ImageOps.exif_transpose(image)
        thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        if thumb.mode not in ("RGB", "L"):
            thumb = thumb.convert("RGB")
        out = io.BytesIO()
        thumb.save(out, format="JPEG", quality=80, optimize=True)
    stem = uuid.uuid4().hex
    return (
        ContentFile(data, name=f"{stem}.{extension}"),
        ContentFile(out.getvalue(), name=f"{stem}-thumb.jpg"),
    )
