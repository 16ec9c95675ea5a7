"""PLACEHOLDER — replaced by the views helper."""

from django.http import HttpResponse


def care_view(request, *args, **kwargs):
    return HttpResponse(status=501)


def activity_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def activity_new(request, *args, **kwargs):
    return HttpResponse(status=501)
