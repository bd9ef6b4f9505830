"""Fixtures for the browser tests: a live `bridge serve` (the debug build) with a LINE and two WhatsApp
channels that talk to Python stand-ins of their APIs (the second WhatsApp number lists templates), agents made through the API with the admin token, and
Debian's chromium driven by Playwright. Every page fails its test on any console error, uncaught
exception or CSP violation (network answers a test expects, like the 401 of a wrong password, are
listed per test), and `shot()` saves screenshots under .build/screenshots/."""

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from line_standin import LineStandIn
from whatsapp_standin import WhatsAppStandIn

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / ".build" / "debug" / "bridge"
SCREENSHOTS = ROOT / ".build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The key the bridge seals channel accounts' secrets with (BRIDGE_SECRETS_KEY), so the console may add accounts.
SECRETS_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


def wait_until(condition, timeout=10.0, what="condition"):
    """Waits for a condition (never a fixed sleep as the assertion); fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Bridge:
    """A running bridge and the ways a test drives it from outside the browser."""

    def __init__(self, base_url, admin_token, line_secret, line, log_path, whatsapp_secret=None):
        self.base_url = base_url
        self.admin_token = admin_token
        self.line_secret = line_secret
        self.whatsapp_secret = whatsapp_secret
        self.line = line
        self.log_path = log_path
        self._events = itertools.count(1)

    def api(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {token or self.admin_token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path} answered {error.code}: {error.read().decode()}") from None

    def add_agent(self, name, role="agent", departments=()):
        email = f"{re.sub(r'[^a-z]', '', name.lower()) or 'agent'}-{secrets.token_hex(3)}@example.com"
        password = f"pw-{secrets.token_hex(8)}"
        agent = self.api("POST", "/api/v1/agents", {"email": email, "name": name, "role": role,
                                                    "password": password, "departments": list(departments)})
        return {"id": agent["id"], "name": name, "email": email, "password": password}

    def line_message(self, user_id, text, display_name=None):
        """Posts a LINE webhook with one text message, signed as LINE signs: base64 HMAC-SHA256 of
        the body with the channel secret, in x-line-signature."""
        self.line_messages(user_id, [text], display_name)

    def line_messages(self, user_id, texts, display_name=None):
        """One LINE webhook carrying a text message event per text, in order (a long conversation)."""
        if display_name:
            self.line.display_names[user_id] = display_name
        events = []
        now = int(time.time() * 1000) - len(texts)
        for i, text in enumerate(texts):
            n = next(self._events)
            events.append({"type": "message", "timestamp": now + i, "webhookEventId": f"01BROWSER{n:08d}{secrets.token_hex(4)}",
                           "deliveryContext": {"isRedelivery": False}, "replyToken": f"reply-{n}", "mode": "active",
                           "source": {"type": "user", "userId": user_id},
                           "message": {"id": f"m{n}{secrets.token_hex(4)}", "type": "text", "quoteToken": "q", "text": text}})
        body = json.dumps({"destination": "Ubot", "events": events}).encode()
        signature = base64.b64encode(hmac.new(self.line_secret.encode(), body, hashlib.sha256).digest()).decode()
        request = urllib.request.Request(self.base_url + "/webhooks/line/main", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("x-line-signature", signature)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status

    def whatsapp_message(self, wa_id, text, name, hours_ago=0, account="main"):
        """Posts a WhatsApp Cloud API webhook with one customer text message. `hours_ago` dates the
        message back (the reply window counts from it); `account` "templates" is the number whose
        API is the WhatsApp stand-in (`self.whatsapp`), with a business account id."""
        n = next(self._events)
        message = {"from": wa_id, "id": f"wamid.BROWSER{n:08d}{secrets.token_hex(6)}", "timestamp": str(int(time.time() - hours_ago * 3600)),
                   "type": "text", "text": {"body": text}}
        self._post_whatsapp({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}, account)

    def whatsapp_status(self, wamid, status, wa_id):
        """Posts WhatsApp's receipt for one of our messages (`delivered`, `read`), signed as Meta signs."""
        self._post_whatsapp({"statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}]})

    def _post_whatsapp(self, change, account="main"):
        """A Cloud API webhook with one change for our number, signed:
        X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the app secret>."""
        phone_id = {"main": WHATSAPP_PHONE_ID, "templates": TEMPLATES_PHONE_ID}[account]
        value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_id}, **change}
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}).encode()
        signature = "sha256=" + hmac.new(self.whatsapp_secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.base_url + f"/webhooks/whatsapp/{account}", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Hub-Signature-256", signature)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status

    def add_department(self, name):
        return self.api("POST", "/api/v1/departments", {"name": name})["id"]

    def restrict(self, agent, **flags):
        """Sets departmentsOnly / answerAssignedOnly on an agent."""
        self.api("PATCH", f"/api/v1/agents/{agent['id']}", flags)

    def ticket_of(self, display_name):
        tickets = self.api("GET", "/api/v1/tickets?limit=200&contact=" + urllib.parse.quote(display_name))["items"]
        return next(t for t in tickets if t["contact"].get("displayName") == display_name)


CONFIG = """
server:
  host: 127.0.0.1
  port: {port}
database:
  url: sqlite:{work}/data/bridge.sqlite
auth:
  adminToken: {admin_token}
  bcryptCost: 4
egress:
  allow: [127.0.0.1]
notifier:
  vapidPrivateKey: {vapid}
  vapidSubject: mailto:tests@example.com
channels:
  - kind: line
    id: main
    channelSecret: {line_secret}
    accessToken: browser-test-line-token
    apiBaseURL: {line_url}
  - kind: whatsapp
    id: main
    appSecret: {whatsapp_secret}
    verifyToken: browser-test-verify
    accessToken: browser-test-whatsapp-token
    phoneNumberId: "{whatsapp_phone_id}"
    apiBaseURL: {line_url}
  - kind: whatsapp
    id: templates
    appSecret: {whatsapp_secret}
    verifyToken: browser-test-verify
    accessToken: {whatsapp_token}
    phoneNumberId: "{templates_phone_id}"
    businessAccountId: "{waba_id}"
    apiBaseURL: {whatsapp_url}
"""
WHATSAPP_PHONE_ID = "106540352242922"
# The second WhatsApp number: its API is the WhatsApp stand-in, which lists message templates.
TEMPLATES_PHONE_ID = "106540352242999"
WABA_ID = "102290129340398"


class BridgeProcess:
    """`bridge serve` as a child process; `restart()` stops it and starts it again on the same port
    and database (what an agent's page sees as a server restart)."""

    def __init__(self, work, config, binary=BRIDGE, environment=None):
        """`config(port)` is the bridge.yaml to start with; `binary` the `bridge` to run; `environment`
        variables added to the process's."""
        self.work = work
        self.config = config
        self.binary = binary
        self.environment = environment
        self.log_path = work / "bridge.log"
        self.process = None
        self.log = None
        self.address = None

    def start(self, port=0):
        (self.work / "bridge.yaml").write_text(self.config(port))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([str(self.binary), "serve", "--config", str(self.work / "bridge.yaml")],
                                        cwd=self.work, stdout=self.log, stderr=self.log,
                                        env={**os.environ, "BRIDGE_SECRETS_KEY": SECRETS_KEY, **(self.environment or {})})

        def address():
            if self.process.poll() is not None:
                raise AssertionError(f"the bridge stopped: {self.log_path.read_text()[-3000:]}")
            found = re.search(r"http\.address=(\S+)", self.log_path.read_text()[offset:])
            return found and found.group(1)
        self.address = wait_until(address, timeout=30, what="the bridge to listen")
        return self.address

    def stop(self):
        if self.process is None:  # never started
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def restart(self):
        port = int(self.address.rsplit(":", 1)[1])
        self.stop()
        self.start(port)


@contextlib.contextmanager
def running_bridge(prefix="browser-tests-", public_base_url=None, live_heartbeat=None, extra_config="", environment=None):
    """A `bridge serve` with its LINE and WhatsApp stand-ins in a fresh directory, stopped on exit.
    `public_base_url` sets `server.publicBaseURL` (the address platforms fetch uploads from),
    `live_heartbeat` `server.liveHeartbeat` (how often live sockets hear from the server, e.g. "0.5s"),
    `extra_config` is YAML added at the end of bridge.yaml (top-level keys), `environment` variables for
    the process (e.g. BRIDGE_TEST_CLOCK_FILE)."""
    assert BRIDGE.exists(), f"{BRIDGE} is missing: build first (swift build)"
    work = Path(tempfile.mkdtemp(prefix=prefix))
    line = LineStandIn().start()
    whatsapp_token = "browser-test-whatsapp-" + secrets.token_hex(8)
    whatsapp = WhatsAppStandIn(whatsapp_token, WABA_ID).start()
    admin_token = secrets.token_hex(32)
    line_secret = secrets.token_hex(16)
    whatsapp_secret = secrets.token_hex(16)
    # A P-256 private key is 32 random bytes below the group order (all but a 2^-32 share are).
    vapid = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    settings = {"admin_token": admin_token, "line_secret": line_secret, "line_url": line.base_url, "vapid": vapid,
                "whatsapp_secret": whatsapp_secret, "whatsapp_phone_id": WHATSAPP_PHONE_ID,
                "whatsapp_token": whatsapp_token, "templates_phone_id": TEMPLATES_PHONE_ID, "waba_id": WABA_ID, "whatsapp_url": whatsapp.base_url}
    config = CONFIG
    if public_base_url:
        config = config.replace("server:\n", f"server:\n  publicBaseURL: {public_base_url}\n", 1)
    if live_heartbeat:
        config = config.replace("server:\n", f"server:\n  liveHeartbeat: {live_heartbeat}\n", 1)
    process = BridgeProcess(work, lambda port: config.format(port=port, work=work, **settings) + extra_config, environment=environment)
    try:
        base_url = "http://" + process.start()
        bridge = Bridge(base_url, admin_token, line_secret, line, process.log_path, whatsapp_secret)
        bridge.process = process
        bridge.whatsapp = whatsapp
        yield bridge
    finally:
        process.stop()
        line.stop()
        whatsapp.stop()


@pytest.fixture(scope="session")
def bridge():
    with running_bridge() as bridge:
        try:
            yield bridge
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / "bridge.log").write_text(bridge.log_path.read_text())


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


# Reported in the console whenever CSP refuses something, in addition to Chromium's own message.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
"""


class PageProblems:
    """Console errors, uncaught exceptions and CSP violations seen on a page."""

    def __init__(self):
        self.problems = []
        # (status, path) answers the test expects; Chromium logs every 4xx as a console error.
        self.expected = {(401, "/api/v1/me")}
        # Console messages a test expects (regular expressions), e.g. the browser's own report of a
        # WebSocket that could not connect while the network is down or the server restarts.
        self.allowed = []

    def on_console(self, message):
        if message.type not in ("error", "assert"):
            return
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if failed:
            path = urllib.parse.urlsplit(message.location.get("url", "")).path
            if (int(failed.group(1)), path) in self.expected:
                return
        if any(re.search(pattern, message.text) for pattern in self.allowed):
            return
        self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def on_error(self, error):
        self.problems.append(f"uncaught: {error}")


@pytest.fixture
def open_page(browser, request):
    """open_page(locale='en-US', width=1280, height=800) → (page, problems); checked at teardown."""
    contexts = []

    def open_page(locale="en-US", width=1280, height=800, color_scheme="light"):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                      color_scheme=color_scheme, timezone_id="Asia/Tokyo")
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        problems = PageProblems()
        page.on("console", problems.on_console)
        page.on("pageerror", problems.on_error)
        contexts.append((context, problems))
        return page, problems

    yield open_page
    seen = [p for _, problems in contexts for p in problems.problems]
    for context, _ in contexts:
        context.close()
    assert not seen, "problems in the page:\n" + "\n".join(seen)


@pytest.fixture
def shot(request):
    """shot(page, 'name') saves .build/screenshots/<test>-<name>.png; shot(page, 'name', readme='x.png')
    also copies it to docs/x.png (README's pictures) when UPDATE_README_SCREENSHOTS=1, so an ordinary
    run never changes a tracked file."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name, readme=None):
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path))
        if readme and os.environ.get("UPDATE_README_SCREENSHOTS") == "1":
            shutil.copyfile(path, ROOT / "docs" / readme)

    return shot


