"""The website widget's images and transcript in a real Chromium: the visitor sends an image and the
agent sees it in the inbox; the agent sends one and the visitor sees it (fetched with the visitor's
token, shown from a blob: URL); the visitor has the conversation mailed to them, and the SMTP test
server (scripts/smtp_test_server.py, aiosmtpd, as the Swift e-mail tests use) receives it.

This bridge has `server.publicBaseURL` (agents' uploads need one; the widget reads an upload from the
bridge itself, whatever host the link names) and an `email:` relay, so it is a bridge of its own."""

import json
import re
import secrets

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from mail_servers import Relay
from pages import WorkPage
from test_upload import png
from test_widget import WEBCHAT, set_availability, signed_in_agent
from widget_pages import HostSite, WidgetVisitor

CONFIG = WEBCHAT + """email:
  url: smtp://127.0.0.1:{port}
  username: {user}
  password: {password}
  from: "Acme Shop <support@example.com>"
  caFile: {ca}
"""


@pytest.fixture(scope="module")
def media_site():
    site, sink = HostSite(), Relay()
    extra = CONFIG.format(origin=site.origin, secret=secrets.token_hex(16), port=sink.port, user=sink.user, password=sink.password,
                          ca=sink.ca_file).replace("{{", "{").replace("}}", "}")
    with running_bridge(prefix="browser-widget-media-", public_base_url="https://bridge.test", extra_config=extra) as bridge:
        site.bridge = bridge.base_url
        yield bridge, site, sink
    site.stop()
    sink.stop()


def visitor_saying(open_page, site, width, height, text, refused):
    """A visitor on the host page at that size who has said `text`; `refused` is the 4xx the test provokes."""
    page, problems = open_page(width=width, height=height)
    problems.allowed.append(refused)
    visitor = WidgetVisitor(page, site)
    visitor.goto()
    visitor.open()
    visitor.say(text)
    expect(visitor.message(text)).to_be_visible()
    return page, visitor


def ticket_saying(bridge, marker):
    """The webchat ticket whose messages hold `marker`."""
    tickets = bridge.api("GET", "/api/v1/tickets?channel=webchat&limit=200")["items"]
    return next(t for t in tickets if marker in json.dumps(bridge.api("GET", f"/api/v1/tickets/{t['id']}/messages")))


def test_images_go_both_ways(media_site, open_page, shot):
    bridge, site, _ = media_site
    agent = bridge.add_agent("Ivo Images")
    set_availability(bridge, "online", agent)
    for width, height, name in [(1280, 800, "desktop"), (360, 740, "phone")]:
        page, visitor = visitor_saying(open_page, site, width, height, f"The zip is broken ({name})", refused=r"status of 415 \(Unsupported Media Type\)")
        # The visitor picks a file: not an image (whatever its name says) is refused, nothing sent.
        picker = visitor.frame.locator("#image")
        picker.set_input_files(files=[{"name": "zip.png", "mimeType": "image/png", "buffer": b"<html>not a picture</html>"}])
        expect(visitor.frame.get_by_text("Only PNG, JPEG, GIF or WebP images can be sent.")).to_be_visible()
        expect(visitor.frame.get_by_role("button", name="Send an image")).to_be_visible()
        image = png(48, 32)
        picker.set_input_files(files=[{"name": "zip.png", "mimeType": "image/png", "buffer": image}])
        sent = visitor.messages.get_by_role("img", name="Image")
        expect(sent).to_have_count(1)
        expect(sent).to_have_attribute("src", re.compile(r"^blob:"))
        wait_until(lambda: sent.evaluate("img => img.complete && img.naturalWidth") == 48, what="the visitor's image to show")
        expect(visitor.frame.get_by_text("Only PNG, JPEG, GIF or WebP images can be sent.")).to_be_hidden()

        # The agent sees it in the inbox, as any channel's image, once it is in the attachment store.
        ticket = ticket_saying(bridge, f"({name})")
        wait_until(lambda: any(a["status"] == "stored" for m in bridge.api("GET", f"/api/v1/tickets/{ticket['id']}/messages")["items"]
                               for a in m["attachments"]), what="the image in the attachment store")
        customer = f"Visitor on {name}"
        bridge.api("PATCH", f"/api/v1/contacts/{ticket['contact']['id']}", {"displayName": customer})
        _, inbox = signed_in_agent(bridge, open_page, "Ivo Images", agent)
        inbox.ticket(customer).click()
        received = inbox.conversation.get_by_role("img", name=re.compile(r"^Image from"))
        expect(received).to_have_count(1)
        wait_until(lambda: received.evaluate("img => img.complete && img.naturalWidth") == 48, what="the agent's view of the image")
        shot(inbox.page, f"agent-sees-the-visitors-image-{name}")

        # The agent answers with an image from their computer: the visitor sees it.
        inbox.page.get_by_role("button", name="Attach image").click()
        inbox.page.get_by_label("Image to send (JPEG, PNG, GIF or WebP)").set_input_files(
            files=[{"name": "new-zip.png", "mimeType": "image/png", "buffer": png(64, 40)}])
        inbox.reply_box.fill("We will send this one instead")
        inbox.send_button.click()
        expect(visitor.message("We will send this one instead")).to_be_visible()
        answer = visitor.message("We will send this one instead").get_by_role("img", name="Image")
        expect(answer).to_have_attribute("src", re.compile(r"^blob:"))
        wait_until(lambda: answer.evaluate("img => img.complete && img.naturalWidth") == 64, what="the agent's image in the widget")
        shot(page, f"images-both-ways-{name}")
        inbox.page.context.close()


def test_the_visitor_has_the_conversation_mailed_to_them(media_site, open_page, shot):
    bridge, site, sink = media_site
    set_availability(bridge, "online", bridge.add_agent("Tomo Transcript"))
    for width, height, name in [(1280, 800, "desktop"), (360, 740, "phone")]:
        page, visitor = visitor_saying(open_page, site, width, height, f"Where is order 77 ({name})?", refused=r"status of 400 \(Bad Request\)")
        ticket = ticket_saying(bridge, f"({name})")
        bridge.api("POST", f"/api/v1/tickets/{ticket['id']}/notes", {"text": "INTERNAL: courier is late"})
        bridge.api("POST", f"/api/v1/tickets/{ticket['id']}/messages", {"text": "It left our warehouse today."})
        expect(visitor.message("It left our warehouse today.")).to_be_visible()

        mail_button = visitor.frame.get_by_role("button", name="E-mail me this chat")
        mail_button.click()
        expect(mail_button).to_have_attribute("aria-expanded", "true")
        address = visitor.frame.get_by_label("Send this conversation to")
        expect(address).to_be_focused()
        # The browser takes "ana@localhost"; the bridge wants a domain with a dot, and says so.
        address.fill("ana@localhost")
        visitor.frame.locator(".transcript-send").click()
        expect(visitor.frame.get_by_text("That is not an e-mail address.")).to_be_visible()
        before = len(sink.received())
        address.fill(f"ana.{name}@example.com")
        shot(page, f"transcript-form-{name}")
        visitor.frame.locator(".transcript-send").click()
        expect(visitor.frame.get_by_text(f"Sent to ana.{name}@example.com.")).to_be_visible()
        shot(page, f"transcript-sent-{name}")
        envelope, mail = wait_until(lambda: sink.received()[before:] or None, what="the transcript mail")[0]
        assert envelope["to"] == [f"ana.{name}@example.com"], envelope
        assert mail["Subject"] == "Your conversation with Acme Shop", mail["Subject"]
        body = mail.get_content()
        assert f"Where is order 77 ({name})?" in body and "It left our warehouse today." in body, body
        assert "INTERNAL" not in body, body


def test_a_typed_address_joins_the_visitor_to_its_customer_once_the_mailed_code_is_typed(media_site, open_page, shot):
    bridge, site, sink = media_site
    bridge.add_agent("Otto Away")
    set_availability(bridge, "offline")
    page, problems = open_page()
    problems.expected.add((400, "/widget/v1/site/confirm"))  # the wrong code, on purpose
    visitor = WidgetVisitor(page, site)
    visitor.goto()
    visitor.open()
    frame = visitor.frame
    expect(frame.get_by_text("Nobody can answer right now.")).to_be_visible()
    before = len(sink.received())
    frame.get_by_label("Name", exact=True).fill("Ana Confirm")
    frame.get_by_label("E-mail", exact=True).fill("ana.confirm@example.com")
    frame.get_by_label("Message", exact=True).fill("Please call me back.")
    frame.get_by_role("button", name="Leave a message").click()
    expect(frame.get_by_text("We have mailed your address a code. Type it here to confirm the address is yours.")).to_be_visible()
    envelope, mail = wait_until(lambda: sink.received()[before:] or None, what="the confirmation mail")[0]
    assert envelope["to"] == ["ana.confirm@example.com"], envelope
    code = re.search(r"\b(\d{6})\b", mail.get_content()).group(1)
    ticket = wait_until(lambda: next((t for t in bridge.api("GET", "/api/v1/tickets?channel=webchat&limit=200")["items"]
                                      if t["contact"].get("displayName") == "Ana Confirm"), None), what="the offline message's ticket")
    assert bridge.api("GET", f"/api/v1/contacts/{ticket['contact']['id']}").get("email") is None

    box = frame.get_by_label("Code from the e-mail")
    box.fill("000000" if code != "000000" else "000001")
    frame.get_by_role("button", name="Confirm", exact=True).click()
    expect(frame.get_by_text("That code is not right. Check the e-mail and try again.")).to_be_visible()
    assert bridge.api("GET", f"/api/v1/contacts/{ticket['contact']['id']}").get("email") is None
    box.fill(code)
    shot(page, "confirmation-code")
    frame.get_by_role("button", name="Confirm", exact=True).click()
    expect(frame.get_by_text("Your address is confirmed.")).to_be_visible()
    shot(page, "confirmed")
    assert bridge.api("GET", f"/api/v1/contacts/{ticket['contact']['id']}")["email"] == "ana.confirm@example.com"
