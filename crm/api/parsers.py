"""Request body parsers of the API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser


class NoNulJSONParser(JSONParser):
    """JSON whose text holds no NUL character (`\\u0000`).

    PostgreSQL cannot store NUL in text, and the sync bodies reach the services before any
    field is checked, so a NUL anywhere in a body is refused here: a 400 naming where it is
    (`orders.3.lines.0.product_code`), the same on SQLite as on PostgreSQL.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        where = nul_path(data)
        if where is not None:
            raise ValidationError(
                {where or "non_field_errors": [_("Text may not contain NUL characters (\\u0000).")]}
            )
        return data


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (value or key) holding a NUL character, or None.
    A key holding one is reported by the path of the object it is in."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return path
            found = nul_path(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
