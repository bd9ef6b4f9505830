"""An agent attaches an image from their computer: the composer uploads it (POST /api/v1/uploads)
and replies with its public URL, which the LINE stand-in receives and anyone can fetch.

LINE takes images only from https URLs (its API reference: originalContentUrl "Protocol: HTTPS
(TLS 1.2 or later)"), and the bridge's LINE adapter refuses anything else before sending. So this
test's bridge has its own config with `server.publicBaseURL: https://bridge.test`, as a bridge
behind a TLS proxy has; the test fetches the link's path from the bridge's own loopback address,
which is what such a proxy forwards to. The page signs in over http://127.0.0.1 (a secure context
for Chromium, so the Secure cookie an https publicBaseURL brings is kept)."""

import re
import secrets
import struct
import urllib.parse
import urllib.request
import zlib

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from pages import WorkPage

PUBLIC = "https://bridge.test"


def png(width=24, height=16):
    """A real PNG (an orange rectangle), so the thumbnail and the sent image decode."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xf0\x80\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def public_bridge():
    """A bridge of its own whose public URL is https (see the module's note)."""
    with running_bridge(prefix="browser-upload-", public_base_url=PUBLIC) as bridge:
        yield bridge


def pushed_images(line):
    with line._lock:
        return [m for p in line.pushes for m in p["body"].get("messages", []) if m.get("type") == "image"]


def test_an_agent_sends_an_image_from_their_computer(public_bridge, open_page, shot):
    bridge = public_bridge
    agent = bridge.add_agent("Uma Upload")
    page, _ = open_page()
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    inbox.choose_view("All")
    bridge.line_message("U" + secrets.token_hex(16), "The box arrived broken", display_name="Rin Photo")
    inbox.ticket("Rin Photo").click()
    expect(inbox.conversation_title).to_have_text("Rin Photo")

    attach = page.get_by_role("button", name="Attach image")
    attach.click()
    expect(attach).to_have_attribute("aria-expanded", "true")
    picker = page.get_by_label("Image to send (JPEG, PNG, GIF or WebP)")
    expect(picker).to_be_focused()

    # Not an image the platforms take: said in the composer, nothing kept.
    picker.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    expect(inbox.composer_alert).to_have_text("Choose a JPEG, PNG, GIF or WebP image.")

    image = png()
    picker.set_input_files(files=[{"name": "wrong.png", "mimeType": "image/png", "buffer": image}])
    preview = page.get_by_role("img", name="Preview of wrong.png")
    expect(preview).to_be_visible()
    expect(inbox.composer).not_to_contain_text("Choose a JPEG, PNG, GIF or WebP image.")
    # A keyboard user clears it: the Remove button takes focus and Enter, and focus returns to the picker.
    remove = page.get_by_role("button", name="Remove the image wrong.png")
    remove.focus()
    page.keyboard.press("Enter")
    expect(preview).to_have_count(0)
    expect(picker).to_be_focused()

    picker.set_input_files(files=[{"name": "damage.png", "mimeType": "image/png", "buffer": image}])
    preview = page.get_by_role("img", name="Preview of damage.png")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))  # an object URL of the file, no upload yet
    expect(inbox.composer).to_contain_text("damage.png")
    inbox.reply_box.fill("This is what we received")
    shot(page, "image-chosen")
    inbox.send_button.click()

    # LINE gets an image message whose URL is the bridge's public /media link, and the caption.
    sent = wait_until(lambda: pushed_images(bridge.line), what="the LINE image push")[0]
    url = sent["originalContentUrl"]
    assert url.startswith(PUBLIC + "/media/"), url
    assert sent["previewImageUrl"] == url
    wait_until(lambda: "This is what we received" in bridge.line.pushed_texts(), what="the caption")
    # Anyone may fetch it, with no credentials: the same bytes, as a PNG.
    path = urllib.parse.urlsplit(url).path
    with urllib.request.urlopen(bridge.base_url + path, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.read() == image

    # The composer is empty again, and the conversation shows the image we sent, loaded inline.
    expect(page.get_by_role("img", name="Preview of damage.png")).to_have_count(0)
    expect(inbox.reply_box).to_have_value("")
    message = inbox.message("This is what we received")
    expect(message).to_contain_text("Sent")
    sent_image = message.get_by_role("img", name="Image sent to the customer")
    expect(sent_image).to_have_attribute("src", path)
    wait_until(lambda: sent_image.evaluate("img => img.complete && img.naturalWidth") == 24, what="the sent image to load")
    shot(page, "image-sent")
