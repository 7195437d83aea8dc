"""A local push service for tests: it checks each request as a real one would (the VAPID JWT:
ES256 signature, aud, exp, sub; the Web Push headers) and decrypts the aes128gcm body with the
subscription's private key and auth secret, then answers with the status a test asked for.
Like a real push service it refuses a body over 4,096 bytes with 413 and keeps connections
alive (HTTP/1.1); each accepted push records the connection it came on (`peer`) and its raw
Authorization header. `delay` (seconds) makes it answer slowly; `hold(name, event)` makes a
subscription's push wait for an event (10 s at most, then 503)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .keys import b64url_decode, subscription_json

__all__ = ["MAX_BODY_BYTES", "PushReceiver"]

MAX_BODY_BYTES = 4096  # what push services accept (RFC 8030 lets them refuse more with 413)


class VapidError(Exception):
    pass


def verify_vapid(authorization: str, audience: str) -> tuple[dict, str]:
    """The JWT's claims and the signer's public key, or VapidError."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise VapidError(f"Authorization scheme is {scheme!r}, not vapid")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    if header.get("alg") != "ES256":
        raise VapidError(f"JWT alg is {header.get('alg')}")
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    signature = b64url_decode(signature_b64)
    if len(signature) != 64:
        raise VapidError("ES256 signature is not 64 bytes")
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("bad JWT signature") from None
    claims = json.loads(b64url_decode(claims_b64))
    if claims.get("aud") != audience:
        raise VapidError(f"aud is {claims.get('aud')!r}, expected {audience!r}")
    if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
        raise VapidError("exp is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError("sub is not a mailto: or https: URL")
    return claims, key


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the sender opens many connections at once
    daemon_threads = True


class PushReceiver:
    def __init__(self, delay: float = 0):
        self.delay = delay
        self.keys = {}  # path -> (private key, auth secret)
        self.replies = defaultdict(deque)  # path -> statuses (and headers) to answer, in order
        self.received = []  # every accepted push, decrypted
        self.rejected = []  # requests that a real push service would refuse
        self.gates = {}  # path -> threading.Event a push waits for before it is answered
        self.connections = []  # every socket accepted, closed on exit (pooled clients see it)
        self.lock = threading.Lock()
        self.server = Server(("127.0.0.1", 0), self.handler())
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        for connection in self.connections:  # kept alive by the client: end them with the service
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def hold(self, name: str, event: threading.Event):
        self.gates[f"/push/{name}"] = event

    def subscription(self, name: str) -> dict:
        """A browser's PushSubscription JSON, with keys made here, for endpoint /push/<name>."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        path = f"/push/{name}"
        self.keys[path] = (private_key, auth)
        return subscription_json(self.origin + path, private_key, auth)

    def reply(self, name: str, status: int, **headers):
        self.replies[f"/push/{name}"].append((status, headers))

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as push services allow

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.append(self.connection)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if (gate := receiver.gates.get(self.path)) is not None and not gate.wait(10):
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if len(body) > MAX_BODY_BYTES:
                    with receiver.lock:
                        receiver.rejected.append(f"{self.path}: 413, the body is {len(body)} bytes")
                    self.send_response(413)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    push = receiver.accept(self.path, self.headers, body)
                except (VapidError, KeyError, ValueError) as error:
                    with receiver.lock:
                        receiver.rejected.append(f"{self.path}: {error}")
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                push["peer"] = self.client_address  # (host, port): one per connection
                with receiver.lock:
                    status, headers = (receiver.replies[self.path] or deque([(201, {})])).popleft()
                    if status < 300:
                        receiver.received.append(push)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), str(value))
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def accept(self, path, headers, body) -> dict:
        private_key, auth = self.keys[path]
        claims, signer = verify_vapid(headers["Authorization"], self.origin)
        if headers.get("Content-Encoding") != "aes128gcm":
            raise ValueError(f"Content-Encoding is {headers.get('Content-Encoding')}")
        plaintext = http_ece.decrypt(body, private_key=private_key, auth_secret=auth, version="aes128gcm")
        return {
            "path": path,
            "size": len(body),  # encrypted
            "payload": json.loads(plaintext),
            "claims": claims,
            "signer": signer,
            "authorization": headers["Authorization"],
            "ttl": int(headers["TTL"]),
            "urgency": headers.get("Urgency"),
            "topic": headers.get("Topic"),
        }
