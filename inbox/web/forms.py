"""The staff send form."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from inbox.models import MESSAGE_MAX_LENGTH, URL_MAX_LENGTH, Level
from inbox.recipients import select_recipients
from inbox.validators import clean_expiry, clean_link, clean_text


class SendForm(forms.Form):
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )
    usernames = forms.CharField(
        label="Users",
        required=False,
        help_text="One or more usernames, separated by commas or spaces.",
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), required=False, empty_label="(no group)"
    )
    all_users = forms.BooleanField(label="All active users", required=False)
    url = forms.CharField(
        label="Link",
        required=False,
        max_length=URL_MAX_LENGTH,
        help_text="Optional: an https:// URL or a path on this site such as /inbox/.",
    )
    level = forms.ChoiceField(choices=Level.choices, initial=Level.INFO)
    expires_at = forms.DateTimeField(
        label="Expires",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional, in the site's time zone. After it, the notification disappears.",
    )

    def clean_message(self):
        return clean_text(self.cleaned_data["message"])

    def clean_url(self):
        return clean_link(self.cleaned_data["url"])

    def clean_expires_at(self):
        return clean_expiry(self.cleaned_data["expires_at"])

    def clean(self):
        cleaned = super().clean()
        group = cleaned.get("group")
        try:
            cleaned["recipients"] = select_recipients(
                usernames=re.split(r"[\s,]+", cleaned.get("usernames", "")),
                group_names=[group.name] if group else [],
                all_users=cleaned.get("all_users", False),
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned
