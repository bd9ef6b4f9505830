"""The console's Reports over a seeded month: customers write on LINE (signed webhooks), agents
answer and resolve through the API and customers rate, each on its own past day and hour (the
bridge runs on a test clock, BRIDGE_TEST_CLOCK_FILE, moved forward by the test; nothing sleeps).
The page draws its charts for the last 30 days in the browser's time zone, and every CSV it
downloads says what the API's CSV says."""

import base64
import csv
import hashlib
import hmac
import io
import json
import secrets
import shutil
import tempfile
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from console_reports import ReportsConsole

TOKYO = ZoneInfo("Asia/Tokyo")  # the browser's time zone in these tests (conftest.open_page)


class Clock:
    """The bridge's now, in a file it reads (debug builds only)."""

    def __init__(self, path):
        self.path = path
        self.now = None

    def set(self, moment):
        self.now = moment
        self.path.write_text(moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")

    def advance(self, **delta):
        self.set(self.now + timedelta(**delta))

    def real(self):
        self.path.write_text("")


def line_event(bridge, event, at):
    """One LINE webhook event stamped `at`, signed as LINE signs."""
    event = {"timestamp": int(at.timestamp() * 1000), "webhookEventId": "01REPORTS" + secrets.token_hex(8),
             "deliveryContext": {"isRedelivery": False}, "mode": "active", **event}
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
    signature = base64.b64encode(hmac.new(bridge.line_secret.encode(), body, hashlib.sha256).digest()).decode()
    request = urllib.request.Request(bridge.base_url + "/webhooks/line/main", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("x-line-signature", signature)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


def seed_month(bridge, clock, agents):
    """Tickets on each of the last 24 days (one to three a day), from 09:00 in Tokyo: each answered
    after a few minutes by one of `agents`, most resolved within hours, most of those rated. The
    clock only moves forward. Returns how many tickets were opened."""
    today = datetime.now(TOKYO).replace(hour=0, minute=0, second=0, microsecond=0)
    asked = i = 0
    for days_ago in range(24, 0, -1):
        clock.set(today - timedelta(days=days_ago) + timedelta(hours=9, minutes=days_ago * 7 % 50))
        for _ in range(1 + (days_ago % 3 == 0) + (days_ago % 7 == 0)):
            user = f"U{i:032d}"
            name = f"Customer {i:02d}"
            bridge.line.display_names[user] = name
            line_event(bridge, {"type": "message", "replyToken": f"r{i}", "source": {"type": "user", "userId": user},
                                "message": {"id": f"mreports{i}", "type": "text", "quoteToken": "q", "text": f"Question {i}"}}, clock.now)
            ticket = wait_until(lambda: next((t["id"] for t in bridge.api("GET", "/api/v1/tickets?limit=200")["items"]
                                              if t["contact"].get("displayName") == name), None), what=f"{name}'s ticket")
            agent = agents[i % len(agents)]
            token = bridge.api("POST", "/api/v1/auth/login", {"email": agent["email"], "password": agent["password"]})["token"]
            clock.advance(minutes=2 + (i * 5) % 37)
            bridge.api("POST", f"/api/v1/tickets/{ticket}/claim", {}, token=token)
            bridge.api("POST", f"/api/v1/tickets/{ticket}/messages", {"text": "Looking into it"}, token=token)
            if i % 4 != 3:  # else left open
                clock.advance(minutes=20 + (i * 13) % 150)
                bridge.api("PATCH", f"/api/v1/tickets/{ticket}", {"status": "resolved"}, token=token)
                if i % 5 != 4:  # else not rated
                    asked += 1
                    wait_until(lambda: sum("quickReply" in json.dumps(p["body"]) for p in bridge.line.pushes) >= asked,
                               what=f"the rating request to {name}")
                    clock.advance(minutes=3)
                    line_event(bridge, {"type": "postback", "replyToken": f"rr{i}", "source": {"type": "user", "userId": user},
                                        "postback": {"data": "rating:bad" if i % 6 == 0 else "rating:good"}}, clock.now)
            clock.advance(minutes=10)
            i += 1
    clock.real()
    return i


def api_csv(bridge, query, table):
    request = urllib.request.Request(f"{bridge.base_url}/api/v1/reports/service?{query}&format=csv&table={table}")
    request.add_header("Authorization", f"Bearer {bridge.admin_token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def rows(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_reports_draw_a_month_and_their_csv_files_match_the_api(open_page, shot):
    clock_dir = Path(tempfile.mkdtemp(prefix="browser-reports-clock-"))
    clock = Clock(clock_dir / "now")
    try:
        with running_bridge(prefix="browser-reports-", extra_config="satisfaction:\n  enabled: true\n",
                            environment={"BRIDGE_TEST_CLOCK_FILE": str(clock.path)}) as bridge:
            agents = [bridge.add_agent("Ann Reports"), bridge.add_agent("Ben Reports"), bridge.add_agent("中村 美咲")]
            tickets = seed_month(bridge, clock, agents)
            owner = bridge.add_agent("Olive Owner", role="admin")
            today = datetime.now(TOKYO).date()
            first = today - timedelta(days=29)
            query = urllib.parse.urlencode({"from": first.isoformat(), "to": today.isoformat(), "timeZone": "Asia/Tokyo"})
            report = bridge.api("GET", f"/api/v1/reports/service?{query}")
            assert sum(day["opened"] for day in report["days"]) == tickets
            assert report["firstResponse"]["count"] == tickets

            page, _ = open_page(height=1500)
            console = ReportsConsole(page, bridge.base_url)
            console.goto("reports")
            console.sign_in(owner["email"], owner["password"])
            console.open()
            # The default period: the last 30 days, in the browser's time zone.
            expect(console.from_date).to_have_value(first.isoformat())
            expect(console.to_date).to_have_value(today.isoformat())

            # Every chart is drawn: a bar per day and series, a dot per rated day, a cell per hour.
            volume = console.chart("Tickets opened and resolved per day")
            expect(volume.locator("rect.bar")).to_have_count(30 * 2)
            drawn = volume.locator("rect.bar.one").evaluate_all("bars => bars.filter((bar) => Number(bar.getAttribute('height')) > 0).length")
            assert drawn == len({day["date"] for day in report["days"] if day["opened"]})
            rated_days = [day for day in report["days"] if day.get("satisfaction") is not None]
            assert rated_days
            expect(console.chart("Satisfaction per day").locator("circle.dot")).to_have_count(len(rated_days))
            hours = console.chart("Busiest hours (customer messages)")
            expect(hours.locator("rect.cell")).to_have_count(7 * 24)
            expect(hours.locator("rect.cell:not(.empty)")).to_have_count(sum(1 for row in report["busiestHours"] for n in row if n))
            summary = page.get_by_role("region", name="First response")
            expect(summary).to_contain_text(f"{tickets} tickets")
            expect(console.table("By agent")).to_contain_text("中村 美咲")
            expect(console.table("By channel")).to_contain_text("LINE")
            shot(page, "reports", readme="console-reports.png")

            # The numbers one click away: the table has a row per day.
            numbers = console.show_numbers("Tickets opened and resolved per day")
            expect(numbers.locator("tbody tr")).to_have_count(30)
            expect(numbers.locator("tbody tr").last).to_contain_text(str(report["days"][-1]["opened"]))

            # Each CSV from the page is the API's CSV for the same period and time zone.
            for title, table in [("Tickets opened and resolved per day", "days"), ("By agent", "agents"),
                                 ("By channel", "channels"), ("Busiest hours (customer messages)", "hours")]:
                from_page = rows(console.download_csv(title))
                from_api = rows(api_csv(bridge, query, table))
                assert from_page == from_api, (table, from_page, from_api)
                assert len(from_api) > 1

            # Another period: the page asks again and draws its days.
            console.show((today - timedelta(days=6)).isoformat(), today.isoformat())
            expect(volume.locator("rect.bar")).to_have_count(7 * 2)

            # A phone's width, the dark theme and Japanese.
            phone, _ = open_page(width=360, height=800, color_scheme="dark")
            small = ReportsConsole(phone, bridge.base_url)
            small.goto("reports")
            small.sign_in(owner["email"], owner["password"])
            small.expect_loaded()
            phone.get_by_label("Language").select_option("ja")
            expect(phone.get_by_role("heading", name="レポート", level=1)).to_be_visible()
            expect(phone.get_by_role("img", name="日ごとの新規・解決チケット")).to_be_visible()
            overflow = phone.evaluate("document.querySelector('.console-main').scrollWidth - document.querySelector('.console-main').clientWidth")
            assert overflow <= 0, overflow
            shot(phone, "reports-phone-dark-ja")
            phone.get_by_role("img", name="混雑する時間帯（お客様のメッセージ）").scroll_into_view_if_needed()
            shot(phone, "reports-phone-dark-ja-hours")
    finally:
        shutil.rmtree(clock_dir, ignore_errors=True)
