"""The site's pages: a description for search results and link previews, and HTML compressed
for the browsers that accept it."""

from __future__ import annotations

import gzip

from django.urls import reverse


def test_public_pages_have_a_meta_description(client, db):
    html = client.get(reverse("login")).content.decode()
    assert '<meta name="description" content="Inbox: notifications for Django sites,' in html


def test_html_is_compressed_for_browsers_that_accept_it(alice_client):
    response = alice_client.get(reverse("inbox:index"), headers={"Accept-Encoding": "gzip, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<h1" in gzip.decompress(response.content)
    plain = alice_client.get(reverse("inbox:index"))
    assert "Content-Encoding" not in plain and b"<h1" in plain.content


def test_static_files_are_not_compressed_again(client, db):
    """whitenoise serves them before the gzip middleware sees them: an icon gzipped on every
    request would cost CPU for nothing (a PNG is compressed already)."""
    response = client.get("/static/inbox/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
