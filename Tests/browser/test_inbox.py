"""The agent web inbox in a real Chromium against a live bridge and a LINE stand-in."""

import secrets

from playwright.sync_api import expect

from conftest import wait_until
from pages import JA, InboxPage


def line_user():
    return "U" + secrets.token_hex(16)


def signed_in(open_page, bridge, agent, **options):
    page, problems = open_page(**options)
    inbox = InboxPage(page, bridge.base_url, JA if options.get("locale", "").startswith("ja") else None)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    return inbox, problems


def test_sign_in_wrong_password_then_right_then_sign_out(bridge, open_page, shot):
    agent = bridge.add_agent("Alice Sato")
    page, problems = open_page()
    problems.expected.add((401, "/api/v1/auth/session"))
    inbox = InboxPage(page, bridge.base_url)
    inbox.goto()
    expect(inbox.sign_in_form).to_be_visible()
    shot(page, "sign-in")

    inbox.sign_in(agent["email"], "not-the-password")
    expect(inbox.sign_in_error).to_have_text("Wrong e-mail or password.")
    shot(page, "wrong-password")

    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    shot(page, "inbox")

    inbox.sign_out()
    expect(inbox.sign_in_form).to_be_visible()
    page.reload()
    expect(inbox.sign_in_form).to_be_visible()  # the cookie is gone, not just the screen


def test_line_message_arrives_live_and_the_reply_goes_out(bridge, open_page, shot):
    agent = bridge.add_agent("Ben Ito")
    inbox, _ = signed_in(open_page, bridge, agent)
    inbox.choose_view("All")
    expect(inbox.page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    user = line_user()
    bridge.line_message(user, "Where is my order #1234?", display_name="Kenji Tanaka")
    row = inbox.ticket("Kenji Tanaka")
    expect(row).to_be_visible()  # no reload: the live feed brought it
    expect(row).to_contain_text("Where is my order #1234?")
    shot(inbox.page, "new-ticket")

    row.click()
    expect(inbox.conversation_title).to_have_text("Kenji Tanaka")
    expect(inbox.message("Where is my order #1234?")).to_be_visible()
    inbox.reply("It ships today.")
    wait_until(lambda: "It ships today." in bridge.line.pushed_texts(), what="the LINE push")
    # LINE has no delivery receipts (docs/platforms.md): the furthest a LINE reply gets is `sent`.
    expect(inbox.message("It ships today.")).to_contain_text("Sent")
    shot(inbox.page, "replied")

    # A second customer message on the open ticket shows up in the conversation by itself.
    bridge.line_message(user, "Thank you!")
    expect(inbox.message("Thank you!")).to_be_visible()


def test_a_whatsapp_reply_shows_delivered_then_read_from_the_receipts(bridge, open_page, shot):
    agent = bridge.add_agent("Dora Receipts")
    inbox, _ = signed_in(open_page, bridge, agent)
    inbox.choose_view("All")
    bridge.whatsapp_message("5511988880077", "Did my parcel leave?", "Rita Receipts")
    inbox.ticket("Rita Receipts").click()
    expect(inbox.message("Did my parcel leave?")).to_be_visible()
    inbox.reply("Yes, this morning.")
    wamid = wait_until(lambda: bridge.line.whatsapp_sent("Yes, this morning."), what="the WhatsApp send")
    expect(inbox.message("Yes, this morning.")).to_contain_text("Sent")
    # WhatsApp's signed receipts move the message on, live.
    bridge.whatsapp_status(wamid, "delivered", "5511988880077")
    expect(inbox.message("Yes, this morning.")).to_contain_text("Delivered")
    shot(inbox.page, "delivered")
    bridge.whatsapp_status(wamid, "read", "5511988880077")
    expect(inbox.message("Yes, this morning.")).to_contain_text("Read")


def test_japanese_ui_renders(bridge, open_page, shot):
    agent = bridge.add_agent("佐藤 花子")
    page, _ = open_page(locale="ja-JP")
    inbox = InboxPage(page, bridge.base_url, JA)
    inbox.goto()
    expect(inbox.sign_in_form).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    shot(page, "sign-in-ja")
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    name = "山田 太郎左衛門之助長い名前のお客様です"
    bridge.line_message(line_user(), "注文した商品がまだ届きません。確認していただけますか？", display_name=name)
    inbox.choose_view("すべて")
    inbox.ticket(name).click()
    expect(inbox.conversation_title).to_have_text(name)
    expect(inbox.views.get_by_role("button", name="未割り当て")).to_be_visible()
    shot(page, "inbox-ja")
    page.set_viewport_size({"width": 360, "height": 740})
    expect(inbox.conversation_title).to_be_visible()
    shot(page, "inbox-ja-360")


def test_keyboard_j_k_and_slash(bridge, open_page, shot):
    agent = bridge.add_agent("Chika Mori")
    for name in ("Keyboard One", "Keyboard Two", "Keyboard Three"):
        bridge.line_message(line_user(), f"Hello from {name}", display_name=name)
    inbox, _ = signed_in(open_page, bridge, agent)
    inbox.choose_view("All")
    expect(inbox.ticket("Keyboard Three")).to_be_visible()
    inbox.page.locator("body").click(position={"x": 5, "y": 300})  # focus on the page, not a field

    inbox.page.keyboard.press("j")
    first = inbox.selected_ticket
    expect(first).to_have_count(1)
    first_name = inbox.conversation_title.inner_text()
    inbox.page.keyboard.press("j")
    expect(inbox.conversation_title).not_to_have_text(first_name)
    inbox.page.keyboard.press("k")
    expect(inbox.conversation_title).to_have_text(first_name)
    shot(inbox.page, "keyboard")

    inbox.page.keyboard.press("/")
    expect(inbox.search).to_be_focused()
    inbox.page.keyboard.type("Keyboard Two")
    inbox.page.keyboard.press("Escape")
    inbox.page.keyboard.press("?")
    expect(inbox.help).to_be_visible()
    shot(inbox.page, "help")
