"""The README's screenshot (docs/inbox.png): plays `bridge demo`, signs in as its demo agent in
headless chromium and saves the inbox with a conversation open, in English and Japanese.

    .build/python/bin/python scripts/inbox-screenshot.py 8770 docs      # after swift build
"""
import subprocess, sys, time, re, os, tempfile
from playwright.sync_api import sync_playwright
port = int(sys.argv[1]); outdir = sys.argv[2]
d = tempfile.mkdtemp()
log = open(f"{d}/demo.log", "w")
p = subprocess.Popen([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "bridge"), "demo", "--port", str(port), "--pace", "0", "--data-dir", d + "/data"], stdout=log, stderr=subprocess.STDOUT)
try:
    for _ in range(240):
        time.sleep(0.5)
        if "signed webhooks from customers" in open(f"{d}/demo.log").read(): break  # every conversation played
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium")
        for name, locale in (("inbox", "en-US"), ("inbox-ja", "ja-JP")):
            ctx = b.new_context(viewport={"width": 1400, "height": 820}, locale=locale, timezone_id="Asia/Tokyo")
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("input[type=email]").fill("agent@demo.example")
            page.locator("input[type=password]").fill("demo-inbox-password")
            page.keyboard.press("Enter")
            page.wait_for_timeout(2500)
            page.locator("views-nav button").nth(2).click()
            page.wait_for_timeout(1500)
            page.get_by_role("listbox").get_by_role("option").nth(2).click()
            page.wait_for_timeout(2500)
            page.screenshot(path=f"{outdir}/{name}.png")
            ctx.close()
        b.close()
finally:
    p.terminate()
