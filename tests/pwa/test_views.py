from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.urls import reverse

from inbox.push.keys import b64url_decode
from inbox.pwa import privacy
from inbox.pwa import views as pwa_views


def test_the_sites_worker_at_the_root_imports_the_apps_handlers(client):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"
    assert f"importScripts({json.dumps(reverse('inbox:sw'))});" in response.content.decode()


def test_the_apps_handlers_are_served_uncached_with_every_placeholder_filled(client):
    response = client.get(reverse("inbox:sw"))
    source = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"  # it may control the whole site
    assert not re.search(r'"__[A-Z_]+__"', source)  # every placeholder was filled in
    assert '"/static/inbox/inbox.css"' in source and json.dumps(reverse("inbox:offline")) in source
    for listener in ("install", "activate", "fetch", "push", "notificationclick", "pushsubscriptionchange"):
        assert f'addEventListener("{listener}"' in source


def test_the_manifest_makes_the_site_installable(client):
    response = client.get(reverse("inbox:manifest"))
    manifest = json.loads(response.content)
    assert response["Content-Type"] == "application/manifest+json"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == manifest["id"] == reverse("inbox:index")
    assert {manifest["name"], manifest["short_name"]} == {"Inbox notifications", "Inbox"}
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]


def test_every_page_links_the_manifest(alice_client):
    html = alice_client.get(reverse("inbox:index")).content.decode()
    assert f'<link rel="manifest" href="{reverse("inbox:manifest")}">' in html
    assert 'id="offline-notice"' in html and 'name="csrf-token"' in html


def test_the_offline_page(client):
    html = client.get(reverse("inbox:offline")).content.decode()
    assert "You are offline" in html and f'href="{reverse("inbox:index")}"' in html


def test_the_offline_dropdown_links_to_the_saved_inbox(client):
    html = client.get(reverse("inbox:offline"), {"part": "dropdown"}).content.decode()
    assert 'id="bell-heading"' in html and f'href="{reverse("inbox:index")}"' in html
    assert "<html" not in html  # a fragment for the bell's panel, not a page
    assert client.get(reverse("inbox:offline"), {"part": "x"}).status_code == 400


def test_the_worker_gets_every_url_and_header_from_the_server(client):
    """No path or header name is written in the worker: the server fills them in."""
    for raw in (settings.BASE_DIR / "service-worker.js", Path(finders.find("inbox/sw.js"))):
        code = "\n".join(line for line in raw.read_text().splitlines() if not line.lstrip().startswith("//"))
        assert not re.search(r'["`]/[a-z]', code), f"a hard-coded path in {raw.name}"
        assert not re.search(r'["`]X-', code, re.IGNORECASE), f"a hard-coded header in {raw.name}"
    source = client.get(reverse("inbox:sw")).content.decode()
    for name, value in {
        "LOGOUT_URLS": [reverse("logout"), reverse("admin:logout")],
        "OWNER_HEADER": privacy.OWNER_HEADER,
        "SAVED_HEADER": pwa_views.SAVED_HEADER,
    }.items():
        assert f"const {name} = {json.dumps(value)};" in source
    assert (
        json.dumps(f"{reverse('inbox:offline')}?part=dropdown")
        in source.split("const SHELL = ")[1].split(";")[0]
    )


def test_the_page_tells_pwa_js_the_saved_header(client, alice_client):
    """pwa.js reads the header that marks a fragment answered from the worker's cache from the
    page, so the worker and the page cannot disagree on its name."""
    script = Path(finders.find("inbox/pwa.js")).read_text()
    assert not re.search(r'["`]X-', script, re.IGNORECASE), "a hard-coded header in pwa.js"
    attribute = f'<meta name="inbox-saved-header" content="{pwa_views.SAVED_HEADER}">'
    assert attribute in alice_client.get(reverse("inbox:index")).content.decode()
    assert attribute in client.get(reverse("login")).content.decode()


def test_the_workers_default_filter_is_the_dashboards(alice_client, make_notifications, alice):
    """The worker saves /inbox/ as the first page of its DEFAULT_FILTER: the same page."""
    source = alice_client.get(reverse("inbox:sw")).content.decode()
    default = json.loads(re.search(r"const DEFAULT_FILTER = (.+);", source).group(1))
    make_notifications(alice, 2, read=True)
    plain = alice_client.get(reverse("inbox:index")).context
    assert plain["filter"] == default and len(plain["items"]) == 2


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


def test_generate_vapid_keys_prints_them_for_a_project_without_var_dir(settings, monkeypatch):
    """A host project has no VAR_DIR: the pair is printed as lines for its environment."""
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    del settings.VAR_DIR
    out = StringIO()
    call_command("generate_vapid_keys", stdout=out)
    keys = dict(line.split("=", 1) for line in out.getvalue().split())
    assert set(keys) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    assert b64url_decode(keys["VAPID_PUBLIC_KEY"])[0] == 4  # an uncompressed P-256 point
