"""A stand-in for a browser vendor's push service (FCM, Mozilla autopush) on loopback, and the
browser's side of subscribing to it.

Headless Chromium here has no network, so its own push service is out of reach; this takes its
place and nothing else. As a push service does, it makes each subscription's P-256 key pair and
16-byte auth secret, bound to the application server key the page subscribed with. When the bridge
POSTs a push it checks what a push service checks (RFC 8030 `TTL`, RFC 8292 VAPID: `Authorization:
vapid t=<JWT>, k=<key>` with the subscription's key, an ES256 signature that verifies with it, `aud`
= the endpoint's origin, `exp` in the future and at most 24 h away, a `sub` contact) and decrypts
the RFC 8291 `aes128gcm` body with the subscription's private key: 201 and the push is recorded in
`received`; anything wrong is a 4xx, recorded in `refused` (a test asserts there is none). An
endpoint that was unsubscribed answers 410, as a real one does.

`install(context)` puts the browser's half into a Playwright context: `PushManager.prototype.subscribe`
/ `getSubscription` answer PushSubscription-like objects for this service's subscriptions (kept per
service-worker scope, as the browser keeps them per registration). The service worker, its
registration and the push event are Chromium's own; a test hands a received payload to the worker
with the DevTools protocol's `ServiceWorker.deliverPushMessage`, which is what the browser does with
a message from its push service."""

import base64
import json
import secrets
import threading
import time

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from standin_server import StandInHandler, StandInServer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class Refused(Exception):
    """A push the service refuses: the status and why."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


class Subscription:
    """One subscription as the push service holds it: its endpoint, the application server key it
    is bound to, and the browser's key pair and auth secret."""

    def __init__(self, endpoint, application_server_key):
        self.endpoint = endpoint
        self.application_server_key = application_server_key
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.auth = secrets.token_bytes(16)

    def to_json(self):
        """What `PushSubscription.toJSON()` gives the page."""
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(self.public_key), "auth": b64url(self.auth)},
                "applicationServerKey": self.application_server_key}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 and RFC 8188: one aes128gcm record, as the browser decrypts it."""
        if len(body) < 21 + 65 + 16:
            raise Refused(400, "the body is too short for an aes128gcm header and a record")
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        if id_length != 65:
            raise Refused(400, f"keyid must be the sender's 65-byte P-256 key, not {id_length} bytes")
        server_key, ciphertext = body[21:86], body[86:]
        if len(ciphertext) > record_size:
            raise Refused(400, "more than one record")
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_key)
        shared = self.private_key.exchange(ec.ECDH(), sender)
        ikm = hkdf(shared, self.auth, b"WebPush: info\x00" + self.public_key + server_key, 32)
        key = hkdf(ikm, salt, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = hkdf(ikm, salt, b"Content-Encoding: nonce\x00", 12)
        try:
            padded = AESGCM(key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        except InvalidTag:
            raise Refused(400, "the record does not decrypt with the subscription's keys") from None
        if not padded.endswith(b"\x02"):
            raise Refused(400, "the record lacks the last-record delimiter 0x02")
        return padded[:-1]


def check_vapid(authorization, subscription, origin, now):
    """RFC 8292 §2–3: the JWT is signed with the key the subscription was made for, for this origin."""
    scheme, _, params = (authorization or "").partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(401, f"Authorization must be `vapid t=…, k=…`, not {scheme or 'missing'}")
    fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
    token, key = fields.get("t"), fields.get("k")
    if not token or not key:
        raise Refused(401, "Authorization lacks t= or k=")
    if key != subscription.application_server_key:
        raise Refused(403, "k is not the application server key the subscription was made with")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header, claims = json.loads(unb64url(header_b64)), json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
    except ValueError:
        raise Refused(401, "t is not a JWT") from None
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise Refused(401, f"the JWT must be ES256 with a 64-byte signature (alg {header.get('alg')})")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused(403, "the JWT's signature does not verify with k") from None
    if claims.get("aud") != origin:
        raise Refused(403, f"aud is {claims.get('aud')!r}, not the push service's origin {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        raise Refused(403, f"exp must be in the future and at most 24 h away (exp {exp}, now {now})")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Refused(403, "sub must be a mailto: or https: contact")
    return claims


class PushStandIn(StandInServer):
    def __init__(self):
        self.received = []  # {"endpoint", "headers", "claims", "data" (the decrypted text), "payload" (its JSON)}
        self.refused = []  # (endpoint, status, reason)
        self.gone = []  # endpoints pushed to after they were unsubscribed (answered 410)
        self._subscriptions = {}  # endpoint → Subscription
        self._by_scope = {}  # service-worker scope → endpoint (the browser's side)
        self._lock = threading.Lock()
        stand_in = self

        class Handler(StandInHandler):
            def _answer(self, status, text=""):
                location = {"Location": f"{stand_in.base_url}/message/{secrets.token_hex(8)}"} if status == 201 else None
                self.answer(status, text.encode(), "text/plain", location)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint = stand_in.base_url + self.path
                try:
                    status, text = 201, ""
                    stand_in._accept(endpoint, self.headers, body)
                except Refused as refusal:
                    status, text = refusal.status, str(refusal)
                    with stand_in._lock:
                        if status == 410:
                            stand_in.gone.append(endpoint)
                        else:
                            stand_in.refused.append((endpoint, status, text))
                self._answer(status, text)

        self.listen(Handler)

    def _accept(self, endpoint, headers, body):
        with self._lock:
            subscription = self._subscriptions.get(endpoint)
        if subscription is None:
            raise Refused(410, "no such subscription (unsubscribed)")
        claims = check_vapid(headers.get("Authorization"), subscription, self.base_url, int(time.time()))
        if headers.get("Content-Encoding") != "aes128gcm":
            raise Refused(415, f"Content-Encoding must be aes128gcm, not {headers.get('Content-Encoding')}")
        if not (headers.get("TTL") or "").isdigit():
            raise Refused(400, "TTL must be a number of seconds")
        data = subscription.decrypt(body).decode()
        with self._lock:
            self.received.append({"endpoint": endpoint, "headers": dict(headers), "claims": claims, "data": data, "payload": json.loads(data)})

    def forget_all(self):
        """Every subscription is gone (as when the browser goes away): pushes to them answer 410."""
        with self._lock:
            self._subscriptions.clear()
            self._by_scope.clear()

    def pushes_to(self, endpoint):
        with self._lock:
            return [push for push in self.received if push["endpoint"] == endpoint]

    def subscription_of(self, scope):
        """The browser's subscription for a service worker's scope, or None."""
        with self._lock:
            endpoint = self._by_scope.get(scope)
            return self._subscriptions.get(endpoint) if endpoint else None

    # The browser's half, called from the page through the `__pushService` binding.
    def _browser(self, source, request):
        scope = request["scope"]
        with self._lock:
            endpoint = self._by_scope.get(scope)
            current = self._subscriptions.get(endpoint) if endpoint else None
            if request["op"] == "get":
                return current.to_json() if current else None
            if request["op"] == "unsubscribe":
                self._by_scope.pop(scope, None)
                return self._subscriptions.pop(endpoint, None) is not None
            key = request["applicationServerKey"]
            if current:
                if current.application_server_key != key:
                    return {"error": "InvalidStateError", "message": "a subscription with a different applicationServerKey exists"}
                return current.to_json()
            subscription = Subscription(f"{self.base_url}/push/{secrets.token_urlsafe(12)}", key)
            self._subscriptions[subscription.endpoint] = subscription
            self._by_scope[scope] = subscription.endpoint
            return subscription.to_json()

    def install(self, context):
        """Routes the context's PushManager to this service (before its pages load)."""
        context.expose_binding("__pushService", self._browser)
        context.add_init_script(PAGE_SCRIPT)


# Replaces only the hop to the vendor's push service. As Chromium does, subscribe() needs
# userVisibleOnly, a P-256 applicationServerKey and the notifications permission.
PAGE_SCRIPT = r"""
(() => {
  if (!('PushManager' in self) || !('ServiceWorkerRegistration' in self)) return;
  const scopes = new WeakMap();
  const pushManager = Object.getOwnPropertyDescriptor(ServiceWorkerRegistration.prototype, 'pushManager');
  Object.defineProperty(ServiceWorkerRegistration.prototype, 'pushManager', {
    configurable: true, enumerable: true,
    get() { const manager = pushManager.get.call(this); scopes.set(manager, this.scope); return manager; },
  });
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const text = (data) => btoa(String.fromCharCode(...data)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const service = (request) => self.__pushService(request);
  const subscription = (scope, s) => s && {
    endpoint: s.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: bytes(s.applicationServerKey).buffer },
    getKey: (name) => (s.keys[name] ? bytes(s.keys[name]).buffer : null),
    toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: { ...s.keys } }),
    unsubscribe: () => service({ op: 'unsubscribe', scope }),
  };
  PushManager.prototype.getSubscription = async function () {
    const scope = scopes.get(this);
    return subscription(scope, await service({ op: 'get', scope }));
  };
  PushManager.prototype.subscribe = async function (options = {}) {
    const scope = scopes.get(this);
    if (options.userVisibleOnly !== true) throw new DOMException('push subscriptions must be userVisibleOnly', 'NotAllowedError');
    if (Notification.permission !== 'granted') throw new DOMException('Registration failed - permission denied', 'NotAllowedError');
    let key = options.applicationServerKey;
    if (typeof key === 'string') key = bytes(key);
    else if (key instanceof ArrayBuffer) key = new Uint8Array(key);
    else if (ArrayBuffer.isView(key)) key = new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
    if (!(key instanceof Uint8Array) || key.length !== 65 || key[0] !== 4) {
      throw new DOMException('applicationServerKey is not a valid P-256 public key', 'InvalidAccessError');
    }
    const answer = await service({ op: 'subscribe', scope, applicationServerKey: text(key) });
    if (answer.error) throw new DOMException(answer.message, answer.error);
    return subscription(scope, answer);
  };
})();
"""
