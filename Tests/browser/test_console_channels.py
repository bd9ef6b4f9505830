"""The console's Channels section in a real Chromium: an owner adds a LINE account on the page and
LINE's webhooks to the URL the page shows are taken at once (a wrongly signed one refused and
counted on the page), disables it, and the page works on a phone and in Japanese."""

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect

from console_channels import ChannelsConsole


def post_line(url, secret, text):
    """POSTs a LINE text-message webhook to `url`, signed with `secret`; the HTTP status."""
    body = json.dumps({"destination": "Ushop", "events": [{
        "type": "message", "timestamp": int(time.time() * 1000), "webhookEventId": f"01CONSOLE{secrets.token_hex(6)}",
        "deliveryContext": {"isRedelivery": False}, "replyToken": f"reply-{secrets.token_hex(4)}", "mode": "active",
        "source": {"type": "user", "userId": "U" + secrets.token_hex(16)},
        "message": {"id": secrets.token_hex(6), "type": "text", "quoteToken": "q", "text": text}}]}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("x-line-signature", base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def signed_in(open_page, bridge, person, **options):
    page, problems = open_page(**options)
    console = ChannelsConsole(page, bridge.base_url)
    console.goto("channels")
    console.sign_in(person["email"], person["password"])
    console.open()
    return console, problems


def test_an_owner_adds_a_line_account_and_its_webhooks_are_taken_without_a_restart(bridge, open_page, shot):
    owner = bridge.add_agent("Cora Channels", role="owner")
    console, problems = signed_in(open_page, bridge, owner)
    page = console.page
    # bridge.yaml's accounts are listed read-only.
    main = console.card("LINE", "main")
    expect(main).to_contain_text("bridge.yaml (read-only)")
    expect(main.get_by_role("button", name="Edit")).to_have_count(0)

    account_id = "shop" + secrets.token_hex(2)
    secret = "console-line-secret-" + secrets.token_hex(8)
    console.add_line_account(account_id, secret, "console-line-token-" + secrets.token_hex(8), bridge.line.base_url)
    expect(console.status()).to_have_text(f"line/{account_id} is added and receives webhooks now.")
    card = console.card("LINE", account_id)
    expect(card).to_contain_text("Added here")
    expect(console.fact(card, "Secrets", "Channel secret")).to_have_text(f"Set, ending in {secret[-4:]}")
    expect(card).not_to_contain_text(secret)
    url = console.webhook_url(card)
    assert url == f"{bridge.base_url}/webhooks/line/{account_id}"

    # The URL the page shows takes LINE's signed webhooks now; a wrongly signed one is refused.
    assert post_line(url, secret, "hello from the new account") == 200
    assert post_line(url, "not-the-secret", "forged") == 401
    page.get_by_role("button", name="Refresh").click()
    card = console.card("LINE", account_id)
    expect(console.fact(card, "Activity", "Refused for a bad signature (last hour)")).to_have_text("1")
    expect(console.fact(card, "Activity", "Last webhook")).not_to_have_text("None yet")
    expect(console.fact(card, "Activity", "Waiting to be sent")).to_have_text("0")
    # Tall enough for bridge.yaml's three accounts and the new one (README shows this one).
    page.set_viewport_size({"width": 1280, "height": 1500})
    card.scroll_into_view_if_needed()
    shot(page, "added", readme="console-channels.png")

    # Disabled: its webhooks are refused, without a restart.
    card.get_by_role("button", name="Disable").click()
    expect(console.status()).to_have_text(f"line/{account_id} is disabled: its webhooks are refused.")
    expect(console.card("LINE", account_id)).to_contain_text("Disabled")
    assert post_line(url, secret, "still there?") == 403
    console.card("LINE", account_id).get_by_role("button", name="Enable").click()
    expect(console.card("LINE", account_id)).to_contain_text("Enabled")
    assert post_line(url, secret, "back") == 200
    assert not problems.problems


def test_an_account_is_edited_and_a_test_message_sent_from_the_page(bridge, open_page, shot):
    owner = bridge.add_agent("Eda Edit", role="admin")
    account_id = "edit" + secrets.token_hex(2)
    secret = "edit-line-secret-" + secrets.token_hex(8)
    bridge.api("POST", "/api/v1/channel-accounts", {"kind": "line", "id": account_id, "fields": {
        "channelSecret": secret, "accessToken": "edit-token-" + secrets.token_hex(8), "apiBaseURL": "http://127.0.0.1:9"}})
    console, _ = signed_in(open_page, bridge, owner)
    page = console.page
    console.card("LINE", account_id).get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name=f"Edit line/{account_id}")
    expect(form.get_by_label("Channel secret")).to_have_value("")
    # A new address needs the secrets again (else an edit of the address alone would send the
    # stored tokens elsewhere): entered here; a secret left empty otherwise keeps its value.
    form.get_by_label("API base URL").fill(bridge.line.base_url)
    form.get_by_label("Channel secret").fill(secret)
    form.get_by_label("Access token").fill("edit-token-" + secrets.token_hex(8))
    shot(page, "edit")
    form.get_by_role("button", name="Save").click()
    expect(console.status()).to_have_text(f"line/{account_id} is saved.")
    # The account takes webhooks signed with its secret.
    card = console.card("LINE", account_id)
    assert post_line(console.webhook_url(card), secret, "after the edit") == 200

    card.get_by_text("Send a test message").click()
    test = card.get_by_role("form", name=f"Test message from line/{account_id}")
    test.get_by_label("Recipient id").fill("U" + "1" * 32)
    test.get_by_role("button", name="Send test").click()
    expect(test.get_by_role("status")).to_have_text("Sent: the platform accepted it.")
    assert "Test message from the bridge" in bridge.line.pushed_texts()
    shot(page, "test-message")


def test_the_channels_page_on_a_phone_in_japanese(bridge, open_page, shot):
    owner = bridge.add_agent("Kana Sato", role="owner")
    page, _ = open_page(width=360, height=780)
    console = ChannelsConsole(page, bridge.base_url)
    console.goto("channels")
    console.sign_in(owner["email"], owner["password"])
    console.open()
    page.get_by_label("Language").select_option("ja")
    expect(page.get_by_role("heading", name="チャネル", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="アカウントを追加")).to_be_visible()
    card = page.get_by_role("article", name="LINE · main")
    expect(card.get_by_label("Webhook URL")).to_be_visible()
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "phone-ja")
