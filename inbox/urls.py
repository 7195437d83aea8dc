from __future__ import annotations

from django.urls import path

from . import push_views, views

app_name = "inbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("badge/", views.badge, name="badge"),
    path("dropdown/", views.dropdown, name="dropdown"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("<int:pk>/unread/", views.mark_unread, name="mark_unread"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("send/", views.send, name="send"),
    path("preferences/", push_views.preferences, name="preferences"),
    path("push/subscribe/", push_views.subscribe, name="push_subscribe"),
    path("push/unsubscribe/", push_views.unsubscribe, name="push_unsubscribe"),
    path("push/check/", push_views.check, name="push_check"),
    path("push/renew/", push_views.renew, name="push_renew"),
    path("push/read/", push_views.mark_read_from_push, name="push_read"),
]
