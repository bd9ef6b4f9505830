"""Firefox and WebKit (Safari's engine) for the cross-engine test (test_engines.py), from Debian's
packages, without Playwright (which drives only its own builds of those two, and those are never
downloaded here) and without anything fetched at run time.

- Firefox: Debian's `firefox-esr` speaks WebDriver BiDi itself (`--remote-debugging-port`), so a small
  BiDi client over a WebSocket drives it; no geckodriver (Debian 12 does not package one). BiDi gives
  a preload script (the CSP listener runs before the page's own scripts) and `log.entryAdded`, so
  every console error, uncaught exception and CSP report of the page is seen from the first byte.
- WebKit: Debian's `WebKitWebDriver` (webkit2gtk-driver) drives WebKitGTK's MiniBrowser over classic
  WebDriver (plain HTTP + JSON), in a private Xvfb (MiniBrowser needs an X display). WebKitGTK 2.50
  refuses BiDi (`webSocketUrl: true` fails to match capabilities), and classic WebDriver has neither
  preload scripts nor console logs, so `watch()` installs a listener into the page as soon as the
  navigation returns: it records console.error, uncaught errors, unhandled rejections and CSP
  violations from then on. What happens before is not seen there: a CSP violation by the HTML itself
  (an inline style attribute in index.html) escapes it (ReportingObserver's `buffered` brings no
  csp-violation reports in WebKitGTK 2.50, and MiniBrowser ignores
  --enable-write-console-messages-to-stdout under --automation); the Chromium and Firefox runs catch
  those, and they do not depend on the engine.

Both offer the same small surface: goto, call (run a function in the page), find (an element a
function returns), click, type, screenshot, problems."""

import base64
import contextlib
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request

FIREFOX = "/usr/bin/firefox-esr"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
XVFB = "/usr/bin/Xvfb"

# Reported in the console whenever CSP refuses something (as conftest's CSP_LISTENER).
CSP_LISTENER = """() => document.addEventListener('securitypolicyviolation', (e) =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))"""

# For engines without preload scripts or console logs: collects problems in window.__problems.
WATCH = """() => {
  if (window.__problems) return;
  const problems = window.__problems = [];
  const error = console.error;
  console.error = function (...args) { problems.push('console error: ' + args.map(String).join(' ')); return error.apply(this, args); };
  addEventListener('error', (e) => problems.push(`uncaught: ${e.message} (${e.filename}:${e.lineno})`));
  addEventListener('unhandledrejection', (e) => problems.push(`unhandled rejection: ${e.reason}`));
  document.addEventListener('securitypolicyviolation', (e) => problems.push(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
}"""


class StaleElement(AssertionError):
    """The element was replaced (a re-render) between finding and using it: find it again."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_programs():
    return [p for p in (FIREFOX, WEBKIT_DRIVER, MINIBROWSER, XVFB) if not os.path.exists(p)]


class Xvfb:
    """A private X display for MiniBrowser; `-displayfd` picks a free display number and tells it."""

    def __init__(self):
        read, write = os.pipe()
        self.process = subprocess.Popen([XVFB, "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                                        pass_fds=[write], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise AssertionError("Xvfb did not start")
        self.display = ":" + number

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class WebKit:
    """MiniBrowser through WebKitWebDriver (classic WebDriver)."""

    name = "webkit"
    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, display, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")
        self.driver = subprocess.Popen([WEBKIT_DRIVER, f"--port={self.port}"], env=dict(os.environ, DISPLAY=display),
                                       stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        self._wait_for_driver()
        caps = {"webkitgtk:browserOptions": {"binary": MINIBROWSER, "args": ["--automation"]}}
        self.session = self._send("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]

    def _wait_for_driver(self):
        from conftest import wait_until

        def listening():
            if self.driver.poll() is not None:
                raise AssertionError(f"WebKitWebDriver stopped (see {self.log.name})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False
        wait_until(listening, what="WebKitWebDriver to listen")

    def _send(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            stale = '"stale element reference"' in text
            raise (StaleElement if stale else AssertionError)(f"WebDriver {method} {path}: {text}") from None

    def _session(self, method, path, body=None):
        return self._send(method, f"/session/{self.session}{path}", body)

    def set_size(self, width, height):
        self._session("POST", "/window/rect", {"width": width, "height": height})

    def goto(self, url):
        self._session("POST", "/url", {"url": url})
        self.watch()

    def watch(self):
        self.call(WATCH)

    def call(self, function, *args):
        """Runs `function` (JavaScript source of a function) with `args` in the page; its JSON result."""
        return self._session("POST", "/execute/sync", {"script": f"return ({function})(...arguments)", "args": list(args)})

    def find(self, function, *args):
        """The element `function` returns, or None."""
        return self.call(function, *args)

    def click(self, element):
        self._session("POST", f"/element/{element[self.ELEMENT]}/click", {})

    def type(self, element, text):
        self._session("POST", f"/element/{element[self.ELEMENT]}/value", {"text": text})

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self._session("GET", "/screenshot")))

    def problems(self):
        return self.call("() => window.__problems || ['the problem listener is missing: was the page reloaded?']")

    def close(self):
        try:
            if self.session:
                self._send("DELETE", f"/session/{self.session}")
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=10)
            self.log.close()


class Firefox:
    """firefox-esr through its own WebDriver BiDi endpoint."""

    name = "firefox"

    def __init__(self, log_path):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="browser-tests-firefox-")
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", self.profile,
                                         "--remote-debugging-port=0", "about:blank"],
                                        stdout=self.log, stderr=subprocess.PIPE, text=True)
        address = None
        for line in self.process.stderr:  # Firefox names the port it chose on stderr
            self.log.write(line)
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            if found:
                address = found.group(1)
                break
        if not address:
            raise AssertionError(f"firefox-esr did not open WebDriver BiDi (see {self.log.name})")
        self.copier = threading.Thread(target=self._copy_stderr, daemon=True)
        self.copier.start()
        self.exits = contextlib.ExitStack()
        self.socket = self.exits.enter_context(connect(address + "/session", max_size=None, open_timeout=30))
        self.ids = iter(range(1, 1 << 30))
        self.answers = {}
        self.answered = threading.Condition()
        self.entries = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send("session.new", {"capabilities": {}})
        self.send("session.subscribe", {"events": ["log.entryAdded"]})
        self.context = self.send("browsingContext.getTree", {})["contexts"][0]["context"]
        self.send("script.addPreloadScript", {"functionDeclaration": CSP_LISTENER})
        self.seen = []

    def _copy_stderr(self):
        for line in self.process.stderr:
            self.log.write(line)

    def _read(self):
        """Answers go to the waiting `send`; log entries to `entries`."""
        try:
            for raw in self.socket:
                message = json.loads(raw)
                if message.get("method") == "log.entryAdded":
                    self.entries.put(message["params"])
                elif "id" in message:
                    with self.answered:
                        self.answers[message["id"]] = message
                        self.answered.notify_all()
        except Exception:  # the socket closed: waiting senders time out with a clear message
            pass

    def send(self, method, params):
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        with self.answered:
            if not self.answered.wait_for(lambda: number in self.answers, timeout=60):
                raise AssertionError(f"BiDi {method}: no answer")
            answer = self.answers.pop(number)
        if answer.get("type") == "error":
            # A node a re-render removed is "no such node" once collected, "not displayed" before.
            stale = answer.get("error") == "no such node" or (method == "input.performActions" and answer.get("error") == "move target out of bounds")
            raise (StaleElement if stale else AssertionError)(f"BiDi {method}: {answer.get('error')}: {answer.get('message')}")
        return answer["result"]

    def set_size(self, width, height):
        self.send("browsingContext.setViewport", {"context": self.context, "viewport": {"width": width, "height": height}})

    def goto(self, url):
        self.send("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def _call(self, function, args):
        arguments = [self._serialize(a) for a in args]
        answer = self.send("script.callFunction", {"functionDeclaration": function, "arguments": arguments,
                                                   "target": {"context": self.context}, "awaitPromise": True,
                                                   "resultOwnership": "none"})
        if answer["type"] == "exception":
            raise AssertionError(f"in the page: {answer['exceptionDetails']['text']}")
        return answer["result"]

    @staticmethod
    def _serialize(value):
        if value is None:
            return {"type": "null"}
        if isinstance(value, dict):  # an element from find()
            return value
        return {"type": "string" if isinstance(value, str) else "number", "value": value}

    def call(self, function, *args):
        return self._deserialize(self._call(function, args))

    def _deserialize(self, value):
        kind = value["type"]
        if kind in ("undefined", "null"):
            return None
        if kind == "array":
            return [self._deserialize(v) for v in value.get("value", [])]
        if kind == "object":
            return {k: self._deserialize(v) for k, v in value.get("value", [])}
        if kind == "node":
            return {"sharedId": value["sharedId"]}
        return value.get("value")

    def find(self, function, *args):
        value = self._call(function, args)
        return {"sharedId": value["sharedId"]} if value["type"] == "node" else None

    def click(self, element):
        if not self.call("(e) => e.isConnected && (e.scrollIntoView({ block: 'nearest' }), true)", element):
            raise StaleElement("the element left the page")
        self.send("input.performActions", {"context": self.context, "actions": [{"type": "pointer", "id": "mouse", "actions": [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": {"type": "element", "element": element}},
            {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]})

    def type(self, element, text):
        self.click(element)
        keys = [step for ch in text for step in ({"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch})]
        self.send("input.performActions", {"context": self.context, "actions": [{"type": "key", "id": "keyboard", "actions": keys}]})

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.send("browsingContext.captureScreenshot", {"context": self.context})["data"]))

    def problems(self):
        while True:
            try:
                entry = self.entries.get_nowait()
            except queue.Empty:
                return list(self.seen)
            if entry.get("level") == "error":
                self.seen.append(f"{entry.get('type')} error: {entry.get('text')}")

    def close(self):
        try:
            self.send("session.end", {})
        except AssertionError:
            pass
        finally:
            self.exits.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.copier.join(timeout=10)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
