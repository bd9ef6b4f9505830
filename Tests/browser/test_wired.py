"""The inbox's use of the newer API pieces in a real Chromium: drafts kept on the server, live view
counts, Retry on a failed message, older messages paged in on scroll, and the reply window with the
WhatsApp template form."""

import re
import secrets
import time
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


def test_a_session_ending_mid_reply_brings_the_sign_in_back_and_keeps_the_draft(bridge, open_page, shot):
    agent = bridge.add_agent("Sam Session")
    _, ticket = customer(bridge, "Expiry Customer", "Where is my parcel?")
    inbox, problems = signed_in(open_page, bridge, agent)
    problems.expected.add((401, f"/api/v1/tickets/{ticket}/draft"))
    open_ticket(inbox, "Expiry Customer")
    with inbox.page.expect_response(lambda r: r.url.endswith("/draft") and r.request.method == "PUT" and r.status == 200):
        inbox.reply_box.press_sequentially("Your parcel left")

    # The session cookie expires (the browser drops it at its Max-Age) while the agent types on.
    inbox.page.context.clear_cookies()
    with inbox.page.expect_response(lambda r: r.url.endswith("/draft") and r.status == 401):
        inbox.reply_box.press_sequentially(" our warehouse today")
    expect(inbox.sign_in_form).to_be_visible()
    shot(inbox.page, "session-ended")

    # Signing in again brings back the same ticket and the whole unsent text, and saves it.
    with inbox.page.expect_response(lambda r: r.url.endswith("/draft") and r.request.method == "PUT" and r.status == 200):
        inbox.sign_in(agent["email"], agent["password"])
    expect(inbox.sign_in_form).to_be_hidden()
    expect(inbox.conversation_title).to_have_text("Expiry Customer")
    expect(inbox.reply_box).to_have_value("Your parcel left our warehouse today")
    token = bridge.api("POST", "/api/v1/auth/login", {"email": agent["email"], "password": agent["password"]})["token"]
    assert bridge.api("GET", f"/api/v1/tickets/{ticket}/draft", token=token)["text"] == "Your parcel left our warehouse today"


def test_refetches_of_a_ticket_run_one_at_a_time_so_a_late_answer_never_shows_an_older_state(bridge, open_page, shot):
    agent = bridge.add_agent("Oda Order")
    user, ticket = customer(bridge, "Order Customer", "zero")
    inbox, _ = signed_in(open_page, bridge, agent)
    open_ticket(inbox, "Order Customer")
    expect(inbox.message("zero")).to_be_visible()

    # The refetch after "first" is held, with the server's answer of that moment (zero, first).
    held, later = [], []

    def messages(route):
        if not held:
            held.append((route, route.fetch()))
            return
        later.append(route.request.url)
        route.fulfill(response=route.fetch())
    inbox.page.route(f"**/api/v1/tickets/{ticket}/messages*", messages)
    row = inbox.ticket("Order Customer")
    bridge.line_message(user, "first")
    expect(row).to_contain_text("first")
    # The conversation's refetch may start after the list's (behind one already running on a busy
    # machine): wait for it while Playwright dispatches (the route handler runs during the wait).
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the refetch after the first message never came"
        inbox.page.wait_for_timeout(50)

    # "second" arrives while that answer is still on its way: no second refetch of the ticket
    # starts meanwhile (it would land first, and the late answer would then hide "second").
    bridge.line_message(user, "second")
    expect(row).to_contain_text("second")
    assert later == [], f"a refetch ran beside the held one: {later}"
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(inbox.message("second")).to_be_visible()
    expect(inbox.conversation.get_by_role("listitem")).to_have_count(3)
    wait_until(lambda: later or inbox.page.wait_for_timeout(50), what="the refetch after the held one")


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
    # Every control of the top bar is on the screen (none hidden off its right edge).
    outside = page.evaluate("""() => [...document.querySelector('.topbar').children]
        .filter((e) => e.getClientRects().length && !e.classList.contains('visually-hidden'))
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .map((e) => e.textContent || e.className)""")
    assert outside == [], outside
    inbox.ticket("佐々木 長い名前のお客様です").click()
    window = page.locator("reply-composer").get_by_role("note")
    expect(window).to_contain_text("WhatsApp: 返信期間は終了 — テンプレートのみ送れます")
    shot(page, "window-ja-360")
    window.get_by_role("button", name="テンプレートを送信…").click()
    expect(inbox.dialog("WhatsApp テンプレートを送信")).to_be_visible()
    shot(page, "template-ja-360")
    inbox.dialog("WhatsApp テンプレートを送信").get_by_role("button", name="キャンセル").click()
