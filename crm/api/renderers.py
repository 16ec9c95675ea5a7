"""DRF's browsable API under the Content-Security-Policy."""

from django.conf import settings
from rest_framework import renderers

from crm.headers import csp_extend, csp_header_value
from crm.middleware import CSP_HEADER


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
