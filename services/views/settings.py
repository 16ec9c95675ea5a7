"""PLACEHOLDER — replaced by the views helper."""

from django.http import HttpResponse


def services_settings(request, *args, **kwargs):
    return HttpResponse(status=501)


def holiday_delete(request, *args, **kwargs):
    return HttpResponse(status=501)
