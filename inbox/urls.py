from __future__ import annotations

from django.urls import path

from . import views

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
]
