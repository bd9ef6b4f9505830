"""`bridge demo` as a newcomer meets it: the inbox's address and login come first, then the customers
write, and the page that signed in with that login shows their conversations arrive."""

import re
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from conftest import BRIDGE, wait_until
from pages import WorkPage

PLAYED = "signed webhooks from customers"


def test_the_demo_prints_the_inbox_first_and_its_customers_arrive_live(open_page, shot):
    work = Path(tempfile.mkdtemp(prefix="browser-demo-"))
    log_path = work / "demo.log"
    with open(log_path, "w") as log:
        demo = subprocess.Popen([str(BRIDGE), "demo", "--port", "0", "--pace", "0.5", "--data-dir", str(work / "data")],
                                stdout=log, stderr=subprocess.DEVNULL)
    try:
        def printed():
            assert demo.poll() is None, f"the demo stopped: {log_path.read_text()[-3000:]}"
            return re.search(r"sign in:\n\s+(http://\S+)/\n\s+e-mail (\S+), password (\S+)", log_path.read_text())
        found = wait_until(printed, timeout=60, what="the demo to print the inbox's address")
        url, email, password = found.groups()

        page, _ = open_page()
        inbox = WorkPage(page, url)
        inbox.goto()
        inbox.sign_in(email, password)
        inbox.expect_signed_in("Demo Agent")
        inbox.choose_view("All")
        page.evaluate("window.__noReload = true")
        # Kenji's conversation waits; the others arrive while the page is open, and it shows them.
        expect(inbox.ticket("Kenji")).to_be_visible()
        expect(inbox.ticket("Lena Vogel")).to_have_count(2, timeout=30000)  # Messenger and Instagram
        expect(inbox.ticket("Ana")).to_contain_text("texting instead")
        assert page.evaluate("window.__noReload") is True
        shot(page, "demo-arrived")

        wait_until(lambda: PLAYED in log_path.read_text(), timeout=30, what="the demo to finish playing")
        output = log_path.read_text()
        # The address and login first, then each customer's message as it arrives, then the tally.
        assert output.index(url + "/") < output.index("Ana on WhatsApp") < output.index("Lena on Instagram") < output.index(PLAYED)
    finally:
        demo.terminate()
        demo.wait(timeout=30)
