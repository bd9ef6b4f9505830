"""The console's Automation section in a real Chromium: rules made, changed, ordered, turned off,
deleted and tried on a ticket, and a rule made on the page firing on a customer's next message."""

import re
import urllib.parse

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from console_automation import AutomationConsole


@pytest.fixture(scope="module")
def bridge():
    """A bridge of this module's own: the rules, canned responses, fields and views made here are
    settings every ticket sees, so the inbox's tests (which share the session's bridge) must not
    meet them."""
    with running_bridge(prefix="browser-automation-") as bridge:
        yield bridge


def automation_for(open_page, bridge, person, **options):
    page, problems = open_page(**options)
    console = AutomationConsole(page, bridge.base_url)
    console.goto()
    console.sign_in(person["email"], person["password"])
    console.expect_signed_in(person["name"])
    console.open()
    return console, problems


def rule_names_in_api(bridge):
    return [rule["name"] for rule in bridge.api("GET", "/api/v1/rules")["items"]]


def clear_rules(bridge):
    for rule in bridge.api("GET", "/api/v1/rules")["items"]:
        bridge.api("DELETE", f"/api/v1/rules/{rule['id']}")


def test_a_rule_made_on_the_page_tags_the_next_customer_message(bridge, open_page, shot):
    clear_rules(bridge)
    admin = bridge.add_agent("Ada Admin", role="admin")
    bridge.line_message("Urefund0000000000000000000000001", "hello, a question", display_name="Rie Refund")
    ticket = wait_until(lambda: next((t for t in bridge.api("GET", "/api/v1/tickets?limit=200&contact=" + urllib.parse.quote("Rie Refund"))["items"]), None),
                        what="the customer's ticket")
    console, _ = automation_for(open_page, bridge, admin)
    expect(console.page.get_by_text("No rules yet.")).to_be_visible()

    form = console.new_rule()
    form.get_by_label("Name").fill("Refunds")
    form.get_by_label("When", exact=True).select_option(label="A customer writes")
    form.get_by_label("Message contains").fill("refund")
    form.get_by_role("group", name="Channels").get_by_label("LINE").check()
    form.get_by_label("Action 1").select_option(label="Add tag")
    form.get_by_label("Tag", exact=True).fill("refund")
    form.get_by_role("button", name="Add action").click()
    form.get_by_label("Action 2").select_option(label="Set priority")
    form.get_by_label("Priority").select_option(label="Urgent")
    shot(console.page, "new-rule")
    form.get_by_role("button", name="Save rule").click()
    expect(console.status).to_have_text("Saved “Refunds”.")
    expect(console.rule("Refunds")).to_contain_text("text contains “refund”")
    [rule] = bridge.api("GET", "/api/v1/rules")["items"]
    assert rule["trigger"] == "message_received"
    assert rule["conditions"] == {"textContains": "refund", "channels": ["line"]}
    assert rule["actions"] == [{"type": "add_tag", "tag": "refund"}, {"type": "set_priority", "priority": "urgent"}]

    # Before the customer writes again, the trial says the rule would not fire (nothing changes).
    table = console.try_on(ticket["id"])
    expect(table.get_by_role("row", name="Refunds")).to_contain_text("No")
    assert bridge.api("GET", f"/api/v1/tickets/{ticket['id']}")["tags"] == []

    # The customer's next message (a signed LINE webhook) fires it.
    bridge.line_message("Urefund0000000000000000000000001", "I would like a REFUND for order 12")
    wait_until(lambda: bridge.api("GET", f"/api/v1/tickets/{ticket['id']}")["tags"] == ["refund"], what="the rule to tag the ticket")
    assert bridge.api("GET", f"/api/v1/tickets/{ticket['id']}")["priority"] == "urgent"

    # The page shows the effect on the ticket, and that the rule fires on it now.
    table = console.try_on(ticket["id"])
    expect(table.get_by_role("row", name="Refunds")).to_contain_text("Yes")
    facts = console.trial.get_by_role("definition")
    expect(facts.nth(0)).to_have_text("Rie Refund")
    expect(facts.nth(2)).to_have_text("Urgent")
    expect(facts.nth(3)).to_have_text("refund")
    shot(console.page, "trial")


def test_rules_are_changed_ordered_turned_off_and_deleted(bridge, open_page, shot):
    clear_rules(bridge)
    owner = bridge.add_agent("Oda Owner", role="owner")
    for name in ("First", "Second", "Third"):
        bridge.api("POST", "/api/v1/rules", {"name": name, "trigger": "ticket_created", "actions": [{"type": "add_tag", "tag": name.lower()}]})
    console, problems = automation_for(open_page, bridge, owner)
    expect(console.rules.get_by_role("listitem")).to_have_count(3)
    third = bridge.api("GET", "/api/v1/rules")["items"][2]["id"]
    problems.expected.add((422, f"/api/v1/rules/{third}"))  # the bad regular expression below

    # Buttons.
    console.page.get_by_role("button", name="Move Third up").click()
    expect(console.status).to_have_text("“Third” is now number 2.")
    assert rule_names_in_api(bridge) == ["First", "Third", "Second"]
    # Keyboard: Alt+↑ on the focused rule (focus stays on it, so it can move on).
    console.rule("Third").focus()
    console.page.keyboard.press("Alt+ArrowUp")
    expect(console.status).to_have_text("“Third” is now number 1.")
    expect(console.rule("Third")).to_be_focused()
    console.page.keyboard.press("Alt+ArrowDown")
    expect(console.status).to_have_text("“Third” is now number 2.")
    console.page.keyboard.press("Alt+ArrowUp")
    expect(console.status).to_have_text("“Third” is now number 1.")
    assert rule_names_in_api(bridge) == ["Third", "First", "Second"]
    # Drag: Second onto Third puts it first.
    console.rule("Second").drag_to(console.rule("Third"))
    expect(console.status).to_have_text("“Second” is now number 1.")
    assert rule_names_in_api(bridge) == ["Second", "Third", "First"]
    assert console.rule_names() == ["Second", "Third", "First"]

    # Off, then on.
    console.page.get_by_label("First is on").uncheck()
    expect(console.status).to_have_text("“First” is off.")
    assert [r["active"] for r in bridge.api("GET", "/api/v1/rules")["items"]] == [True, True, False]
    shot(console.page, "ordered")

    # Change: a stop rule with a regular expression; a bad one is refused in the API's words.
    console.page.get_by_role("button", name="Edit Third").click()
    form = console.form("Edit rule: Third")
    form.get_by_label("Name").fill("Third, changed")
    form.get_by_label("Message matches (regular expression)").fill("(")
    form.get_by_label("Stop: when this rule matches").check()
    form.get_by_role("button", name="Save rule").click()
    expect(form.get_by_role("alert")).to_contain_text("regular expression")
    assert rule_names_in_api(bridge) == ["Second", "Third", "First"]
    form.get_by_label("Message matches (regular expression)").fill("order|invoice")
    form.get_by_role("button", name="Save rule").click()
    expect(console.status).to_have_text("Saved “Third, changed”.")
    changed = bridge.api("GET", "/api/v1/rules")["items"][1]
    assert (changed["name"], changed["stop"], changed["conditions"]) == ("Third, changed", True, {"textMatches": "order|invoice"})
    expect(console.rule("Third, changed")).to_contain_text("Stops")

    # Delete (after confirming).
    console.page.once("dialog", lambda dialog: dialog.accept())
    console.page.get_by_role("button", name="Delete Second").click()
    expect(console.status).to_have_text("Deleted “Second”.")
    assert rule_names_in_api(bridge) == ["Third, changed", "First"]

    # At 360 px wide, in Japanese, it still reads and works.
    page, _ = open_page(locale="ja-JP", width=360, height=740)
    phone = AutomationConsole(page, bridge.base_url)
    phone.goto("automation")
    page.get_by_label("メールアドレス").fill(owner["email"])
    page.get_by_label("パスワード").fill(owner["password"])
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("heading", name="自動化ルール")).to_be_visible()
    page.get_by_role("button", name="First を上へ").click()
    expect(page.locator("console-automation").get_by_role("status")).to_have_text("「First」は 1 番目になりました。")
    assert rule_names_in_api(bridge) == ["First", "Third, changed"]
    shot(page, "phone-ja")


def test_an_agent_is_refused_the_automation_page_and_its_api(bridge, open_page, shot):
    agent = bridge.add_agent("Aya Agent")
    page, problems = open_page()
    console = AutomationConsole(page, bridge.base_url)
    console.goto("automation")
    console.sign_in(agent["email"], agent["password"])
    expect(console.refusal).to_be_visible()
    expect(page.get_by_role("heading", name="Automation rules")).to_have_count(0)
    shot(page, "agent-refused")
    headers = {"Origin": bridge.base_url}
    ticket = bridge.api("GET", "/api/v1/tickets?limit=1")["items"]
    before = rule_names_in_api(bridge)
    for method, path, body in [
        ("POST", "/api/v1/rules", {"name": "x", "trigger": "ticket_created", "actions": [{"type": "add_tag", "tag": "x"}]}),
        ("PUT", "/api/v1/rules/1", {"name": "x", "trigger": "ticket_created", "actions": [{"type": "add_tag", "tag": "x"}]}),
        ("PUT", "/api/v1/rules/order", {"ids": []}),
        ("POST", "/api/v1/rules/test", {"ticketId": ticket[0]["id"] if ticket else 1, "trigger": "message_received"}),
    ]:
        answer = page.request.fetch(bridge.base_url + path, method=method, data=body, headers=headers)
        assert answer.status == 403, (method, path, answer.status)
    assert rule_names_in_api(bridge) == before


def test_canned_responses_forbidden_words_and_webhooks_with_their_deliveries(bridge, open_page, shot):
    owner = bridge.add_agent("Rin Owner", role="owner")
    console, _ = automation_for(open_page, bridge, owner)
    page = console.page
    parts = page.get_by_role("navigation", name="Automation parts")

    parts.get_by_role("link", name="Replies and words").click()
    expect(page).to_have_url(re.compile(r"#/automation/replies$"))
    form = page.get_by_role("form", name="Add a canned response")
    form.get_by_label("Shortcut").fill("#thanks-all")
    form.get_by_label("Text", exact=True).fill("Thank you, {{contact.name|there}}!")
    form.get_by_role("button", name="Add canned response").click()
    expect(console.status).to_have_text("Added #thanks-all.")
    expect(page.get_by_role("table", name="Canned responses for everyone or a department")).to_contain_text("Thank you, {{contact.name|there}}!")
    assert any(c["shortcut"].lstrip("#") == "thanks-all" and "agentId" not in c for c in bridge.api("GET", "/api/v1/canned-responses")["items"])
    page.get_by_role("textbox", name="Word", exact=True).fill("stupid")
    page.get_by_role("button", name="Add word").click()
    expect(console.status).to_have_text("Added “stupid”.")
    assert "stupid" in bridge.api("GET", "/api/v1/forbidden-words")["items"]
    spam = page.get_by_role("region", name="Spam filter")
    state = bridge.api("GET", "/api/v1/spam")
    expect(spam).to_contain_text("95%")
    expect(spam).to_contain_text(f"{state['spamTickets']} marked spam, {state['hamTickets']} marked not spam")
    shot(page, "replies")
    spam.scroll_into_view_if_needed()
    shot(page, "spam")
    page.get_by_role("list", name="Forbidden words").get_by_role("button", name="Delete stupid").click()
    expect(console.status).to_have_text("Deleted “stupid”.")
    assert "stupid" not in bridge.api("GET", "/api/v1/forbidden-words")["items"]

    parts.get_by_role("link", name="Fields and views").click()
    form = page.get_by_role("form", name="Add a custom field")
    form.get_by_label("Label").fill("Order number")
    form.get_by_label("Key", exact=True).fill("order_no")
    form.get_by_label("Type").select_option(label="Choice")
    form.get_by_label("Options").fill("web, shop")
    form.get_by_role("button", name="Add field").click()
    expect(console.status).to_have_text("Added the field Order number.")
    assert any(f["key"] == "order_no" and f["options"] == ["web", "shop"] for f in bridge.api("GET", "/api/v1/fields")["items"])
    form = page.get_by_role("form", name="Add a shared view")
    form.get_by_label("Name").fill("VIP open")
    form.get_by_label("Filter", exact=True).fill("status=open&tag=vip")
    form.get_by_role("button", name="Add view").click()
    expect(console.status).to_have_text("Added the view VIP open.")
    expect(page.get_by_role("table", name="Ticket views shared with the team")).to_contain_text("status=open&tag=vip")
    assert any(v["name"] == "VIP open" and v["shared"] for v in bridge.api("GET", "/api/v1/views")["items"])
    shot(page, "fields-views")
    page.get_by_role("button", name="Delete VIP open").click()
    expect(console.status).to_have_text("Deleted “VIP open”.")
    assert not any(v["name"] == "VIP open" for v in bridge.api("GET", "/api/v1/views")["items"])

    parts.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="Add a webhook")
    form.get_by_label("URL").fill("http://127.0.0.1:9/crm")
    form.get_by_role("group", name="Events").get_by_label("ticket.updated").uncheck()
    form.get_by_role("button", name="Add webhook").click()
    expect(console.status).to_have_text("Webhook added.")
    expect(page.get_by_role("note")).to_contain_text("shown only now")
    [hook] = [w for w in bridge.api("GET", "/api/v1/webhooks")["items"] if w["url"] == "http://127.0.0.1:9/crm"]
    assert sorted(hook["events"]) == ["message.created", "ticket.created"]
    bridge.line_message("Uwebhook000000000000000000000001", "hello crm", display_name="Kai Hook")
    wait_until(lambda: bridge.api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries")["items"], what="a delivery")
    page.get_by_role("button", name="Deliveries to http://127.0.0.1:9/crm").click()
    deliveries = page.get_by_role("table", name="The latest deliveries, newest first")
    expect(deliveries.get_by_role("row").filter(has_text="message.created")).to_have_count(1)
    before = bridge.api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries")["items"]
    message = next(d for d in before if d["event"] == "message.created")
    deliveries.get_by_role("button", name=f"Redeliver message.created (delivery {message['id']})").click()
    expect(console.status).to_have_text("message.created is queued again.")
    after = bridge.api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries")["items"]
    assert len(after) == len(before) + 1 and after[0]["event"] == "message.created" and after[0]["id"] > message["id"]
    expect(deliveries.get_by_role("row").filter(has_text="message.created")).to_have_count(2)
    shot(page, "webhooks")

    # Back to the rules with the browser's back button.
    page.go_back()
    page.go_back()
    page.go_back()
    expect(page.get_by_role("heading", name="Automation rules")).to_be_visible()


def test_a_canned_response_is_edited_a_field_deleted_and_the_spam_threshold_set(bridge, open_page, shot):
    owner = bridge.add_agent("Ume Owner", role="owner")
    greet = bridge.api("POST", "/api/v1/canned-responses", {"shortcut": "greet", "text": "Hello!", "mine": False})
    console, problems = automation_for(open_page, bridge, owner)
    page = console.page
    parts = page.get_by_role("navigation", name="Automation parts")

    # Edit a canned response: the same form, filled in.
    parts.get_by_role("link", name="Replies and words").click()
    page.get_by_role("button", name="Edit greet", exact=True).click()
    form = page.get_by_role("form", name="Edit #greet")
    expect(form.get_by_label("Text", exact=True)).to_have_value("Hello!")
    form.get_by_label("Shortcut").fill("#welcome")
    form.get_by_label("Text", exact=True).fill("Welcome back, {{contact.name|there}}!")
    shot(page, "canned-edit")
    form.get_by_role("button", name="Save changes").click()
    expect(console.status).to_have_text("Saved #welcome.")
    expect(page.get_by_role("form", name="Add a canned response")).to_be_visible()
    [edited] = [c for c in bridge.api("GET", "/api/v1/canned-responses")["items"] if c["id"] == greet["id"]]
    assert edited["shortcut"] == "welcome" and edited["text"] == "Welcome back, {{contact.name|there}}!" and "departmentId" not in edited
    expect(page.get_by_role("table", name="Canned responses for everyone or a department")).to_contain_text("Welcome back")

    # The spam threshold: set here for every process, then back to bridge.yaml's.
    spam = page.get_by_role("region", name="Spam filter")
    threshold = spam.get_by_role("form", name="Spam threshold")
    threshold.get_by_label("Threshold (%)").fill("90")
    threshold.get_by_role("button", name="Save threshold").click()
    expect(console.status).to_have_text("The spam threshold is now 90%.")
    state = bridge.api("GET", "/api/v1/spam")
    assert state["threshold"] == 0.9 and state["thresholdSource"] == "console" and state["configuredThreshold"] == 0.95
    expect(spam).to_contain_text("90% (set here)")
    spam.scroll_into_view_if_needed()
    shot(page, "spam-threshold")
    problems.expected.add((422, "/api/v1/spam"))
    threshold.get_by_label("Threshold (%)").fill("40")
    threshold.get_by_role("button", name="Save threshold").click()
    expect(console.status).to_contain_text("above 0.5")
    assert bridge.api("GET", "/api/v1/spam")["threshold"] == 0.9
    spam.get_by_role("button", name="Use bridge.yaml’s (95%)").click()
    expect(console.status).to_have_text("The spam threshold is now 95%.")
    assert bridge.api("GET", "/api/v1/spam")["thresholdSource"] == "config"

    # Delete a custom field (after a confirm); one a view uses is refused, naming the view.
    legacy = bridge.api("POST", "/api/v1/fields", {"key": "legacy_code", "label": "Legacy code", "type": "text"})
    used = bridge.api("POST", "/api/v1/fields", {"key": "region", "label": "Region", "type": "text"})
    bridge.api("POST", "/api/v1/views", {"name": "North", "filter": "field.region=north", "shared": True})
    parts.get_by_role("link", name="Fields and views").click()
    fields = page.get_by_role("table", name="Custom fields on tickets and contacts")
    problems.expected.add((409, f"/api/v1/fields/{used['id']}"))
    page.once("dialog", lambda dialog: dialog.accept())
    fields.get_by_role("button", name="Delete Region").click()
    expect(console.status).to_contain_text('view "North"')
    page.once("dialog", lambda dialog: dialog.dismiss())
    fields.get_by_role("button", name="Delete Legacy code").click()
    assert any(f["id"] == legacy["id"] for f in bridge.api("GET", "/api/v1/fields")["items"])
    page.once("dialog", lambda dialog: dialog.accept())
    fields.get_by_role("button", name="Delete Legacy code").click()
    expect(console.status).to_have_text("Deleted “Legacy code”.")
    expect(fields).not_to_contain_text("Legacy code")
    keys = [f["key"] for f in bridge.api("GET", "/api/v1/fields")["items"]]
    assert "legacy_code" not in keys and "region" in keys
    shot(page, "field-deleted")


def test_the_new_automation_controls_in_japanese_on_a_phone(bridge, open_page, shot):
    owner = bridge.add_agent("Yui Owner", role="owner")
    bridge.api("POST", "/api/v1/canned-responses", {"shortcut": "otsukare", "text": "お疲れさまです", "mine": False})
    page, _ = open_page(locale="ja-JP", width=360, height=780)
    phone = AutomationConsole(page, bridge.base_url)
    phone.goto("automation/replies")
    page.get_by_label("メールアドレス").fill(owner["email"])
    page.get_by_label("パスワード").fill(owner["password"])
    page.get_by_role("button", name="サインイン").click()
    page.get_by_role("button", name="otsukare を編集").click()
    expect(page.get_by_role("form", name="#otsukare を編集")).to_be_visible()
    shot(page, "canned-edit-phone-ja")
    spam = page.get_by_role("region", name="迷惑メッセージフィルター")
    spam.get_by_role("form", name="迷惑判定のしきい値").scroll_into_view_if_needed()
    shot(page, "spam-phone-ja")
