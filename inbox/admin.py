from __future__ import annotations

from django import forms
from django.contrib import admin

from . import kinds
from .changelists import CheckedChangelist
from .models import Message, Notification
from .outbox import admin as outbox_admin  # noqa: F401 (registers the hand-overs' admin)
from .validators import clean_expiry, clean_level, clean_link, clean_text


class MessageAdminForm(forms.ModelForm):
    """The admin checks a message as the API does (no javascript: link, a bounded expiry, a
    registered kind)."""

    kind = forms.ChoiceField(choices=kinds.choices, required=False, initial=kinds.GENERAL)

    class Meta:
        model = Message
        fields = "__all__"

    def clean_text(self):
        return clean_text(self.cleaned_data["text"])

    def clean_url(self):
        return clean_link(self.cleaned_data["url"])

    def clean_kind(self):
        return kinds.get(self.cleaned_data["kind"] or kinds.GENERAL).key

    def clean_level(self):
        return clean_level(self.cleaned_data["level"])

    def clean_expires_at(self):
        # An old message whose expiry has passed can still be edited: only a new or changed
        # expiry must be in the future.
        if self.instance.pk and "expires_at" not in self.changed_data:
            return self.instance.expires_at
        return clean_expiry(self.cleaned_data["expires_at"])


@admin.register(Message)
class MessageAdmin(CheckedChangelist):
    form = MessageAdminForm
    list_display = ["text", "kind", "level", "actor", "created", "expires_at"]
    list_filter = ["kind", "level", "created"]
    search_fields = ["text", "url", "actor__username"]
    raw_id_fields = ["actor"]
    date_hierarchy = "created"
    show_full_result_count = False  # no COUNT(*) over every message on each page


@admin.register(Notification)
class NotificationAdmin(CheckedChangelist):
    list_display = ["message", "recipient", "created", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter), "message__level"]
    search_fields = ["message__text", "recipient__username", "recipient__email"]
    list_select_related = ["message", "recipient"]
    raw_id_fields = ["recipient", "message"]
    show_full_result_count = False  # a broadcast makes this table large
