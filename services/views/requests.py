"""PLACEHOLDER — replaced by the views helper."""

from django.http import HttpResponse


def queue_view(request, *args, **kwargs):
    return HttpResponse(status=501)


def request_new(request, *args, **kwargs):
    return HttpResponse(status=501)


def queue_export(request, *args, **kwargs):
    return HttpResponse(status=501)


def request_detail(request, *args, **kwargs):
    return HttpResponse(status=501)


def request_assign(request, *args, **kwargs):
    return HttpResponse(status=501)


def request_act(request, *args, **kwargs):
    return HttpResponse(status=501)
