"""The demo site's admin of Django's users and groups: Django's own, except that a chosen group
or permission must be an id the database can hold. Django's form looks ids up as given, and
SQLite cannot take an integer past 64 bits (OverflowError: a 500 for a staff form posting
permissions=999...9); PostgreSQL refuses it as an invalid choice already."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import models

__all__ = ["BoundedChoicesField"]

LARGEST_ID = 2**63 - 1


class BoundedChoicesField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses, as an invalid choice, an id no database holds."""

    def clean(self, value):
        for choice in value or ():
            try:
                out_of_range = not 0 <= int(choice) <= LARGEST_ID
            except (TypeError, ValueError):
                continue  # not a number: Django's own check refuses it
            if out_of_range:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": choice}
                )
        return super().clean(value)


BOUNDED = {models.ManyToManyField: {"form_class": BoundedChoicesField}}


class BoundedGroupAdmin(GroupAdmin):
    formfield_overrides = {**GroupAdmin.formfield_overrides, **BOUNDED}


class BoundedUserAdmin(UserAdmin):
    formfield_overrides = {**UserAdmin.formfield_overrides, **BOUNDED}


def register() -> None:
    """Replace Django's group and user admins (called from config.urls, after autodiscovery)."""
    for model, model_admin in [(Group, BoundedGroupAdmin), (User, BoundedUserAdmin)]:
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
