"""The website chat widget in a real Chromium: a visitor on a host page of another origin (the
business's site, with the pasted snippet) chats with an agent working the inbox in another browser
context; the conversation survives a reload; and a site the account does not allow gets nothing."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from pages import WorkPage
from widget_pages import HostSite, WidgetVisitor, JA

WEBCHAT = """
  - kind: webchat
    id: site
    name: Acme Shop
    colour: "#0a7c5a"
    greeting: {{ en: "Hi! How can we help?", ja: "こんにちは！ご用件をどうぞ。" }}
    allowedOrigins: [{origin}]
    visitorSecret: {secret}
"""


@pytest.fixture(scope="module")
def widget_site():
    """The business's site, a site it does not list, and a bridge with a webchat account allowing the first."""
    site, other = HostSite(), HostSite()
    extra = WEBCHAT.format(origin=site.origin, secret=secrets.token_hex(16)).replace("{{", "{").replace("}}", "}")
    with running_bridge(prefix="browser-widget-", extra_config=extra) as bridge:
        site.bridge = other.bridge = bridge.base_url
        yield bridge, site, other
    site.stop()
    other.stop()


def set_availability(bridge, availability, agent=None):
    """Puts one agent (or every agent) online or offline: the widget offers live chat only when one is online."""
    for each in [agent] if agent else bridge.api("GET", "/api/v1/agents")["items"]:
        bridge.api("PATCH", f"/api/v1/agents/{each['id']}", {"availability": availability})


def signed_in_agent(bridge, open_page, name, agent=None):
    agent = agent or bridge.add_agent(name)
    page, _ = open_page()
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(name)
    inbox.choose_view("All")
    return agent, inbox


def test_a_visitor_chats_with_an_agent_and_a_reload_keeps_the_conversation(widget_site, open_page, shot):
    bridge, site, _ = widget_site
    agent = bridge.add_agent("Mika Widget")
    set_availability(bridge, "online", agent)
    page, _ = open_page()
    visitor = WidgetVisitor(page, site)
    visitor.goto()
    expect(visitor.launcher).to_be_visible()
    shot(page, "site-with-the-launcher")
    visitor.open()
    expect(visitor.frame.get_by_role("heading", level=1)).to_have_text("Acme Shop")
    expect(visitor.frame.get_by_text("Hi! How can we help?")).to_be_visible()
    visitor.say("Is the blue jacket in stock in M?")
    expect(visitor.message("Is the blue jacket in stock in M?")).to_be_visible()
    shot(page, "visitor-asks")

    _, inbox = signed_in_agent(bridge, open_page, "Mika Widget", agent)
    ticket = inbox.tickets.get_by_role("option").filter(has_text="Is the blue jacket in stock in M?")
    expect(ticket).to_be_visible()
    expect(ticket).to_contain_text("Website chat")
    ticket.click()
    expect(inbox.message("Is the blue jacket in stock in M?")).to_be_visible()
    inbox.reply("Yes, we have it in M. Shall I reserve one?")
    expect(visitor.message("Yes, we have it in M. Shall I reserve one?")).to_be_visible()
    shot(page, "visitor-gets-the-answer")
    shot(inbox.page, "agent-answers")

    # Each sees the other typing.
    inbox.reply_box.press_sequentially("Let me check the")
    expect(visitor.frame.get_by_text("Support is typing…")).to_be_visible()
    shot(page, "visitor-sees-the-agent-typing")
    visitor.message_box.press_sequentially("Also, do you have")
    expect(inbox.page.get_by_text("Visitor typing…")).to_be_visible()
    shot(inbox.page, "agent-sees-the-visitor-typing")
    inbox.reply_box.fill("")
    visitor.message_box.fill("")

    # A reload (or another page of the same site) continues the same chat.
    page.reload()
    visitor.open()
    expect(visitor.message("Is the blue jacket in stock in M?")).to_be_visible()
    expect(visitor.message("Yes, we have it in M. Shall I reserve one?")).to_be_visible()
    visitor.say("Yes please!")
    expect(inbox.message("Yes please!")).to_be_visible()
    tickets = bridge.api("GET", "/api/v1/tickets?channel=webchat")["items"]
    assert len(tickets) == 1, tickets
    # The visitor rates the chat: the ticket's satisfaction, as the agent sees it.
    visitor.frame.get_by_role("button", name="Good").click()
    expect(visitor.frame.get_by_text("Thank you for your rating.")).to_be_visible()
    expect(inbox.page.get_by_text("The customer rated the conversation: Good")).to_be_visible()
    shot(page, "visitor-rated")
    shot(inbox.page, "agent-sees-the-rating")
    # The widget reported the reply read (it was shown in the open chat).
    wait_until(lambda: any(m["status"] == "read" for m in bridge.api("GET", f"/api/v1/tickets/{tickets[0]['id']}/messages")["items"]
                           if m["direction"] == "out"), what="the reply read")


def test_the_widget_speaks_japanese_and_fits_a_phone(widget_site, open_page, shot):
    bridge, site, _ = widget_site
    set_availability(bridge, "online", bridge.add_agent("Yui Online"))
    page, _ = open_page(locale="ja-JP", width=360, height=740)
    visitor = WidgetVisitor(page, site, JA)
    visitor.goto()
    visitor.open()
    expect(visitor.frame.get_by_text("こんにちは！ご用件をどうぞ。")).to_be_visible()
    # This bridge has no mail relay: no transcript button (settings.transcript is false).
    expect(visitor.frame.locator("button.mail")).to_be_hidden()
    expect(visitor.frame.get_by_role("button", name="画像を送る")).to_be_visible()
    visitor.say("在庫はありますか？")
    expect(visitor.message("在庫はありますか？")).to_be_visible()
    box = page.locator("iframe").bounding_box()
    assert box["width"] <= 360 and box["x"] >= 0, box
    shot(page, "phone-ja")


def test_a_site_not_allowed_cannot_show_the_widget(widget_site, open_page, shot):
    bridge, _, other = widget_site
    page, problems = open_page()
    # The browser's own report of the refused frame is the one message expected, and it must come.
    problems.allowed.append(r"Framing .* violates .*frame-ancestors")
    with page.expect_console_message(lambda m: re.search(r"Framing .* violates .*frame-ancestors", m.text) is not None, timeout=15000):
        page.goto(other.origin + "/")
    frame = page.locator("iframe")
    expect(frame).to_have_count(1)
    # The launcher never shows: the page never said it was ready. And no chat was started.
    expect(page.get_by_role("button", name="Open the chat")).to_be_hidden()
    assert bridge.api("GET", "/api/v1/tickets?channel=webchat&limit=200") is not None
    shot(page, "refused-site")


def test_with_every_agent_offline_the_visitor_leaves_a_message_that_becomes_a_ticket(widget_site, open_page, shot):
    bridge, site, _ = widget_site
    bridge.add_agent("Otto Away")
    set_availability(bridge, "offline")
    bridge.api("PUT", "/api/v1/business-hours", {"timeZone": "Asia/Tokyo", "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]]}})
    page, _ = open_page()
    visitor = WidgetVisitor(page, site)
    visitor.goto()
    visitor.open()
    frame = visitor.frame
    expect(frame.get_by_text("Nobody can answer right now.")).to_be_visible()
    expect(frame.get_by_text("Our hours (Asia/Tokyo):")).to_be_visible()
    expect(frame.get_by_text("Mon 09:00–18:00")).to_be_visible()
    expect(visitor.message_box).to_be_hidden()
    frame.get_by_label("Name", exact=True).fill("Ana Lima")
    frame.get_by_label("E-mail", exact=True).fill("ana.lima@example.com")
    frame.get_by_label("Message", exact=True).fill("Please call me back about order 1234.")
    shot(page, "offline-form")
    frame.get_by_role("button", name="Leave a message").click()
    expect(frame.get_by_text("Thank you! We will get back to you soon.")).to_be_visible()
    expect(visitor.message("Please call me back about order 1234.")).to_be_visible()
    # Nobody has the chat yet: its place in the queue and the expected wait.
    expect(frame.get_by_text(re.compile(r"You are number \d+ in the queue\. Expected wait: about \d+ min\."))).to_be_visible(timeout=15000)
    shot(page, "offline-left")
    ticket = wait_until(lambda: next((t for t in bridge.api("GET", "/api/v1/tickets?channel=webchat&limit=200")["items"]
                                      if t["contact"].get("displayName") == "Ana Lima"), None), what="the offline message's ticket")
    contact = bridge.api("GET", f"/api/v1/contacts/{ticket['contact']['id']}")
    # Anyone can type any address: it is a note for the agents until the visitor confirms it by the
    # link mailed to it (this bridge has no mail relay, so it stays a note).
    assert contact.get("email") is None, contact
    notes = bridge.api("GET", f"/api/v1/tickets/{ticket['id']}/notes")["items"]
    assert any("ana.lima@example.com" in note["text"] for note in notes), notes
