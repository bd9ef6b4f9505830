"""The WhatsApp template picker in a real Chromium: the approved templates of the account the
ticket's customer wrote to are listed (from the WhatsApp stand-in's Graph API), a placeholder's value
shows in the live preview, and the send reaches the stand-in as a `template` with the body parameters.
Without a business account id the reason is shown and the name is typed by hand."""

import secrets
import urllib.parse

from playwright.sync_api import expect

from conftest import TEMPLATES_PHONE_ID, wait_until
from test_work import open_ticket, signed_in

TEMPLATES_API = "/api/v1/channels/whatsapp/templates"


def whatsapp_customer(bridge, name, account):
    """A customer whose last WhatsApp message is 30 hours old (only templates may go); returns the wa_id."""
    wa_id = "55119" + str(secrets.randbelow(10**8)).zfill(8)
    bridge.whatsapp_message(wa_id, "Where is my parcel?", name, hours_ago=30, account=account)
    wait_until(lambda: bridge.api("GET", "/api/v1/tickets?contact=" + urllib.parse.quote(name))["items"], what=f"{name}'s ticket")
    return wa_id


def open_template_dialog(inbox, name):
    open_ticket(inbox, name)
    window = inbox.composer.get_by_role("note")
    expect(window).to_contain_text("WhatsApp: reply window closed — only templates")
    window.get_by_role("button", name="Send a template…").click()
    return inbox.dialog("Send a WhatsApp template")


def test_the_picker_lists_the_approved_templates_and_sends_the_filled_one(bridge, open_page, shot):
    agent = bridge.add_agent("Tara Template")
    wa_id = whatsapp_customer(bridge, "Paula Picker", account="templates")
    inbox, _ = signed_in(open_page, bridge, agent)
    dialog = open_template_dialog(inbox, "Paula Picker")

    choice = dialog.get_by_label("Template", exact=True)
    # Only the approved ones, each with its language and category.
    expect(choice.locator("option")).to_have_text(["order_shipped · en_US · UTILITY", "pedido_enviado · pt_BR · UTILITY"])
    body = dialog.locator(".template-body")
    preview = dialog.locator(".template-preview")
    expect(body).to_have_text("Hi {{1}}, your order {{2}} has shipped.")

    choice.select_option(label="pedido_enviado · pt_BR · UTILITY")
    expect(body).to_have_text("Olá {{1}}, seu pedido foi enviado.")
    expect(dialog.get_by_label("Value for placeholder 2")).to_have_count(0)
    choice.select_option(label="order_shipped · en_US · UTILITY")

    dialog.get_by_label("Value for placeholder 1").fill("Paula")
    expect(preview).to_have_text("Hi Paula, your order {{2}} has shipped.")
    dialog.get_by_label("Value for placeholder 2").fill("#4521 <b>")
    expect(preview).to_have_text("Hi Paula, your order #4521 <b> has shipped.")
    expect(body).to_have_text("Hi {{1}}, your order {{2}} has shipped.")
    shot(inbox.page, "template-picker")
    dialog.get_by_role("button", name="Send template").click()
    expect(dialog).to_be_hidden()

    wait_until(lambda: bridge.whatsapp.templates_sent(), what="the template send at the WhatsApp stand-in")
    sent = bridge.whatsapp.sent[-1]
    assert sent["path"].endswith(f"/{TEMPLATES_PHONE_ID}/messages"), sent["path"]
    assert sent["body"]["type"] == "template" and sent["body"]["to"] == wa_id, sent["body"]
    assert sent["body"]["template"] == {
        "name": "order_shipped", "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Paula"}, {"type": "text", "text": "#4521 <b>"}]}],
    }, sent["body"]["template"]


def test_without_a_business_account_id_the_reason_shows_and_the_name_is_typed(bridge, open_page, shot):
    agent = bridge.add_agent("Uma Untemplated")
    whatsapp_customer(bridge, "Oscar Offlist", account="main")
    inbox, problems = signed_in(open_page, bridge, agent)
    problems.expected.add((409, TEMPLATES_API))
    dialog = open_template_dialog(inbox, "Oscar Offlist")

    expect(dialog.get_by_role("status")).to_contain_text("The template list is not available (set businessAccountId")
    expect(dialog.get_by_label("Template", exact=True)).to_be_hidden()
    shot(inbox.page, "template-fallback")
    sent_before = len(bridge.line.whatsapp_templates())
    dialog.get_by_label("Template name").fill("order_update")
    dialog.get_by_label("Language code").fill("pt_BR")
    dialog.get_by_label("Parameters (one per line)").fill("Oscar")
    dialog.get_by_role("button", name="Send template").click()
    expect(dialog).to_be_hidden()
    wait_until(lambda: len(bridge.line.whatsapp_templates()) > sent_before, what="the typed template send")
    template = bridge.line.whatsapp_templates()[-1]
    assert template == {"name": "order_update", "language": {"code": "pt_BR"},
                        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Oscar"}]}]}, template
