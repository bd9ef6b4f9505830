"""What open website widgets cost the bridge while the inbox is busy.

Starts the release bridge on a new SQLite file with a LINE account (its profile API answered by a
stand-in here) and a website chat, then sends signed LINE webhooks at a fixed rate twice: with no
widget open, then with N visitors' WebSockets open (`/widget/v1/site/live`, tokens signed as the
bridge signs them). Prints the bridge's CPU per webhook in each run (from /proc), the difference
per open widget, and what the widgets were sent (none of the messages are theirs, so only their
hello, queue and heartbeats). Before `VisitorLog`, each open widget read the event log and the
store after every message in the inbox.

    swift build -c release --product bridge
    .build/python/bin/python Benchmarks/widget/widget_feeds.py            # 200 widgets, 300 webhooks/s, 10 s
    .build/python/bin/python Benchmarks/widget/widget_feeds.py --quick    # 100 widgets, 3 s
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from websockets.asyncio.client import connect

LINE_SECRET = "bench-line-channel-secret"
VISITOR_SECRET = "bench-widget-visitor-secret"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Profiles(http.server.BaseHTTPRequestHandler):
    """LINE's profile API: every customer is someone."""

    def do_GET(self):
        body = json.dumps({"userId": self.path.rsplit("/", 1)[-1], "displayName": "Customer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def visitor_token(visitor_id):
    """`VisitorToken.make`: the id, a dot, HMAC-SHA256 of the id in base64url."""
    return visitor_id + "." + b64url(hmac.new(VISITOR_SECRET.encode(), visitor_id.encode(), hashlib.sha256).digest())


def webhook(i, seed):
    user = "U%032x" % (i % 1000)
    body = json.dumps({
        "destination": "Ubench",
        "events": [{
            "type": "message", "timestamp": int(time.time() * 1000), "webhookEventId": f"{seed}-{i}",
            "deliveryContext": {"isRedelivery": False}, "replyToken": f"rt{i}", "mode": "active",
            "source": {"type": "user", "userId": user},
            "message": {"id": f"{seed}{i}", "type": "text", "quoteToken": "q", "text": f"Where is my order #{i}?"},
        }],
    }).encode()
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return body, signature


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Sender:
    """Sends webhooks at `rate` a second over keep-alive connections, each acknowledged before the next."""

    def __init__(self, port, threads=8):
        self.port = port
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(threads)

    def post(self, body, signature):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", "/webhooks/line/bench", body, {"X-Line-Signature": signature, "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status

    def run(self, count, rate, seed):
        start = time.monotonic()
        futures = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(self.pool.submit(self.post, *webhook(i, seed)))
        statuses = [f.result() for f in futures]
        return sum(1 for s in statuses if s == 200)


def run_phase(bridge, sender, count, rate, seed):
    """The webhooks acknowledged, the bridge's CPU seconds and the run's wall seconds."""
    before, started = cpu_seconds(bridge.pid), time.monotonic()
    acknowledged = sender.run(count, rate, seed)
    # Work the webhooks woke (feeds, workers) finishes shortly after the last acknowledgement.
    time.sleep(1)
    if acknowledged != count:
        raise SystemExit(f"only {acknowledged} of {count} webhooks were acknowledged")
    return acknowledged, cpu_seconds(bridge.pid) - before, time.monotonic() - started


class Widgets:
    """N visitors' WebSockets, held open on an event loop of their own, counting what they are sent."""

    def __init__(self, port, count):
        self.port, self.count = port, count
        self.received = {}
        self.ready = threading.Event()
        self.stop = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(),), daemon=True)

    async def one(self, visitor_id, opened):
        url = f"ws://127.0.0.1:{self.port}/widget/v1/site/live?token={visitor_token(visitor_id)}"
        async with connect(url, max_queue=None) as socket:
            opened.release()
            async for text in socket:
                kind = json.loads(text).get("type", "?")
                self.received[kind] = self.received.get(kind, 0) + 1
                if kind == "hello":
                    self.hellos += 1
                    if self.hellos == self.count:
                        self.ready.set()

    async def main(self):
        self.stop = asyncio.Event()
        self.hellos = 0
        opened = asyncio.Semaphore(0)
        tasks = [asyncio.create_task(self.one(b64url(secrets.token_bytes(16)), opened)) for _ in range(self.count)]
        await self.stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def open(self):
        self.thread.start()
        if not self.ready.wait(120):
            raise SystemExit(f"only {self.hellos} of {self.count} widgets connected")

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bridge", default=".build/release/bridge")
    parser.add_argument("--widgets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--quick", action="store_true", help="100 widgets, 3 s a run (CI)")
    args = parser.parse_args()
    if args.quick:
        args.widgets, args.seconds = 100, 3
    count = int(args.rate * args.seconds)

    directory = tempfile.mkdtemp(prefix="widget-feeds-")
    profiles = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Profiles)
    threading.Thread(target=profiles.serve_forever, daemon=True).start()
    port = free_port()
    config = os.path.join(directory, "bridge.yaml")
    with open(config, "w") as f:
        f.write(f"""server: {{ host: 127.0.0.1, port: {port} }}
database: {{ url: "sqlite:{directory}/bridge.sqlite" }}
auth: {{ adminToken: {ADMIN_TOKEN} }}
egress: {{ allow: [127.0.0.1] }}
channels:
  - kind: line
    id: bench
    channelSecret: {LINE_SECRET}
    accessToken: bench-line-token
    apiBaseURL: http://127.0.0.1:{profiles.server_address[1]}
  - kind: webchat
    id: site
    name: Bench Shop
    allowedOrigins: [https://shop.example]
    visitorSecret: {VISITOR_SECRET}
""")
    bridge = subprocess.Popen([args.bridge, "serve", "--config", config], env={**os.environ, "LOG_LEVEL": "error"}, stdout=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                if bridge.poll() is not None:
                    raise SystemExit("the bridge exited")
                time.sleep(0.1)
        sender = Sender(port)
        # Meet the 1,000 customers first (new contacts, tickets and profile look-ups), unmeasured.
        sender.run(1000, args.rate, "meet")
        time.sleep(1)
        print(f"{count} LINE webhooks at {args.rate:.0f}/s, the bridge's CPU per webhook (including the work each wakes):")
        acknowledged, cpu, _ = run_phase(bridge, sender, count, args.rate, "none")
        alone = cpu / acknowledged * 1e6
        print(f"  no widget open:       {alone:7.1f} µs ({acknowledged} acknowledged, {cpu:.2f} CPU s)")
        widgets = Widgets(port, args.widgets)
        widgets.open()
        time.sleep(1)
        acknowledged, cpu, seconds = run_phase(bridge, sender, count, args.rate, "open")
        opened = cpu / acknowledged * 1e6
        extra = (opened - alone) * acknowledged / 1e6
        print(f"  {args.widgets} widgets open:     {opened:7.1f} µs ({acknowledged} acknowledged, {cpu:.2f} CPU s)")
        print(f"  each open widget:     {(opened - alone) / args.widgets:7.2f} µs a webhook, "
              f"{extra / args.widgets / seconds * 1e3:.2f} ms of CPU a second")
        widgets.close()
        print(f"  the widgets were sent: {dict(sorted(widgets.received.items()))}")
    finally:
        bridge.terminate()
        bridge.wait(30)
        profiles.shutdown()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
