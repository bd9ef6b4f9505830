"""The inbox's use of the newer API pieces in a real Chromium: drafts kept on the server, live view
counts, Retry on a failed message, older messages paged in on scroll, and the reply window with the
WhatsApp template form."""

import re
import secrets
import urllib.parse

from playwright.sync_api import expect

from conftest import wait_until
from pages import JA, WorkPage
from test_work import customer, open_ticket, signed_in


def view_count(inbox, name):
    return inbox.views.get_by_role("button", name=name, exact=True).locator(".count")


def server_counts(bridge):
    return bridge.api("POST", "/api/v1/tickets/counts", {"filters": {"unassigned": "view=unassigned", "resolved": "status=resolved"}})["counts"]


def test_a_draft_follows_the_agent_to_another_browser_and_stays_on_its_ticket(bridge, open_page, shot):
    agent = bridge.add_agent("Dana Draft")
    customer(bridge, "Draft Customer One", "Can I change my address?")
    customer(bridge, "Draft Customer Two", "Hello there")
    laptop, _ = signed_in(open_page, bridge, agent)
    open_ticket(laptop, "Draft Customer One")
    with laptop.page.expect_response(lambda r: r.url.endswith("/draft") and r.request.method == "PUT" and r.status == 200):
        laptop.reply_box.press_sequentially("Sure, send me the new address")

    phone, _ = signed_in(open_page, bridge, agent, width=360, height=740)
    open_ticket(phone, "Draft Customer One")
    expect(phone.reply_box).to_have_value("Sure, send me the new address")
    shot(phone.page, "draft-on-second-device")
    # Keyed by its ticket: another ticket's composer starts empty on both devices.
    phone.page.locator("button.back").click()
    open_ticket(phone, "Draft Customer Two")
    expect(phone.reply_box).to_have_value("")
    open_ticket(laptop, "Draft Customer Two")
    expect(laptop.reply_box).to_have_value("")


def test_view_counts_change_live_when_a_ticket_arrives_and_when_it_is_resolved(bridge, open_page, shot):
    agent = bridge.add_agent("Kei Count")
    inbox, _ = signed_in(open_page, bridge, agent)
    before = server_counts(bridge)
    expect(view_count(inbox, "Unassigned")).to_have_text(str(before["unassigned"]))
    expect(view_count(inbox, "Resolved")).to_have_text(str(before["resolved"]))

    _, ticket = customer(bridge, "Counted Customer", "Is this counted?")
    expect(view_count(inbox, "Unassigned")).to_have_text(str(before["unassigned"] + 1))
    shot(inbox.page, "counts-arrived")

    bridge.api("PATCH", f"/api/v1/tickets/{ticket}", {"status": "resolved"})
    expect(view_count(inbox, "Resolved")).to_have_text(str(before["resolved"] + 1))
    shot(inbox.page, "counts-resolved")


def test_a_failed_message_shows_its_reason_and_retry_sends_it_again(bridge, open_page, shot):
    agent = bridge.add_agent("Rei Retry")
    customer(bridge, "Retry Customer", "Did my refund go through?")
    inbox, _ = signed_in(open_page, bridge, agent)
    open_ticket(inbox, "Retry Customer")
    bridge.line.fail_next_push("The property, 'messages[0].text', must be specified.")
    inbox.reply("Yes, it went through yesterday.")
    message = inbox.message("Yes, it went through yesterday.")
    expect(message).to_contain_text("Failed: The property, 'messages[0].text', must be specified.")
    assert "Yes, it went through yesterday." not in bridge.line.pushed_texts()
    shot(inbox.page, "failed")

    message.get_by_role("button", name="Retry").click()
    wait_until(lambda: "Yes, it went through yesterday." in bridge.line.pushed_texts(), what="the retried push")
    expect(message).to_contain_text("Sent")
    expect(message.get_by_role("button", name="Retry")).to_have_count(0)


def test_older_messages_load_page_by_page_on_scroll(bridge, open_page, shot):
    agent = bridge.add_agent("Lou Long")
    user = "U" + secrets.token_hex(16)
    bridge.line_messages(user, [f"Long story part {n:03d}" for n in range(1, 121)], display_name="Long Story Customer")
    ticket = wait_until(lambda: next(iter(bridge.api("GET", "/api/v1/tickets?contact=Long%20Story%20Customer")["items"]), None),
                        what="the long conversation's ticket")
    wait_until(lambda: len(bridge.api("GET", f"/api/v1/tickets/{ticket['id']}/messages")["items"]) == 120, what="all 120 messages")
    inbox, _ = signed_in(open_page, bridge, agent)
    open_ticket(inbox, "Long Story Customer")
    expect(inbox.message("Long story part 120")).to_be_visible()
    expect(inbox.conversation.get_by_role("listitem")).to_have_count(50)  # the newest page only
    expect(inbox.message("Long story part 001")).to_have_count(0)

    scroller = inbox.page.locator(".timeline-scroll")
    scroller.evaluate("(e) => { e.scrollTop = 0; }")
    expect(inbox.message("Long story part 070")).to_be_attached()
    scroller.evaluate("(e) => { e.scrollTop = 0; }")
    expect(inbox.message("Long story part 001")).to_be_attached()
    expect(inbox.conversation.get_by_role("listitem")).to_have_count(120)
    # What was being read stayed in view: the page did not jump to the bottom or the top.
    shot(inbox.page, "older-loaded")


def test_the_whatsapp_reply_window_and_the_template_form(bridge, open_page, shot):
    agent = bridge.add_agent("Wen WhatsApp")
    bridge.whatsapp_message("5511988880001", "Order status?", "Ana Window", hours_ago=1)
    bridge.whatsapp_message("5511988880002", "Are you there?", "Bruno Closed", hours_ago=30)
    wait_until(lambda: bridge.api("GET", "/api/v1/tickets?contact=Bruno%20Closed")["items"], what="the WhatsApp tickets")
    inbox, problems = signed_in(open_page, bridge, agent)
    # The main number has no business account id: the template list answers 409 and the name is typed.
    problems.expected.add((409, "/api/v1/channels/whatsapp/templates"))
    window = inbox.page.locator("reply-composer").get_by_role("note")

    open_ticket(inbox, "Ana Window")
    expect(window).to_have_text(re.compile(r"^WhatsApp: window closes in 2[23] hr — after that only templates"))
    expect(window.get_by_role("button", name="Send a template…")).to_be_hidden()
    shot(inbox.page, "window-open")

    open_ticket(inbox, "Bruno Closed")
    expect(window).to_contain_text("WhatsApp: reply window closed — only templates")
    window.get_by_role("button", name="Send a template…").click()
    dialog = inbox.dialog("Send a WhatsApp template")
    dialog.get_by_label("Template name").fill("order_update")
    dialog.get_by_label("Language code").fill("pt_BR")
    dialog.get_by_label("Parameters (one per line)").fill("Bruno\n#4521")
    shot(inbox.page, "template-form")
    dialog.get_by_role("button", name="Send template").click()
    expect(dialog).to_be_hidden()
    wait_until(lambda: bridge.line.whatsapp_templates(), what="the template send")
    template = bridge.line.whatsapp_templates()[-1]
    assert template["name"] == "order_update" and template["language"]["code"] == "pt_BR", template


def test_japanese_reply_window_and_template_form_at_360_px(bridge, open_page, shot):
    agent = bridge.add_agent("山本 京子")
    bridge.whatsapp_message("5511988880003", "注文はどうなっていますか？", "佐々木 長い名前のお客様です", hours_ago=30)
    wait_until(lambda: bridge.api("GET", "/api/v1/tickets?contact=" + urllib.parse.quote("佐々木 長い名前のお客様です"))["items"], what="the WhatsApp ticket")
    page, problems = open_page(locale="ja-JP", width=360, height=740)
    problems.expected.add((409, "/api/v1/channels/whatsapp/templates"))
    inbox = WorkPage(page, bridge.base_url, JA)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    inbox.choose_view("すべて")
    shot(page, "list-ja-360")
    inbox.ticket("佐々木 長い名前のお客様です").click()
    window = page.locator("reply-composer").get_by_role("note")
    expect(window).to_contain_text("WhatsApp: 返信期間は終了 — テンプレートのみ送れます")
    shot(page, "window-ja-360")
    window.get_by_role("button", name="テンプレートを送信…").click()
    expect(inbox.dialog("WhatsApp テンプレートを送信")).to_be_visible()
    shot(page, "template-ja-360")
    inbox.dialog("WhatsApp テンプレートを送信").get_by_role("button", name="キャンセル").click()
