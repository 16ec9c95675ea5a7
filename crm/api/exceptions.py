"""API error responses: a DomainError becomes a 400 naming the field at fault; a body above
Django's size limit a 413."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api.parsers import PayloadTooLarge
from crm.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django refused a form or multipart body (JSON is bounded by the parser): a 413 in
        # the API's own shape, not Django's HTML 400 page.
        exc = PayloadTooLarge(
            _("The body is larger than %(limit)d bytes, the most accepted.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    if isinstance(exc, DomainError):
        body = {
            ("non_field_errors" if key == "__all__" else key): msgs
            for key, msgs in exc.errors.items()
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
