"""PLACEHOLDER — replaced by the views helper."""

from django.http import HttpResponse


def training_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def training_new(request, *args, **kwargs):
    return HttpResponse(status=501)


def training_detail(request, *args, **kwargs):
    return HttpResponse(status=501)
