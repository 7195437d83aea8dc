"""The preferences page: the push switch and the browsers receiving push."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET
from webpush.models import SubscriptionInfo

from inbox.push.keys import push_configured, vapid_public_key

from .decorators import login_required


@require_GET
@login_required
def preferences(request):
    subscriptions = SubscriptionInfo.objects.filter(webpush_info__user=request.user).distinct()
    return render(
        request,
        "inbox/preferences.html",
        {
            "subscriptions": subscriptions.order_by("-id"),
            "push_available": push_configured(),
            "inbox_vapid_public_key": vapid_public_key(),
        },
    )
