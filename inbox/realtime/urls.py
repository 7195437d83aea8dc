from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    # The WebSocket's address (served by inbox.realtime.asgi); over plain HTTP, a 426.
    path("ws/", views.socket, name="realtime"),
]
