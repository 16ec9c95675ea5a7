"""PLACEHOLDER — replaced by the views helper."""

from django.http import HttpResponse


def satisfaction_view(request, *args, **kwargs):
    return HttpResponse(status=501)


def satisfaction_export(request, *args, **kwargs):
    return HttpResponse(status=501)
