"""EMAIL_URL, read by config/settings.py into Django 6.1's MAILERS, and the site URL check."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import email_config
from inbox.mail.checks import check_site_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_smtp_with_starttls_and_a_percent_encoded_password():
    assert email_config("smtp+tls://inbox%40example.com:p%40ss%3Aword@smtp.example.com?timeout=10") == {
        "BACKEND": SMTP,
        "OPTIONS": {
            "host": "smtp.example.com",
            "port": 587,
            "username": "inbox@example.com",
            "password": "p@ss:word",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 10,
        },
    }


def test_smtps_plain_smtp_and_the_local_backends():
    assert email_config("smtps://mx.example.com")["OPTIONS"] == {
        "host": "mx.example.com",
        "port": 465,
        "username": "",
        "password": "",
        "use_tls": False,
        "use_ssl": True,
        "timeout": 30,
    }
    assert email_config("smtp://127.0.0.1:1025")["OPTIONS"]["port"] == 1025
    assert email_config("console:") == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert email_config("file:///srv/mail") == {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": "/srv/mail"},
    }


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("gopher://x", "EMAIL_URL must start with one of smtp:"),
        ("smtp://host:99999", "port must be a number from 1 to 65535"),
        ("smtp://host:²", "port must be a number"),
        ("smtp://:25", "EMAIL_URL needs a host"),
        ("smtp://host?timeout=0", "timeout must be a number of seconds"),
        ("smtp://host?timeout=99999999999999999999", "timeout must be a number of seconds"),
        ("smtp://host?timeout=²", "timeout must be a number of seconds"),
        ("file://", "needs a folder"),
    ],
)
def test_a_url_it_cannot_read_stops_the_start_and_says_why(url, said):
    with pytest.raises(ImproperlyConfigured, match=said):
        email_config(url)


def test_an_http_site_url_is_a_deploy_warning(settings):
    settings.INBOX_SITE_URL = "http://inbox.example.com"
    (warning,) = check_site_url(None)
    assert warning.id == "inbox.W002"
    settings.INBOX_SITE_URL = "https://inbox.example.com"
    assert check_site_url(None) == []
