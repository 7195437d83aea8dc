from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from inbox.mail.models import EmailBounce
from inbox.preferences import DigestSetting, Preference

PREFERENCES = reverse("inbox:preferences")
HTMX = {"HX-Request": "true"}
FORM = "application/x-www-form-urlencoded"
DIGEST = {"frequency": "off", "hour": "8", "weekday": "0", "timezone": "UTC"}


def default_grid(**changes) -> dict:
    """The POST the unchanged grid sends (checked boxes only), with `changes` ({"kind:channel": bool})."""
    checked = {
        "general:inbox",
        "general:push",
        "general:digest",
        "mention:inbox",
        "mention:push",
        "mention:email",
        "mention:digest",
        "build.finished:inbox",
        "build.finished:digest",
        "announcement:digest",
    }
    for name, on in changes.items():
        (checked.add if on else checked.discard)(name)
    return dict.fromkeys(checked, "on")


def test_anonymous_users_go_to_the_login_page(client, db):
    response = client.get(PREFERENCES)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(PREFERENCES, DIGEST).status_code == 302
    assert not DigestSetting.objects.exists()


def test_the_page_shows_the_grid_with_the_kinds_defaults(alice_client):
    response = alice_client.get(PREFERENCES)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<table class="preference-grid">' in html
    for label in ("In the inbox", "Push", "Email", "Email digest"):
        assert f'<th scope="col">{label}</th>' in html
    form = response.context["form"]
    assert form["mention:email"].value() is True and form["build.finished:push"].value() is False
    # The push switch and the browsers list are still there.
    assert "Browsers receiving push" in html and "Push notifications" in html


def test_locked_cells_are_disabled_with_their_reason(alice_client):
    html = alice_client.get(PREFERENCES).content.decode()
    # Which channels are locked, which way, and why; reachable by Tab (the checkboxes are not).
    assert (
        'id="locked-security" tabindex="0">Always on: In the inbox, Push, Email. Never: Email digest. '
        "Security alerts must reach you, so you cannot change how: only staff send them.</small>"
    ) in html
    assert (
        'id="locked-announcement" tabindex="0">Always on: In the inbox. Announcements always appear' in html
    )
    assert (
        '<input type="checkbox" name="security:email" aria-describedby="locked-security" disabled '
        'id="id_security:email" checked>'
    ) in html
    assert 'name="announcement:inbox" aria-describedby="locked-announcement" disabled' in html


def test_saving_without_javascript_redirects_back_with_a_message(alice_client, alice):
    data = default_grid(**{"mention:email": False, "build.finished:push": True}) | DIGEST
    response = alice_client.post(PREFERENCES, data)
    assert response.status_code == 302 and response["Location"] == PREFERENCES
    page = alice_client.get(PREFERENCES)
    assert "Preferences saved." in page.content.decode()
    assert set(Preference.objects.values_list("kind", "channel", "enabled")) == {
        ("mention", "email", False),
        ("build.finished", "push", True),
    }
    assert page.context["form"]["mention:email"].value() is False
    assert not DigestSetting.objects.exists()  # digest off and never on: no row


def test_saving_with_htmx_answers_with_the_form_and_a_saved_message(alice_client, alice):
    data = default_grid(**{"general:push": False}) | DIGEST | {"frequency": "weekly", "weekday": "4"}
    response = alice_client.post(PREFERENCES, data | {"timezone": "Europe/Paris"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="preferences-form"') and "<html" not in html
    assert '<p id="preferences-status" hx-swap-oob="innerHTML">Preferences saved.</p>' in html
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.hour, setting.weekday, setting.timezone) == (
        "weekly",
        8,
        4,
        "Europe/Paris",
    )
    assert setting.next_due_at > timezone.now()
    local = setting.next_due_at.astimezone(setting.next_due(timezone.now()).tzinfo)
    assert local == setting.next_due(timezone.now())
    assert Preference.objects.get().channel == "push"


def test_turning_the_digest_off_keeps_the_row_but_clears_the_due_time(alice_client, alice):
    alice_client.post(PREFERENCES, default_grid() | DIGEST | {"frequency": "daily"})
    assert DigestSetting.objects.get().next_due_at is not None
    alice_client.post(PREFERENCES, default_grid() | DIGEST)
    setting = DigestSetting.objects.get()
    assert setting.frequency == "off" and setting.next_due_at is None


def test_locked_cells_posted_off_are_ignored(alice_client):
    data = default_grid() | DIGEST  # security:* and announcement:inbox are absent, i.e. "off"
    assert alice_client.post(PREFERENCES, data).status_code == 302
    assert not Preference.objects.exists()


@pytest.mark.parametrize(
    "odd",
    [
        {"mention:push": "x" * 100_000},
        {"mention:push": "on\x00"},
        {"mention:push": "²"},
        {"nope:push": "on", "mention:fax": "on", "\x00": "on", "x" * 5000: "on", "security:email": ""},
    ],
)
def test_odd_grid_values_never_break_it(alice_client, odd):
    body = urlencode(default_grid() | DIGEST | odd)  # as a browser's form sends it
    response = alice_client.post(PREFERENCES, body, content_type=FORM, headers=HTMX)
    assert response.status_code == 200
    assert not Preference.objects.exclude(kind="mention", channel="push").exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("hour", "24", "Select a valid choice"),
        ("hour", "-1", "Select a valid choice"),
        ("hour", "9" * 5000, "Select a valid choice"),
        ("hour", "²", "Select a valid choice"),
        ("weekday", "7", "Select a valid choice"),
        ("frequency", "hourly", "Select a valid choice"),
        ("timezone", "Mars/Olympus", "Unknown time zone"),
        ("timezone", "../../etc/passwd", "Unknown time zone"),
        ("timezone", "Europe/Paris\x00", "Null characters are not allowed"),
        ("timezone", "x" * 100, "at most 64 characters"),
        ("timezone", "", "This field is required"),
    ],
)
def test_bad_digest_fields_are_a_422_that_saves_nothing(alice_client, field, value, error):
    data = default_grid(**{"mention:push": False}) | DIGEST | {"frequency": "daily", field: value}
    response = alice_client.post(PREFERENCES, data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was saved" in html and error in html
    assert '<p id="preferences-status" hx-swap-oob="innerHTML"></p>' in html
    assert not Preference.objects.exists() and not DigestSetting.objects.exists()


def test_without_javascript_errors_show_on_the_page(alice_client):
    response = alice_client.post(PREFERENCES, default_grid() | DIGEST | {"timezone": "Nowhere"})
    html = response.content.decode()
    assert response.status_code == 422 and "<html" in html and "Unknown time zone" in html


def test_the_form_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(PREFERENCES, default_grid(**{"mention:push": False}) | DIGEST).status_code == 403
    assert not Preference.objects.exists()


def test_a_user_only_changes_their_own_preferences(alice_client, alice, bob):
    alice_client.post(PREFERENCES, default_grid(**{"mention:push": False}) | DIGEST | {"user": bob.pk})
    assert list(Preference.objects.values_list("user", flat=True)) == [alice.pk]


def test_the_email_status(alice_client, alice):
    assert "You have no email address" in alice_client.get(PREFERENCES).content.decode()
    alice.email = "alice@example.com"
    alice.save()
    assert "Email goes to alice@example.com." in alice_client.get(PREFERENCES).content.decode()
    EmailBounce.objects.create(
        user=alice,
        address="alice@example.com",
        code=550,
        message="No such user",
        at=datetime(2026, 3, 2, 10, tzinfo=timezone.get_current_timezone()),
    )
    html = alice_client.get(PREFERENCES).content.decode()
    assert "Email stopped: the server refused alice@example.com on March 2, 2026." in html
    alice.email = "alice@example.org"  # a new address starts email again
    alice.save()
    assert "Email goes to alice@example.org." in alice_client.get(PREFERENCES).content.decode()


def test_the_page_runs_a_fixed_number_of_queries(alice_client, alice, django_assert_num_queries):
    Preference.objects.create(user=alice, kind="mention", channel="push", enabled=False)
    # session, user, preferences, digest setting (no address: no bounce to look up)
    with django_assert_num_queries(4):
        alice_client.get(PREFERENCES, headers=HTMX)
    alice.email = "alice@example.com"
    alice.save()
    with django_assert_num_queries(5):  # and the bounce
        alice_client.get(PREFERENCES, headers=HTMX)


def test_too_many_fields_is_a_400(alice_client, settings):
    body = urlencode(
        default_grid() | DIGEST | {f"f{i}": "on" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)}
    )
    response = alice_client.post(PREFERENCES, body, content_type=FORM)
    assert response.status_code == 400
    assert not Preference.objects.exists()


def test_a_digest_for_the_hour_already_started_says_it_starts_tomorrow(
    alice_client, alice, make_notifications, settings
):
    """The rule (a digest goes out on the hour; the next such hour after saving) is said on the
    page, with what the digest would hold."""
    now = timezone.now().astimezone(ZoneInfo("Europe/Berlin"))
    settings.INBOX_DIGEST_SETTLE_SECONDS = (
        0  # (a digest leaves out the last minute's, which email may still carry)
    )
    make_notifications(alice, 3)
    digest = {"frequency": "daily", "hour": str(now.hour), "weekday": "0", "timezone": "Europe/Berlin"}
    response = alice_client.post(PREFERENCES, default_grid() | digest, headers=HTMX)
    text = " ".join(strip_tags(response.content.decode()).split())
    assert f"Next digest: tomorrow {now.hour:02}:00, Europe/Berlin." in text
    assert "Sent now, it would hold 3 unread notifications of the kinds ticked under “Email digest”." in text
    assert "an hour that has already started today means the first one tomorrow" in text


def test_a_later_hour_is_today_and_an_empty_digest_says_so(alice_client, alice):
    now = timezone.now()
    if now.hour == 23:
        pytest.skip("no later hour today in UTC")
    digest = {"frequency": "daily", "hour": str(now.hour + 1), "weekday": "0", "timezone": "UTC"}
    alice_client.post(PREFERENCES, default_grid() | digest)
    text = " ".join(strip_tags(alice_client.get(PREFERENCES).content.decode()).split())
    assert f"Next digest: today {now.hour + 1:02}:00, UTC." in text
    assert "Nothing for it yet: no email goes out when nothing is new." in text


def test_without_a_digest_none_is_scheduled(alice_client):
    text = strip_tags(alice_client.get(PREFERENCES).content.decode())
    assert "No digest is scheduled." in text
