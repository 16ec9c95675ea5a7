"""Files for upload tests: good ones of each accepted type, damaged images, and hostile files
dressed up as accepted ones (crm.uploads judges by content, so only the bytes matter)."""

from __future__ import annotations

import io
import random
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

HTML = b"<!doctype html><html><body><script>fetch('/customers/change-requests/')</script>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
JS = b"fetch('/customers/change-requests/bulk-approve/', {method: 'POST'});"


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), *, noise=False) -> bytes:
    """An image; with `noise`, random pixels (they do not compress, so the file has a long
    data section to cut or spoil). The same bytes for the same arguments, whichever tests
    ran before (a generator of its own, seeded by them): a test on a damaged file fails or
    passes alike in every run and every order."""
    if noise:
        pixels = random.Random(f"{fmt}{size}")  # noqa: S311 (test pictures, not secrets)
        image = Image.frombytes("RGB", size, pixels.randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A small, complete PDF (header to %%EOF)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def truncated_jpeg() -> bytes:
    """A JPEG cut in the middle of its scan data (an interrupted upload)."""
    data = image_bytes("JPEG", (128, 128), noise=True)
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    """A PNG whose compressed pixels are spoiled but whose chunk checksums are right:
    `Image.verify()` passes it; only decoding finds the damage."""
    data = image_bytes("PNG", (128, 128), noise=True)
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            body = bytearray(data[pos + 8 : pos + 8 + length])
            for i in range(100, 400):
                body[i] ^= 0xFF
            crc = struct.pack(">I", zlib.crc32(b"IDAT" + bytes(body)) & 0xFFFFFFFF)
            return data[: pos + 8] + bytes(body) + crc + data[pos + 12 + length :]
        pos += 12 + length
    raise AssertionError("no IDAT chunk")


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)
