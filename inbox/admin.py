from __future__ import annotations

from django.contrib import admin

from .models import Message, Notification


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["text", "level", "actor", "created", "expires_at"]
    list_filter = ["level", "created"]
    search_fields = ["text", "url", "actor__username"]
    raw_id_fields = ["actor"]
    date_hierarchy = "created"
    show_full_result_count = False  # no COUNT(*) over every message on each page


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["message", "recipient", "created", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter), "message__level"]
    search_fields = ["message__text", "recipient__username", "recipient__email"]
    list_select_related = ["message", "recipient"]
    raw_id_fields = ["recipient", "message"]
    show_full_result_count = False  # a broadcast makes this table large
