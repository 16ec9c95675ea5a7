"""How API responses are written."""

from __future__ import annotations

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer (UTF-8), which also writes text UTF-8 cannot encode.

    A response may quote what a client sent (`“routine\\ud800” is not a valid choice.`); an
    unpaired surrogate in it made the UTF-8 encoding fail, a 500. Such a response is written
    with ASCII escapes instead: the same JSON, readable by any client.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True
