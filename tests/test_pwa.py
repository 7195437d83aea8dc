from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.urls import reverse


def test_the_service_worker_is_served_at_the_root_uncached(client):
    response = client.get("/service-worker.js")
    source = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"
    assert "__" not in source.split("const INBOX_PATH")[0]  # every placeholder was filled in
    assert '"/static/inbox/inbox.css"' in source and '"/offline/"' in source
    for listener in ("install", "activate", "fetch", "push", "notificationclick", "pushsubscriptionchange"):
        assert f'addEventListener("{listener}"' in source


def test_the_manifest_makes_the_site_installable(client):
    response = client.get(reverse("manifest"))
    manifest = json.loads(response.content)
    assert response["Content-Type"] == "application/manifest+json"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/inbox/"
    assert {manifest["name"], manifest["short_name"]} == {"Inbox notifications", "Inbox"}
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]


def test_every_page_links_the_manifest(alice_client):
    html = alice_client.get(reverse("inbox:index")).content.decode()
    assert f'<link rel="manifest" href="{reverse("manifest")}">' in html
    assert 'id="offline-notice"' in html and 'name="csrf-token"' in html


def test_the_offline_page(client):
    assert "You are offline" in client.get(reverse("offline")).content.decode()


def test_generate_vapid_keys_writes_outside_git(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("generate_vapid_keys", stdout=out)
    keys = json.loads((tmp_path / "vapid.json").read_text())
    assert (tmp_path / "vapid.json").stat().st_mode & 0o777 == 0o600
    assert keys["VAPID_PUBLIC_KEY"] in out.getvalue() and keys["VAPID_PRIVATE_KEY"] not in out.getvalue()
    call_command("generate_vapid_keys", "--if-missing", stdout=out)
    assert json.loads((tmp_path / "vapid.json").read_text()) == keys
    with pytest.raises(CommandError, match="--force"):
        call_command("generate_vapid_keys")
