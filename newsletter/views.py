"""Subscription lifecycle views."""

from django.http import Http404


def placeholder(request, token=None):
    raise Http404("Not built yet.")


subscribe = confirm = manage = unsubscribe = placeholder
