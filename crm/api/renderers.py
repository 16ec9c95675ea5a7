"""The API's JSON renderer.

- Text UTF-8 cannot encode is still written. A response may quote what a client sent
  (`“routine\\ud800” is not a valid choice.`); an unpaired surrogate in it made the UTF-8
  encoding fail, a 500. Such a response is written with ASCII escapes instead: the same JSON,
  readable by any client.
- DRF's browsable API pages alone allow inline styles under the Content-Security-Policy.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import renderers

from crm.headers import csp_extend, csp_header_value
from crm.middleware import CSP_HEADER


class ApiJSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, whose templates write inline styles (a Pygments <style> element,
    style="" on its buttons and fieldsets): its pages alone allow inline styles. Scripts stay
    'self' only. An inline style cannot run code; the risk it leaves (restyling injected
    markup) needs an HTML injection, which the page's escaping already refuses. Copying DRF's
    templates to strip them would drift from DRF at each upgrade."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and CSP_HEADER not in response:
            policy = csp_extend(settings.SECURE_CSP, "style-src 'unsafe-inline'")
            response[CSP_HEADER] = csp_header_value(policy)
        return super().render(data, accepted_media_type, renderer_context)
