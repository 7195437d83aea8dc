from __future__ import annotations

import pytest

from inbox.push import endpoints
from inbox.push.endpoints import check_endpoint
from inbox.push.keys import InvalidSubscription
from inbox.push.subscriptions import clean_subscription

from .receiver import PushReceiver

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """No DNS here: names resolve as a test says (public unless listed)."""
    table = {
        "push.example.net": {"93.184.216.34"},
        "internal.example.net": {"10.1.2.3"},
        "mixed.example.net": {"93.184.216.34", "192.168.1.5"},
        "meta.example.net": {"169.254.169.254"},
    }

    def resolve(host, port):
        if host not in table:
            raise OSError("no such host")
        return table[host]

    monkeypatch.setattr(endpoints, "resolve", resolve)


def subscription(endpoint="https://push.example.net/send/abc", p256dh=P256DH, auth=AUTH):
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def test_a_valid_subscription():
    assert clean_subscription(subscription()) == {
        "endpoint": "https://push.example.net/send/abc",
        "p256dh": P256DH,
        "auth": AUTH,
    }


def test_real_browser_keys_are_accepted():
    with PushReceiver() as receiver:
        data = receiver.subscription("x")
    data["endpoint"] = "https://push.example.net/x"
    assert clean_subscription(data)["auth"] == data["keys"]["auth"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("nope", "JSON object"),
        ({}, "no endpoint"),
        ({"endpoint": "https://push.example.net/"}, "no keys"),
        (subscription(p256dh=""), "no p256dh"),
        (subscription(p256dh="!!!"), "p256dh"),
        (subscription(p256dh=AUTH), "65 bytes"),
        (subscription(auth=P256DH), "16 bytes"),
        (subscription(p256dh="A" + P256DH[1:]), "uncompressed"),
        (subscription(endpoint="http://push.example.net/x"), "https"),
        (subscription(endpoint="ftp://push.example.net/x"), "https"),
        (subscription(endpoint="https://user:pw@push.example.net/x"), "user name"),
        (subscription(endpoint="https://nowhere.invalid/x"), "does not resolve"),
        (subscription(endpoint="https://internal.example.net/x"), r"non-public address \(10\.1\.2\.3\)"),
        (subscription(endpoint="https://mixed.example.net/x"), "192.168.1.5"),
        (subscription(endpoint="https://meta.example.net/x"), "169.254.169.254"),
        (subscription(endpoint="https://push.example.net/" + "x" * 500), "longer than 500"),
    ],
)
def test_bad_subscriptions_say_why(data, message):
    with pytest.raises(InvalidSubscription, match=message):
        clean_subscription(data)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://10.0.0.1/x",
        "https://172.16.0.1/",
        "https://192.168.0.1/",
        "https://169.254.169.254/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(monkeypatch, url):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: {host.strip("[]")})
    with pytest.raises(InvalidSubscription):
        check_endpoint(url)


def test_loopback_only_when_the_setting_allows_it(settings, monkeypatch):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: {"127.0.0.1"})
    with pytest.raises(InvalidSubscription):
        check_endpoint("http://127.0.0.1:8123/push")
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    check_endpoint("http://127.0.0.1:8123/push")
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: {"10.0.0.1"})
    with pytest.raises(InvalidSubscription):
        check_endpoint("http://10.0.0.1/push")  # the setting opens loopback, nothing else


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:0:127.0.0.1",  # IPv4-translated (SIIT, ::ffff:0:0/96): loopback inside
        "::ffff:0:169.254.169.254",  # ... the cloud metadata address
        "::ffff:0:10.0.0.1",
        "64:ff9b::127.0.0.1",  # NAT64 well-known prefix around a private address
        "64:ff9b::169.254.169.254",
        "64:ff9b:1::a00:1",  # the local-use NAT64 prefix (RFC 8215)
        "fec0::1",  # site-local (deprecated, but routed inside some networks)
        "feff::1",
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "fc00::1",  # unique local
    ],
)
def test_ipv6_forms_that_lead_inside_are_refused(monkeypatch, address):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: {address})
    with pytest.raises(InvalidSubscription, match="non-public address"):
        check_endpoint("https://push.example.net/x")


def test_an_ipv4_translated_address_is_refused_whatever_it_embeds(monkeypatch):
    """Like NAT64 and IPv4-compatible addresses: no push service is reached that way, and a
    translator on the path would lead into IPv4 space."""
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: {"::ffff:0:93.184.216.34"})
    with pytest.raises(InvalidSubscription, match="non-public address"):
        check_endpoint("https://push.example.net/x")


@pytest.mark.parametrize("url", ["https://push.example.net:22/x", "https://push.example.net:8443/x"])
def test_ports_other_than_the_push_services_are_refused(url):
    with pytest.raises(InvalidSubscription, match="port"):
        check_endpoint(url)


def test_the_allowed_ports_are_a_setting(settings):
    check_endpoint("https://push.example.net:443/x")
    settings.INBOX_PUSH_PORTS = (443, 8443)
    check_endpoint("https://push.example.net:8443/x")
    with pytest.raises(InvalidSubscription, match="port 22"):
        check_endpoint("https://push.example.net:22/x")
