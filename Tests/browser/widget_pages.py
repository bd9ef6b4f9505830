"""The website chat widget as a visitor meets it: a host page on another origin (a tiny HTTP server
of the test, serving the snippet a business pastes) and the widget's own selectors, by role and label."""

import http.server
import re
import threading

from playwright.sync_api import Page, expect

SNIPPET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Shop</title></head>
<body><h1>Acme Shop</h1><p>Jackets, coats and more.</p>
<script src="{bridge}/widget.js" data-account="{account}" async></script>
</body></html>
"""


class HostSite:
    """A business's website: one page with the widget's snippet, on 127.0.0.1 at its own port, so its
    origin (http://localhost:PORT as the browser is sent there) is not the bridge's."""

    def __init__(self):
        self.bridge = None
        self.account = "site"
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = SNIPPET_PAGE.format(bridge=site.bridge, account=site.account).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class WidgetVisitor:
    """A visitor on the host page, chatting through the widget's frame."""

    def __init__(self, page: Page, site: HostSite, texts=None):
        self.page = page
        self.site = site
        self.t = texts or EN

    def goto(self):
        self.page.goto(self.site.origin + "/")

    @property
    def launcher(self):
        return self.page.get_by_role("button", name=re.compile(f"^({self.t['open']}|{self.t['close']})$"))

    @property
    def frame(self):
        return self.page.frame_locator(f"iframe[title='{self.t['title']}']")

    def open(self):
        expect(self.launcher).to_be_visible()
        self.launcher.click()
        expect(self.frame.get_by_role("heading", level=1)).to_be_visible()

    @property
    def message_box(self):
        return self.frame.get_by_label(self.t["message"], exact=True)

    def say(self, text):
        self.message_box.fill(text)
        self.frame.get_by_role("button", name=self.t["send"], exact=True).click()

    @property
    def messages(self):
        return self.frame.get_by_role("list").first.get_by_role("listitem")

    def message(self, text):
        return self.messages.filter(has_text=text)


EN = {"open": "Open the chat", "close": "Close the chat", "title": "Chat", "message": "Your message", "send": "Send"}
JA = {"open": "チャットを開く", "close": "チャットを閉じる", "title": "チャット", "message": "メッセージ", "send": "送信"}
