from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message


def test_notifications_are_searchable_in_the_admin(admin_client, alice, make_notifications):
    make_notifications(alice, 2, text="Quarterly report {i}")
    make_notifications(alice, 1, text="Lunch")
    changelist = reverse("admin:inbox_notification_changelist")
    html = admin_client.get(changelist, {"q": "quarterly"}).content.decode()
    assert "Quarterly report 0" in html and "Quarterly report 1" in html and "Lunch" not in html
    html = admin_client.get(reverse("admin:inbox_message_changelist"), {"q": "lunch"}).content.decode()
    assert "Lunch" in html and "Quarterly" not in html


def message_data(**changes) -> dict:
    """The admin's add/change form as a browser posts it (dates as the split widget sends them)."""
    now = timezone.localtime()
    data = {
        "text": "Maintenance tonight",
        "url": "/inbox/",
        "level": "info",
        "actor": "",
        "created_0": now.strftime("%Y-%m-%d"),
        "created_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
    }
    return {**data, **changes}


def test_the_admin_adds_a_valid_message(admin_client):
    tomorrow = timezone.localtime() + timedelta(days=1)
    data = message_data(expires_at_0=tomorrow.strftime("%Y-%m-%d"), expires_at_1="12:00:00")
    response = admin_client.post(reverse("admin:inbox_message_add"), data)
    assert response.status_code == 302
    assert Message.objects.get().url == "/inbox/"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"url": "javascript:alert(1)"}, "The link must be an http:// or https:// URL"),
        ({"url": "//evil.example/"}, "The link must be an http:// or https:// URL"),
        ({"text": "x" * 2001}, "at most 2000 characters"),
        ({"text": "   "}, "This field is required."),
        ({"expires_at_0": "9999-12-31", "expires_at_1": "23:59:59"}, "too far ahead"),
        ({"expires_at_0": "2000-01-01", "expires_at_1": "00:00:00"}, "in the past"),
    ],
)
def test_the_admin_refuses_what_the_api_refuses(admin_client, changes, error):
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(**changes))
    assert response.status_code == 200  # the form again, with the error
    assert error in response.content.decode()
    assert not Message.objects.exists()


def test_the_admin_refuses_a_bad_link_when_editing(admin_client, alice):
    message = notify(alice, "Hello", url="/inbox/").message
    url = reverse("admin:inbox_message_change", args=[message.pk])
    response = admin_client.post(url, message_data(text="Hello", url="javascript:alert(1)"))
    assert "The link must be an http:// or https:// URL" in response.content.decode()
    message.refresh_from_db()
    assert message.url == "/inbox/"


def test_an_old_message_whose_expiry_passed_can_still_be_edited(admin_client, alice):
    message = notify(alice, "Old", expires_at=timezone.now() + timedelta(hours=1)).message
    past = timezone.now() - timedelta(days=3)
    Message.objects.filter(pk=message.pk).update(expires_at=past)
    shown = timezone.localtime(past)
    data = message_data(
        text="Old, corrected",
        expires_at_0=shown.strftime("%Y-%m-%d"),
        expires_at_1=shown.strftime("%H:%M:%S"),
    )
    response = admin_client.post(reverse("admin:inbox_message_change", args=[message.pk]), data)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.text == "Old, corrected" and message.expires_at == past
    # Changing the expiry to another past moment is still refused.
    data["expires_at_1"] = "00:00:01"
    response = admin_client.post(reverse("admin:inbox_message_change", args=[message.pk]), data)
    assert "in the past" in response.content.decode()


def test_the_admin_takes_a_registered_kind_and_refuses_others(admin_client):
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(kind="mention"))
    assert response.status_code == 302 and Message.objects.get().kind == "mention"
    response = admin_client.post(reverse("admin:inbox_message_add"), message_data(kind="nope", text="Other"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Message.objects.count() == 1


# Issue 18, item 12: a staff user's odd query string on a changelist is refused (the admin's
# redirect to ?e=1), never a 500. A NUL byte fails in PostgreSQL's text, a 20-digit number in
# SQLite's integers and in the date hierarchy's date, a year beyond 9999 in a year lookup.
ODD_VALUES = ["\x00", "info\x00", "2024\x00", "9" * 20, "-" + "9" * 20, str(2**31), "99999", "1," + "9" * 20]
LOOKUPS = ["", "__exact", "__gte", "__in", "__contains"]
DATE_LOOKUPS = ["__year", "__month", "__day", "__iso_year", "__year__gte"]


def app_admins() -> list[admin.ModelAdmin]:
    """Every ModelAdmin of the app's (inbox and its sub-apps), found through the admin site."""
    found = [
        admin.site.get_model_admin(model) for model in apps.get_models() if admin.site.is_registered(model)
    ]
    return [model_admin for model_admin in found if type(model_admin).__module__.startswith("inbox.")]


def parameters(model_admin) -> list[str]:
    """The changelist's own parameters, and a lookup on each field, its list filters and more."""
    names = [SEARCH_VAR, ORDER_VAR, PAGE_VAR]
    for field in model_admin.model._meta.concrete_fields:
        names += [field.name + lookup for lookup in LOOKUPS] + [field.attname]
        if isinstance(field, models.DateField):
            names += [field.name + lookup for lookup in DATE_LOOKUPS]
    for list_filter in model_admin.list_filter:
        path = list_filter[0] if isinstance(list_filter, tuple) else list_filter
        names += [path, path + "__exact", path + "__isempty", path + "__isnull"]
    return names


def test_every_admin_of_the_app_is_fuzzed():
    assert {type(a).__name__ for a in app_admins()} == {
        "HandoverAdmin",
        "MessageAdmin",
        "NotificationAdmin",
        "PushInformationAdmin",
    }


@pytest.mark.parametrize("model_admin", app_admins(), ids=lambda a: type(a).__name__)
def test_odd_changelist_parameters_are_refused_not_a_500(
    admin_client, alice, make_notifications, model_admin
):
    make_notifications(alice, 2)
    admin_client.raise_request_exception = False  # a 500 is counted, not raised
    opts = model_admin.model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    today = timezone.localdate()
    within = {}  # the date hierarchy's month and day are read under a year
    if model_admin.date_hierarchy:
        within = {f"{model_admin.date_hierarchy}__year": str(today.year)}
    failures = []
    for name in parameters(model_admin):
        for value in ODD_VALUES:
            for extra in ({}, within) if within else ({},):
                response = admin_client.get(changelist, {**extra, name: value})
                if response.status_code == 302:
                    assert response["Location"].endswith("?e=1"), response["Location"]
                elif response.status_code != 200:
                    failures.append(f"{name}={value!r} {extra}: {response.status_code}")
    assert not failures


@pytest.mark.parametrize("value", ["\x00", "9" * 20])
def test_a_refused_filter_says_so(admin_client, value):
    response = admin_client.get(
        reverse("admin:inbox_message_changelist"), {"created__year": value}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("admin:inbox_message_changelist") + "?e=1", 302)]


def test_the_date_hierarchy_and_filters_still_work(admin_client, alice):
    message = notify(alice, "This month's", kind="mention").message
    today = timezone.localdate()
    params = {
        "created__year": today.year,
        "created__month": today.month,
        "created__day": today.day,
        "kind__exact": "mention",
        "id__in": f"{message.pk},9223372036854775807",
    }
    html = admin_client.get(reverse("admin:inbox_message_changelist"), params).content.decode()
    assert "This month&#x27;s" in html
    notifications = reverse("admin:inbox_notification_changelist")
    html = admin_client.get(
        notifications, {"read_at__isempty": "1", "message__level__exact": "info"}
    ).content.decode()
    assert "This month&#x27;s" in html


@pytest.mark.parametrize("field", ["groups", "user_permissions"])
def test_an_id_no_database_holds_is_an_invalid_choice_in_the_user_admin(admin_client, alice, field):
    url = reverse("admin:auth_user_change", args=[alice.pk])
    response = admin_client.post(url, {"username": "alice", field: "9" * 400})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not alice.groups.exists() and not alice.user_permissions.exists()


def test_an_id_no_database_holds_is_an_invalid_choice_in_the_group_admin(admin_client):
    response = admin_client.post(
        reverse("admin:auth_group_add"), {"name": "Editors", "permissions": "9" * 400}
    )
    assert response.status_code == 200
    assert "permissions" in response.context["adminform"].form.errors
    assert not Group.objects.filter(name="Editors").exists()
