"""The e-mail channel from an agent's seat, in a real Chromium: a customer's mail (delivered to a
real Dovecot) is a ticket in the inbox; the agent answers from the composer; the answer leaves
through a real SMTP server threaded into the customer's conversation; the customer's reply to it
comes back into the same conversation."""

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from mail_servers import Mailbox, Relay, mail
from pages import WorkPage

EMAIL = """
  - kind: email
    id: support
    address: help@shop.example
    name: Shop Support
    imap:
      url: imaps://127.0.0.1:{imaps_port}
      username: bridge
      password: {imap_password}
      caFile: {imap_ca}
      pollInterval: 2s
email:
  url: smtp://127.0.0.1:{smtp_port}
  username: {smtp_user}
  password: {smtp_password}
  from: Shop News <news@shop.example>
  caFile: {smtp_ca}
"""


@pytest.fixture(scope="module")
def mail_bridge():
    mailbox, relay = Mailbox(), Relay()
    extra = EMAIL.format(
        imaps_port=mailbox.imaps_port, imap_password=mailbox.password, imap_ca=mailbox.ca_file,
        smtp_port=relay.port, smtp_user=relay.user, smtp_password=relay.password, smtp_ca=relay.ca_file)
    try:
        with running_bridge(prefix="browser-email-", extra_config=extra) as bridge:
            yield bridge, mailbox, relay
    finally:
        relay.stop()
        mailbox.stop()


def test_an_agent_answers_a_mail_and_the_customers_reply_comes_back_to_the_ticket(mail_bridge, open_page, shot):
    bridge, mailbox, relay = mail_bridge
    mailbox.deliver(mail("first.1@mail.example.com", "Where is my order?", "Hello,\n\nmy lamp has not arrived.\n\nAna"))
    agent = bridge.add_agent("Ken")
    page, _ = open_page()
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in("Ken")
    inbox.choose_view("All")
    inbox.ticket("Ana Lima").click()
    expect(inbox.message("my lamp has not arrived")).to_be_visible()
    expect(inbox.message("Where is my order?")).to_be_visible()
    expect(inbox.message("Where is my order?").get_by_text("E-mail", exact=True)).to_be_visible()

    inbox.reply("Hello Ana,\n\nyour lamp left our warehouse today.")
    wait_until(lambda: len(relay.received()) == 1, timeout=30, what="the reply at the SMTP server")
    envelope, sent = relay.received()[0]
    assert envelope["from"] == "help@shop.example" and envelope["to"] == ["ana@example.com"], envelope
    ticket = bridge.api("GET", "/api/v1/tickets?channel=email")["items"][0]["id"]
    assert sent["From"] == "Shop Support <help@shop.example>"
    assert sent["To"] == "ana@example.com"
    assert sent["Subject"] == f"Re: Where is my order? [#{ticket}]"
    assert sent["In-Reply-To"] == "<first.1@mail.example.com>"
    assert sent["References"] == "<first.1@mail.example.com>"
    assert sent.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Hello Ana,\n\nyour lamp left our warehouse today."
    assert "<p>Hello Ana,</p>" in sent.get_body(("html",)).get_content()

    # Ana answers from her mail program; the answer appears in the same conversation.
    mailbox.deliver(mail("answer.2@mail.example.com", sent["Subject"].replace("Re:", "Re: Re:", 1), "It came, thank you!",
                         in_reply_to=sent["Message-ID"], references=["<first.1@mail.example.com>"]))
    expect(inbox.message("It came, thank you!")).to_be_visible(timeout=30_000)
    assert len(bridge.api("GET", "/api/v1/tickets?channel=email")["items"]) == 1
    shot(page, "email-conversation")
