"""The admin for stored push subscriptions, in place of django-webpush's.

django-webpush's admin has a "send test message" action that posts to any stored endpoint
without the checks of inbox.push (public addresses only, pinned connection). This one lists
who subscribed which browser and can delete subscriptions; it sends nothing. PushConfig.ready()
imports it once the [push] extra's libraries are there (this module is not named admin.py, which
the admin's autodiscovery imports whatever ready() found).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import webpush.admin  # noqa: F401 -- registered first, so it can be replaced here
from django.contrib import admin
from webpush.models import PushInformation

from inbox.changelists import CheckedChangelist

__all__ = ["PushInformationAdmin"]

if admin.site.is_registered(PushInformation):
    admin.site.unregister(PushInformation)


@admin.register(PushInformation)
class PushInformationAdmin(CheckedChangelist):
    list_display = ["user", "browser", "endpoint_host", "group"]
    list_select_related = ["user", "subscription", "group"]
    search_fields = ["user__username", "subscription__browser"]
    fields = ["user", "group", "subscription"]
    readonly_fields = fields

    @admin.display(description="browser", ordering="subscription__browser")
    def browser(self, obj):
        return obj.subscription.browser

    @admin.display(description="push service")
    def endpoint_host(self, obj):
        return urlsplit(obj.subscription.endpoint).hostname

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
