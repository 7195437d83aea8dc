from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("subscribe/", views.subscribe, name="push_subscribe"),
    path("unsubscribe/", views.unsubscribe, name="push_unsubscribe"),
    path("check/", views.check, name="push_check"),
    path("renew/", views.renew, name="push_renew"),
    path("read/", views.mark_read_from_push, name="push_read"),
]
