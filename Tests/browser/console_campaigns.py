"""The console's Campaigns section: its selectors (by role and label), and a LINE stand-in whose
pushes can be held until the test lets them go, so a campaign's progress, pause and resume are
seen at points the test chooses rather than at moments it waits for."""

import re
import threading

from playwright.sync_api import expect

from line_standin import LineStandIn
from pages import ConsolePage


class GatedLineStandIn(LineStandIn):
    """LINE's push held at the door while `gating` is on: each waits until `release(n)` lets n go.
    `held` counts the pushes that arrived at the door so far."""

    def __init__(self):
        self.gating = False
        self.held = 0
        self._gate = threading.Semaphore(0)
        self._held_lock = threading.Lock()
        super().__init__()

    def listen(self, handler):
        stand_in = self

        class Gated(handler):
            def do_POST(self):
                if stand_in.gating and self.path.startswith("/v2/bot/message/push"):
                    with stand_in._held_lock:
                        stand_in.held += 1
                    stand_in._gate.acquire()
                super().do_POST()

        super().listen(Gated)

    def release(self, count):
        for _ in range(count):
            self._gate.release()

    def open(self):
        """Stops holding; lets every push still at the door go."""
        self.gating = False
        self.release(1000)


class CampaignsConsole(ConsolePage):
    def open(self):
        self.open_section("Campaigns")
        expect(self.page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()

    def new_campaign(self):
        self.page.get_by_role("button", name="New campaign").click()
        return self.form

    @property
    def form(self):
        return self.page.get_by_role("form", name="New campaign")

    def field(self, label):
        return self.form.get_by_label(label, exact=True)

    @property
    def preview(self):
        return self.page.get_by_role("region", name="Preview")

    @property
    def skips(self):
        return self.preview.get_by_role("table", name="Recipients and skips per channel")

    def message_card(self, channel):
        return self.preview.get_by_role("article", name=channel)

    @property
    def progress(self):
        return self.page.get_by_role("progressbar", name="Progress")

    def expect_done(self, done, total):
        expect(self.progress).to_have_attribute("aria-valuenow", str(done))
        expect(self.progress).to_have_attribute("aria-valuemax", str(total))

    def status(self, text):
        return self.page.get_by_label("Status").filter(has_text=re.compile(f"^{re.escape(text)}$"))

    def action(self, name):
        return self.page.get_by_role("button", name=name, exact=True)

    @property
    def per_channel(self):
        return self.page.get_by_role("table", name="Per channel")

    def report_row(self, channel):
        """The per-channel row's cells as text: channel, sent, delivered, read, failed, skipped, pending."""
        row = self.per_channel.get_by_role("row").filter(has=self.page.get_by_role("cell", name=channel, exact=True))
        return [cell.strip() for cell in row.get_by_role("cell").all_inner_texts()]

    @property
    def chart(self):
        return self.page.get_by_role("figure", name="Outcome per channel")

    def chart_numbers(self):
        """The chart's drawn bars (their hover titles) and its numbers table's rows, the table opened."""
        bars = self.chart.locator("svg rect.bar title").evaluate_all("titles => titles.map((title) => title.textContent)")
        self.chart.get_by_role("button", name="Show numbers").click()
        rows = self.chart.get_by_role("table").get_by_role("row").all()
        return bars, [[cell.strip() for cell in row.get_by_role("cell").all_inner_texts()] for row in rows[1:]]



class EmailOptOutsConsole(CampaignsConsole):
    """The e-mail opt-out list under Campaigns (#/campaigns/opt-outs)."""

    def open_opt_outs(self):
        self.page.get_by_role("link", name="E-mail opt-outs").click()
        expect(self.page.get_by_role("heading", name="E-mail opt-outs", level=1)).to_be_visible()

    @property
    def address(self):
        return self.page.get_by_label("E-mail address", exact=True)

    def add(self, address):
        self.address.fill(address)
        self.page.get_by_role("button", name="Add to opt-outs").click()

    @property
    def table(self):
        return self.page.get_by_role("table", name="Opted-out addresses")

    def addresses(self):
        return [cells[0].strip() for cells in (row.get_by_role("cell").all_inner_texts() for row in self.table.get_by_role("row").all()[1:])
                if len(cells) > 1]

    def remove(self, address):
        self.page.get_by_role("button", name=f"Remove {address}").click()


def unsubscribe_link(bridge, address):
    """The one-click unsubscribe link a campaign mail to `address` carries, sealed as the bridge seals
    it (AES-GCM under the database's `unsubscribe_keys` key, `email-unsubscribe` authenticated; see
    UnsubscribeTokens.swift). The key is put in the database first when the bridge has made none yet,
    and the bridge then uses it (the first key stored wins)."""
    import base64
    import os
    import sqlite3
    import time

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    database = sqlite3.connect(bridge.process.work / "data" / "bridge.sqlite", timeout=10)
    try:
        with database:
            database.execute("INSERT OR IGNORE INTO unsubscribe_keys (id, key, created_at) VALUES (1, ?, ?)",
                             (os.urandom(32), int(time.time() * 1000)))
        key = database.execute("SELECT key FROM unsubscribe_keys WHERE id = 1").fetchone()[0]
    finally:
        database.close()
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, address.lower().encode(), b"email-unsubscribe")
    return bridge.base_url + "/unsubscribe/u1." + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()
