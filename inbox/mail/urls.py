from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="mail_unsubscribe"),
    path("read/<str:token>/", views.mark_read, name="mail_read"),
]
