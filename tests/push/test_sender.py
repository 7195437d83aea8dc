"""Where pushes may go (issue 6, items 11 and 17): the address check, a connection pinned to
the address that was checked (no DNS rebinding), TLS still verified against the real host name,
and DNS or network failures retried instead of deleting the subscription."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohappyeyeballs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.contrib import admin
from django.urls import reverse
from webpush.models import PushInformation, SubscriptionInfo

from inbox.api import notify
from inbox.push import client, endpoints
from inbox.push.endpoints import check_endpoint
from inbox.push.keys import InvalidSubscription
from inbox.push.sender import PushJob, send_pushes
from inbox.push.tasks import deliver_push

from .receiver import PushReceiver

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::808:808",  # NAT64, even of a public address: it is a way back into IPv4
        "64:ff9b:1::a00:1",  # local-use NAT64
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::808:808",  # IPv4-compatible, deprecated whatever it embeds
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",  # documentation
    ],
)
def test_non_public_addresses_are_refused(monkeypatch, address):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [address])
    with pytest.raises(InvalidSubscription, match="non-public address"):
        check_endpoint("https://push.example.net/x")
    assert not endpoints.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", [PUBLIC, "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_accepted(monkeypatch, address):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [address])
    check_endpoint("https://push.example.net/x")
    assert endpoints.is_public_address(ipaddress.ip_address(address))


# A local HTTPS push service with a certificate for push.example.net, signed by a test CA.


def certificate(subject_key, issuer_key, subject, issuer, *, ca: bool, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class TLSPushService:
    """Answers 201 to every POST over TLS and records what it saw: the Host header, the TLS
    server name (SNI) and the path."""

    def __init__(self, directory):
        ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca = certificate(ca_key, ca_key, "Test CA", "Test CA", ca=True)
        leaf = certificate(key, ca_key, "push.example.net", "Test CA", ca=False, names=["push.example.net"])
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(pem(ca))
        chain = directory / "chain.pem"
        chain.write_bytes(
            pem(leaf)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        self.server_names, self.requests = [], []
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as push services allow

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.requests.append((self.headers["Host"], self.path))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls_service(tmp_path, monkeypatch, settings):
    service = TLSPushService(tmp_path)
    settings.INBOX_PUSH_PORTS = (443, service.port)  # it listens on a port of its own
    trusting = ssl.create_default_context(cafile=service.ca_file)  # the test CA only
    monkeypatch.setattr(client, "tls_context", lambda: trusting)
    yield service
    client.close_connections()  # none kept for the next test
    service.close()


@pytest.fixture
def connections(monkeypatch, tls_service):
    """Every address a connection is opened to (aiohttp opens its connections through
    aiohappyeyeballs.start_connection, with the addresses the resolver gave). A connection to
    PUBLIC reaches the local TLS service; anything else is refused."""
    opened = []
    real = aiohappyeyeballs.start_connection

    async def start_connection(addr_infos, **kwargs):
        family, kind, proto, name, (host, *_rest) = addr_infos[0]
        opened.append(host)
        if host == PUBLIC:
            local = (socket.AF_INET, kind, proto, name, ("127.0.0.1", tls_service.port))
            return await real([local], **kwargs)
        raise ConnectionRefusedError(f"test: no connection to {host}")

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", start_connection)
    return opened


def job(endpoint: str, subscription_id=1) -> PushJob:
    with PushReceiver() as receiver:  # only for a browser's keys
        keys = receiver.subscription("x")["keys"]
    return PushJob(subscription_id, endpoint, keys["p256dh"], keys["auth"], {"body": "Hello"})


def rebinding_resolver(monkeypatch, *answers):
    """A resolver that gives each answer once, then the last one again and again."""
    calls = []

    def resolve(host, port):
        calls.append(host)
        return [answers[min(len(calls), len(answers)) - 1]]

    monkeypatch.setattr(endpoints, "resolve", resolve)
    return calls


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, tls_service, connections):
    """A resolver that answers a public address, then 127.0.0.1 (DNS rebinding): the push goes
    to the public address, with the real host name in the Host header, the TLS server name and
    the certificate check."""
    rebinding_resolver(monkeypatch, PUBLIC, "127.0.0.1")
    endpoint = f"https://push.example.net:{tls_service.port}/push/a"
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert outcome.kind == "sent", outcome
    assert connections == [PUBLIC]
    assert tls_service.requests == [(f"push.example.net:{tls_service.port}", "/push/a")]
    assert tls_service.server_names == ["push.example.net"]
    # The next send goes over the same connection, to the address that was checked: no lookup.
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert (outcome.kind, connections, len(tls_service.requests)) == ("sent", [PUBLIC], 2)
    # A new connection resolves again, and refuses what it finds.
    client.close_connections()
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert (outcome.kind, connections) == ("failed", [PUBLIC])
    assert "non-public address (127.0.0.1)" in outcome.detail


def test_a_port_push_services_do_not_use_is_not_contacted(monkeypatch, settings, tls_service, connections):
    """Checked again when sending: an endpoint stored before INBOX_PUSH_PORTS changed is not used."""
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [PUBLIC])
    settings.INBOX_PUSH_PORTS = (443,)
    endpoint = f"https://push.example.net:{tls_service.port}/push/a"
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert outcome.kind == "failed" and f"port {tls_service.port}" in outcome.detail
    assert connections == [] and tls_service.requests == []


def test_the_certificate_is_still_checked_against_the_host_name(monkeypatch, tls_service, connections):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [PUBLIC])
    endpoint = (
        f"https://other.example.net:{tls_service.port}/push/a"  # the certificate is for push.example.net
    )
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert outcome.kind == "retry" and "certificate verify failed" in outcome.detail
    assert connections == [PUBLIC] and tls_service.requests == []


@pytest.mark.parametrize(
    "error",
    [
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        OSError("network is unreachable"),
    ],
)
def test_a_host_that_does_not_resolve_is_retried(monkeypatch, connections, error):
    def resolve(host, port):
        raise error

    monkeypatch.setattr(endpoints, "resolve", resolve)
    (outcome,) = send_pushes([job("https://push.example.net/push/a")], ttl=60, urgency="normal")
    assert outcome.kind == "retry"
    assert connections == []


def test_a_network_error_is_retried(monkeypatch, connections):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: ["8.8.8.8"])  # refused by `connections`
    (outcome,) = send_pushes([job("https://push.example.net/push/a")], ttl=60, urgency="normal")
    assert outcome.kind == "retry"
    assert connections == ["8.8.8.8"]


@pytest.mark.parametrize("address", ["10.0.0.8", "64:ff9b::a00:8", "::ffff:127.0.0.1"])
def test_an_endpoint_that_now_resolves_inside_the_network_fails_and_is_kept(
    monkeypatch, caplog, connections, address
):
    monkeypatch.setattr(endpoints, "resolve", lambda host, port: [address])
    with caplog.at_level(logging.WARNING, logger="inbox.push.sender"):
        (outcome,) = send_pushes([job("https://push.example.net/push/a", 7)], ttl=60, urgency="normal")
    assert outcome.kind == "failed"
    assert connections == []
    assert (
        f"Not pushing to subscription 7: The endpoint's host resolves to a non-public address ({address})"
        in (caplog.text)
    )


def temporary_dns_failure(host, port):
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


@pytest.mark.parametrize(
    "resolve", [temporary_dns_failure, lambda host, port: ["10.0.0.8"]], ids=["dns", "private"]
)
def test_delivery_keeps_the_subscription_when_dns_fails_or_changes(monkeypatch, alice, connections, resolve):
    keys = job("https://push.example.net/push/a")
    info = SubscriptionInfo.objects.create(
        browser="test", endpoint=keys.endpoint, p256dh=keys.p256dh, auth=keys.auth
    )
    PushInformation.objects.create(user=alice, subscription=info)
    monkeypatch.setattr(endpoints, "resolve", resolve)
    result = deliver_push.call(notify(alice, "Hello").message.pk)
    assert "gone" not in result
    assert SubscriptionInfo.objects.filter(pk=info.pk).exists()


def test_the_admin_cannot_send_to_subscriptions(admin_client):
    """django-webpush's "send test message" action posted to any stored endpoint unchecked."""
    model_admin = admin.site.get_model_admin(PushInformation)
    assert type(model_admin).__module__ == "inbox.push.subscription_admin"
    request = admin_client.get(reverse("admin:webpush_pushinformation_changelist")).wsgi_request
    assert "send_test_message" not in model_admin.get_actions(request)
    page = admin_client.get(reverse("admin:webpush_pushinformation_changelist"))
    assert page.status_code == 200
    assert "send_test_message" not in page.content.decode()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.8/push/a",
        "https://127.0.0.1/push/a",
        "https://169.254.169.254/push/a",
        "https://0x7f.1/push/a",  # a legacy form of 127.0.0.1, which aiohttp hands to the resolver
    ],
)
def test_an_address_written_in_the_endpoint_is_checked_too(connections, endpoint):
    """aiohttp connects to an address literal without its resolver: checked before the request.
    (An IPv6 literal never gets this far: VAPID has no audience for it.)"""
    (outcome,) = send_pushes([job(endpoint)], ttl=60, urgency="normal")
    assert outcome.kind == "failed" and "non-public address" in outcome.detail, outcome
    assert connections == []
