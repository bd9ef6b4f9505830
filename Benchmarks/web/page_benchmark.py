"""The page-performance benchmark of the agent web inbox (issue 10): the release `bridge serve` on a
generated inbox (`InboxBenchmark generate`), Debian's headless chromium driven by Playwright, and a
LINE stand-in for the live messages. It prints figures beside their targets and asserts nothing on
time (it fails only when the page cannot be driven at all).

    .build/release/InboxBenchmark generate --path /tmp/inbox.sqlite [--quick]
    .build/python/bin/python Benchmarks/web/page_benchmark.py --db /tmp/inbox.sqlite [--quick]

Agent 1 signs in through the page's own form (POST /api/v1/auth/session, the session cookie,
bcrypt at the bridge's default cost) and lands on its "Mine" view. A first, cold run (new server,
empty caches) is printed apart and gives the JS+CSS bytes; the medians and p95s are of the runs after.

How each figure is taken:
- sign-in → usable inbox: page-side, from the sign-in form's `submit` event to the first ticket row
  (`[role=listbox] [role=option]`) in the DOM, seen by a MutationObserver, then to the start of
  the next animation frame (the frame that paints it). Both stamps are `performance.now()`, which
  Chromium coarsens to 0.1 ms. A new browser context (no cookies, no cache) for each run.
- opening the 1,000-message ticket: page-side, from the click on its row to its newest message in
  the conversation log (same observer, same clock), in the context that just signed in.
- live message (the page on the "All" view; each new LINE customer writes twice, so half the
  messages open a ticket and half move one to the top): the ack is Python's `time.time()` when the signed webhook's 200 has arrived; the row
  is the page's `performance.timeOrigin + performance.now()` when the message's text appears in the
  ticket list (observer) and at the next frame. The two clocks are tied by the round trip with
  the smallest spread among a few `page.evaluate` calls; that half round trip is printed as the
  uncertainty.
- JS+CSS: every script and stylesheet answer of a cold first load, body bytes as sent (encoded)
  and as decoded.
`--profile` also times the page's API calls from Python; `--trace FILE` records Chromium's
performance timeline of the cold run and prints where the page's renderer spent each interval
(main-thread slices, and the hottest JS functions from V8's sampling profiler).
"""

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "browser"))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from conftest import CHROMIUM, Bridge, BridgeProcess  # noqa: E402
from line_standin import LineStandIn  # noqa: E402
from pages import InboxPage  # noqa: E402

EMAIL = "agent1@example.com"  # Benchmarks/inbox/Generator.swift gives agent 1 this password
PASSWORD = "bench-password"

# Stamps what the figures need, in the page's own clock; installed before any page script runs.
PROBE = """
(() => {
  const bench = window.__bench = { submit: null, firstRow: null, firstRowFrame: null, click: null,
                                   newest: null, newestFrame: null, newestText: null, live: {} };
  const frame = (set) => requestAnimationFrame(() => set(performance.now()));
  const mark = (name) => { performance.mark(name); return performance.now(); };  // marks show in a --trace
  document.addEventListener('submit', () => { bench.submit ??= mark('bench-submit'); }, true);
  document.addEventListener('click', (e) => {
    if (e.target.closest?.('[role=listbox] [role=option]')) { bench.click = mark('bench-click'); bench.newest = null; bench.newestFrame = null; }
  }, true);
  const check = () => {
    const now = performance.now();
    if (bench.submit !== null && bench.firstRow === null && document.querySelector('[role=listbox] [role=option]')) {
      bench.firstRow = now;
      frame((t) => { bench.firstRowFrame = t; performance.mark('bench-first-rows'); });
    }
    if (bench.click !== null && bench.newest === null && bench.newestText
        && document.querySelector('[role=log]')?.textContent.includes(bench.newestText)) {
      bench.newest = now;
      frame((t) => { bench.newestFrame = t; performance.mark('bench-newest'); });
    }
    const waiting = Object.entries(bench.live).filter(([, v]) => v.seen === null);
    if (waiting.length) {
      const text = document.querySelector('[role=listbox]')?.textContent ?? '';
      for (const [marker, v] of waiting) {
        if (text.includes(marker)) {
          v.seen = performance.timeOrigin + now;
          frame((t) => { v.frame = performance.timeOrigin + t; });
        }
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();
"""


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name, samples, target, unit="ms"):
    print(f"  {name:<46} median {statistics.median(samples):7.1f} {unit}   p95 {percentile(samples, 95):7.1f} {unit}"
          f"   (n={len(samples)}; target {target})", flush=True)


class Server:
    """The release bridge on a copy of the generated database, with a LINE channel on a stand-in."""

    def __init__(self, binary, database):
        self.work = Path(tempfile.mkdtemp(prefix="page-bench-"))
        (self.work / "data").mkdir()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(str(database) + suffix):
                shutil.copyfile(str(database) + suffix, self.work / "data" / f"bridge.sqlite{suffix}")
        self.database = self.work / "data" / "bridge.sqlite"
        self.line = LineStandIn().start()
        self.admin_token = secrets.token_hex(32)
        self.line_secret = secrets.token_hex(16)
        config = f"""
server:
  host: 127.0.0.1
  port: {{port}}
database:
  url: sqlite:{self.database}
auth:
  adminToken: {self.admin_token}
egress:
  allow: [127.0.0.1]
channels:
  - kind: line
    id: main
    channelSecret: {self.line_secret}
    accessToken: page-bench-line-token
    apiBaseURL: {self.line.base_url}
"""
        self.process = BridgeProcess(self.work, lambda port: config.format(port=port), binary=binary)
        self.log_path = self.process.log_path
        try:
            self.base_url = "http://" + self.process.start()
        except BaseException:
            self.stop()
            raise
        self.bridge = Bridge(self.base_url, self.admin_token, self.line_secret, self.line, self.log_path)

    def stop(self):
        if self.process.process:
            self.process.stop()
        self.line.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def long_ticket(database):
    """The generator's newest ticket is the long one: its id, contact name, size and newest text."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    ticket_id, name = db.execute(
        "SELECT t.id, c.display_name FROM tickets t JOIN contacts c ON c.id = t.contact_id ORDER BY t.id DESC LIMIT 1").fetchone()
    count = db.execute("SELECT count(*) FROM messages WHERE ticket_id = ?", (ticket_id,)).fetchone()[0]
    newest = db.execute("SELECT text FROM messages WHERE ticket_id = ? ORDER BY created_at DESC, id DESC LIMIT 1", (ticket_id,)).fetchone()[0]
    tickets, messages = db.execute("SELECT (SELECT count(*) FROM tickets), (SELECT max(id) FROM messages)").fetchone()
    db.close()
    return {"id": ticket_id, "name": name, "messages": count, "newest": newest, "tickets": tickets, "all_messages": messages}


class Run:
    """One new browser context: load the page, sign in, wait for the first rows."""

    def __init__(self, browser, server, target, record_assets=False):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="Asia/Tokyo")
        self.context.add_init_script(PROBE)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.assets = []
        self.requests = []
        if record_assets:
            self.page.on("requestfinished", self.finished)
        self.inbox = InboxPage(self.page, server.base_url)
        self.target = target

    def finished(self, request):
        response = request.response()
        if response is None:
            return
        if request.resource_type in ("script", "stylesheet"):
            self.assets.append((request.url, request.sizes()["responseBodySize"], len(response.body())))
        self.requests.append((request.method, request.url.split("/", 3)[-1], request.timing))

    def sign_in(self):
        self.inbox.goto()
        expect(self.inbox.sign_in_form).to_be_visible()
        self.inbox.sign_in(EMAIL, PASSWORD)
        self.page.wait_for_function("() => window.__bench.firstRowFrame !== null", timeout=60_000)
        bench = self.page.evaluate("window.__bench")
        return bench["firstRow"] - bench["submit"], bench["firstRowFrame"] - bench["submit"]

    def open_long_ticket(self):
        self.page.evaluate("(text) => { window.__bench.newestText = text; }", self.target["newest"])
        self.inbox.ticket(self.target["name"]).click()
        self.page.wait_for_function("() => window.__bench.newestFrame !== null", timeout=60_000)
        expect(self.inbox.message(self.target["newest"])).to_be_visible()
        bench = self.page.evaluate("window.__bench")
        return bench["newest"] - bench["click"], bench["newestFrame"] - bench["click"]

    def close(self):
        self.context.close()


def clock_offset(page):
    """Page epoch ms minus Python epoch ms, from the tightest of a few round trips; and its uncertainty."""
    best = None
    for _ in range(15):
        before = time.time() * 1000
        page_now = page.evaluate("performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        if best is None or after - before < best[1] * 2:
            best = (page_now - (before + after) / 2, (after - before) / 2)
    return best


def live_messages(run, server, count):
    """Signed webhooks from LINE customers (each new customer writes twice: a new ticket, then a
    message on it) while the page shows the All view; ack → row latency per message."""
    page, inbox = run.page, run.inbox
    inbox.choose_view("All")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=30_000)
    offset, uncertainty = clock_offset(page)
    token = secrets.token_hex(3)
    latencies, frames = [], []
    for n in range(count):
        marker = f"bench-{token}-{n}"
        page.evaluate("(m) => { window.__bench.live[m] = { seen: null, frame: null }; }", marker)
        user = f"Ubench{token}{n // 2:04d}" + "0" * 16
        server.bridge.line_message(user, f"Live message {marker}", display_name=f"Live customer {token} {n // 2}")
        acked = time.time() * 1000
        page.wait_for_function("(m) => window.__bench.live[m].frame !== null", arg=marker, timeout=30_000)
        seen = page.evaluate("(m) => window.__bench.live[m]", marker)
        latencies.append(seen["seen"] - offset - acked)
        frames.append(seen["frame"] - offset - acked)
        time.sleep(0.1)  # pacing between messages, not a measurement
    return latencies, frames, uncertainty


def api_timings(server, ticket):
    """The API calls the page makes, timed from Python (server time + loopback), for the profile."""
    token = login_token(server.base_url)
    def timed(path, n=5):
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            request = urllib.request.Request(server.base_url + path)
            request.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples), len(body)
    paths = ["/api/v1/me", "/api/v1/agents", "/api/v1/departments", "/api/v1/views", "/api/v1/tickets?view=mine&limit=50",
             "/api/v1/tickets?limit=50", f"/api/v1/tickets/{ticket}", f"/api/v1/tickets/{ticket}/messages",
             f"/api/v1/tickets/{ticket}/notes", f"/api/v1/tickets/{ticket}/history"]
    start = time.perf_counter()
    login_token(server.base_url)
    login_ms = (time.perf_counter() - start) * 1000
    print(f"  {'POST /api/v1/auth/login (bcrypt)':<46} {login_ms:7.1f} ms")
    for path in paths:
        ms, size = timed(path)
        print(f"  {'GET ' + path.replace(str(ticket), '{long}'):<46} {ms:7.1f} ms  {size / 1024:7.1f} KB")


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute", "loading",
                    "disabled-by-default-v8.cpu_profiler"]
# Renderer main-thread slices worth naming (inclusive times; script time includes forced layouts).
TRACE_SLICES = {"RunTask": "main thread busy", "FunctionCall": "script (calls)", "EvaluateScript": "script (module eval)",
                "v8.compile": "script compile", "ParseHTML": "HTML parse", "UpdateLayoutTree": "style recalc",
                "Layout": "layout", "PrePaint": "pre-paint", "Paint": "paint", "Layerize": "layerize"}


def summarize_trace(path):
    """Where the renderer's main thread spent the sign-in (submit → first rows painted) and the
    ticket open (click → newest message painted), from Chromium's performance timeline."""
    events = json.loads(Path(path).read_text())["traceEvents"]
    marks, pages = {}, set()
    for e in events:
        if e.get("cat", "").startswith("blink.user_timing") and e.get("name", "").startswith("bench-") and e["name"] not in marks:
            marks[e["name"]] = e["ts"]
            pages.add(e["pid"])
    # The inbox page's renderer only (the browser runs others of its own).
    main = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
            and e.get("args", {}).get("name") == "CrRendererMain" and e["pid"] in pages}
    for title, start, end in (("sign-in", "bench-submit", "bench-first-rows"), ("ticket open", "bench-click", "bench-newest")):
        if start not in marks or end not in marks:
            print(f"    trace: no {start}/{end} marks")
            continue
        t0, t1 = marks[start], marks[end]
        spans = {}
        for e in events:
            if e.get("ph") == "X" and (e["pid"], e["tid"]) in main and e.get("name") in TRACE_SLICES:
                start, end = max(e["ts"], t0), min(e["ts"] + e.get("dur", 0), t1)
                if start < end:
                    spans.setdefault(e["name"], []).append((start, end))
        totals = {name: covered(intervals) for name, intervals in spans.items()}
        parts = ", ".join(f"{TRACE_SLICES[n]} {totals[n] / 1000:.1f}" for n in TRACE_SLICES if n in totals)
        print(f"    {title}: {(t1 - t0) / 1000:.1f} ms on the clock; renderer main thread (ms): {parts}")
        hot = hot_functions(events, {pid for pid, _ in main}, t0, t1)
        if hot:
            print("      JS self time (sampled): " + ", ".join(f"{name} {ms:.1f}" for name, ms in hot))


def covered(intervals):
    """The time the union of [start, end) intervals covers (nested slices of one name count once)."""
    total, reach = 0, None
    for start, end in sorted(intervals):
        if reach is None or start >= reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def hot_functions(events, pids, t0, t1, top=8):
    """Self time per function from the page renderer's V8 CPU profile samples inside [t0, t1) (µs)."""
    names, clocks, self_time = {}, {}, {}
    for e in events:
        if e.get("pid") not in pids:
            continue
        if e.get("name") == "Profile":
            clocks[e.get("id")] = e.get("args", {}).get("data", {}).get("startTime", 0)
        if e.get("name") != "ProfileChunk":
            continue
        data = e.get("args", {}).get("data", {})
        profile = data.get("cpuProfile", {})
        for node in profile.get("nodes", []):
            frame = node["callFrame"]
            url = frame.get("url", "").rsplit("/", 1)[-1]
            name = frame.get("functionName") or "(anonymous)"
            names[node["id"]] = f"{name} {url}:{frame.get('lineNumber', -1) + 1}" if url else name
        clock = clocks.get(e.get("id"), 0)
        for sample, delta in zip(profile.get("samples", []), data.get("timeDeltas", [])):
            clock += delta
            if t0 <= clock < t1:
                name = names.get(sample, "?")
                self_time[name] = self_time.get(name, 0) + delta
        clocks[e.get("id")] = clock
    ranked = sorted(((n, us / 1000) for n, us in self_time.items() if n not in ("(idle)", "(program)")), key=lambda x: -x[1])
    return ranked[:top]


def login_token(base_url):
    request = urllib.request.Request(base_url + "/api/v1/auth/login", method="POST",
                                     data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database written by `InboxBenchmark generate` (copied, not changed)")
    parser.add_argument("--bridge", default=str(ROOT / ".build" / "release" / "bridge"))
    parser.add_argument("--quick", action="store_true", help="fewer runs (CI)")
    parser.add_argument("--runs", type=int, help="sign-in and ticket-open runs (default 15; --quick 5)")
    parser.add_argument("--live", type=int, help="live messages (default 40; --quick 30)")
    parser.add_argument("--profile", action="store_true", help="also time the API calls the page makes")
    parser.add_argument("--trace", metavar="FILE", help="record Chromium's performance timeline of the cold run to FILE and summarize it")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    live_count = args.live or (30 if args.quick else 40)

    target = long_ticket(args.db)
    print(f"page benchmark: {target['tickets']} tickets, {target['all_messages']} messages; ticket {target['id']} "
          f"({target['name']}) has {target['messages']}; headless {CHROMIUM}{' (quick)' if args.quick else ''}", flush=True)
    server = Server(args.bridge, args.db)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                # A cold first load: what the page costs on the wire, and a warm-up for the server.
                first = Run(browser, server, target, record_assets=True)
                if args.trace:
                    browser.start_tracing(page=first.page, path=args.trace, categories=TRACE_CATEGORIES)
                cold_rows, cold_frame = first.sign_in()
                cold_open, _ = first.open_long_ticket()
                if args.trace:
                    browser.stop_tracing()
                assets = first.assets
                sign_in_requests = [(m, p, t) for m, p, t in first.requests if p.startswith("api/")]
                first.close()
                rows, rows_frame, opens, opens_frame, errors = [], [], [], [], list(first.errors)
                for n in range(runs):
                    run = Run(browser, server, target)
                    r, rf = run.sign_in()
                    o, of = run.open_long_ticket()
                    rows.append(r)
                    rows_frame.append(rf)
                    opens.append(o)
                    opens_frame.append(of)
                    if n < runs - 1:
                        errors += run.errors
                        run.close()
                latencies, frames, uncertainty = live_messages(run, server, live_count)  # in the last run's page
                errors += run.errors
                run.close()
            finally:
                browser.close()
        encoded = sum(size for _, size, _ in assets)
        decoded = sum(size for _, _, size in assets)
        print(f"  first (cold) run: sign-in → first rows {cold_rows:.1f} ms (painted {cold_frame:.1f} ms); "
              f"opening ticket {target['id']} {cold_open:.1f} ms", flush=True)
        line("sign-in → first ticket rows in the DOM", rows, "≤ 1000 ms")
        line("sign-in → first ticket rows painted (next frame)", rows_frame, "≤ 1000 ms")
        line(f"open the {target['messages']}-message ticket → newest shown", opens, "≤ 300 ms")
        line(f"open the {target['messages']}-message ticket → painted", opens_frame, "≤ 300 ms")
        line("webhook 200 → live message in the list (DOM)", latencies, "p95 ≤ 250 ms")
        line("webhook 200 → live message in the list (painted)", frames, "p95 ≤ 250 ms")
        print(f"    (page and Python clocks tied within ±{uncertainty:.2f} ms; performance.now() resolution 0.1 ms)")
        print(f"  JS+CSS of a first load: {len(assets)} files, {encoded / 1024:.1f} KB transferred (bodies), "
              f"{decoded / 1024:.1f} KB decoded   (target ~150 KB)")
        print("  API calls of the cold run's sign-in and ticket open (start → end of response, ms):")
        for method, path, timing in sign_in_requests:
            print(f"    {method:<6} {path.split('?')[0][:60]:<60} {timing['responseEnd']:7.1f}")
        if args.profile:
            print("  the same API calls from Python (median of 5, warm):")
            api_timings(server, target["id"])
        if args.trace:
            print(f"  Chromium performance timeline of the cold run ({args.trace}):")
            summarize_trace(args.trace)
        if errors:
            print(f"  page errors seen ({len(errors)}): {errors[:3]}")
    except BaseException:
        print(f"the bridge's log ends with:\n{server.log_path.read_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        server.stop()


if __name__ == "__main__":
    main()
