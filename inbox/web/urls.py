from __future__ import annotations

from django.urls import path

from . import actions, preferences, send, views

urlpatterns = [
    path("", views.index, name="index"),
    path("badge/", views.badge, name="badge"),
    path("dropdown/", views.dropdown, name="dropdown"),
    path("read-all/", actions.mark_all_read, name="mark_all_read"),
    path("<int:pk>/read/", actions.item_action, {"action": "read"}, name="mark_read"),
    path("<int:pk>/unread/", actions.item_action, {"action": "unread"}, name="mark_unread"),
    path("<int:pk>/delete/", actions.item_action, {"action": "delete"}, name="delete"),
    path("send/", send.send, name="send"),
    path("preferences/", preferences.preferences, name="preferences"),
]
