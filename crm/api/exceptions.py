"""API error responses: a DomainError becomes a 400 naming the field at fault."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {
            ("non_field_errors" if key == "__all__" else key): msgs
            for key, msgs in exc.errors.items()
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
