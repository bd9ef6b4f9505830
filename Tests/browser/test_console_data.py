"""The console's Health and Data sections in a real Chromium: an owner reads the bridge's health,
sets the retention periods, exports and erases a customer (whose tickets are then gone from the
inbox API), and finds those actions in the audit log, whose CSV matches the API."""

import csv
import io
import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from conftest import wait_until
from console_data import DataConsole, HealthConsole


def spreadsheet_safe(value):
    """A value as console/ui.js's csv() writes it: text a spreadsheet would run as a formula
    (starting with = + - @, a tab or a CR; plain numbers aside) gets a leading '."""
    text = "" if value is None else str(value)
    if re.match(r"^[=+\-@\t\r]", text) and not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return "'" + text
    return text


def status_of(bridge, path):
    request = urllib.request.Request(bridge.base_url + path, headers={"Authorization": f"Bearer {bridge.admin_token}"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            return 200
    except urllib.error.HTTPError as error:
        return error.code


def ticket_named(bridge, name):
    """The ticket of the contact named `name`, or None while there is none (yet)."""
    return next((t for t in bridge.api("GET", "/api/v1/tickets?limit=200")["items"] if t["contact"].get("displayName") == name), None)


def signed_in(open_page, bridge, person, cls, **options):
    page, _ = open_page(**options)
    console = cls(page, bridge.base_url)
    console.goto()
    console.sign_in(person["email"], person["password"])
    console.expect_signed_in(person["name"])
    return console


def test_an_owner_reads_the_bridges_health(bridge, open_page, shot):
    owner = bridge.add_agent("Olga Health", role="owner")
    bridge.line_message("Uhealth0000000000000000000000001", "hello", display_name="Hana Health")
    wait_until(lambda: ticket_named(bridge, "Hana Health"), what="the ticket")
    system = bridge.api("GET", "/api/v1/system")
    health = signed_in(open_page, bridge, owner, HealthConsole)
    health.open()
    expect(health.fact("Version")).to_have_text(system["version"])
    expect(health.fact("Database")).to_have_text("SQLite")
    expect(health.fact("Database size")).to_contain_text("B")
    expect(health.fact("Uptime (this process)")).to_contain_text("min")
    expect(health.queues.get_by_role("row")).to_have_count(6)
    expect(health.queues.get_by_role("row", name="Replies to send")).to_be_visible()
    expect(health.errors).to_be_visible()
    expect(health.metrics_link).to_have_attribute("href", "/metrics")
    shot(health.page, "health")
    small = signed_in(open_page, bridge, owner, HealthConsole, width=360, height=740)
    small.open()
    expect(small.queues).to_be_visible()
    shot(small.page, "health-360")


def test_an_owner_sets_retention_exports_and_erases_a_contact_and_finds_each_in_the_audit_log(bridge, open_page, shot, tmp_path):
    owner = bridge.add_agent("Olga Data", role="owner")
    bridge.line_message("Uerase00000000000000000000000001", "please forget me", display_name="Erin Erase")
    bridge.line_message("Ukeep000000000000000000000000001", "keep me", display_name="Kai Keep")
    erin_ticket = wait_until(lambda: ticket_named(bridge, "Erin Erase"), what="Erin's ticket")
    kai_ticket = wait_until(lambda: ticket_named(bridge, "Kai Keep"), what="Kai's ticket")
    erin = erin_ticket["contact"]["id"]

    data = signed_in(open_page, bridge, owner, DataConsole)
    data.open()
    # Keep forever until set.
    expect(data.retention_section().get_by_label("Keep message text for (days)")).to_have_value("")
    data.set_retention(365, 30)
    assert bridge.api("GET", "/api/v1/data/retention") == {"messagesDays": 365, "attachmentsDays": 30}

    card = data.find_contact("Erin")
    expect(card).to_contain_text("Erin Erase")
    expect(card).to_contain_text(f"Contact id: {erin}")
    with data.page.expect_download() as download:
        data.export_link().click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["contactId"] == erin
    assert exported["tables"]["contact"][0]["display_name"] == "Erin Erase"
    assert "please forget me" in [m["text"] for m in exported["tables"]["messages"]]
    shot(data.page, "contact")

    status = data.erase()
    expect(status).to_have_text(f"Contact #{erin} erased: 1 tickets, 1 messages, 0 attachments.")
    # Gone from the inbox API; Kai is still there.
    assert status_of(bridge, f"/api/v1/tickets/{erin_ticket['id']}") == 404
    assert status_of(bridge, f"/api/v1/contacts/{erin}") == 404
    assert not [t for t in bridge.api("GET", "/api/v1/tickets?limit=200")["items"] if t["id"] == erin_ticket["id"]]
    assert status_of(bridge, f"/api/v1/tickets/{kai_ticket['id']}") == 200

    # The audit log shows the three actions (the export too: it hands a customer's data out),
    # newest first, with who did them.
    rows = data.audit_table.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("POST /api/v1/data/erasures")
    expect(rows.nth(1)).to_contain_text("Olga Data (owner)")
    expect(rows.nth(1)).to_contain_text(str(erin))
    expect(rows.nth(2)).to_contain_text("GET /api/v1/data/contacts/{id}/export")
    expect(rows.nth(2)).to_contain_text(str(erin))
    expect(rows.nth(3)).to_contain_text("PUT /api/v1/data/retention")
    expect(rows.nth(3)).to_contain_text("messagesDays=365, attachmentsDays=30")
    shot(data.page, "audit-log")

    # Its CSV is the API's log.
    with data.page.expect_download() as download:
        data.audit_csv_button().click()
    table = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    api = bridge.api("GET", "/api/v1/audit-log?limit=100")["items"]
    head = ["id", "at", "actorName", "actorRole", "method", "route", "targetId", "summary", "status"]
    assert table[0] == head
    assert table[1:] == [[spreadsheet_safe(entry.get(key, "")) for key in head] for entry in api]
    assert [entry["route"] for entry in api][:3] == ["/api/v1/data/erasures", "/api/v1/data/contacts/{id}/export", "/api/v1/data/retention"]
    # Nothing secret reached it: the agents were added with passwords.
    assert "pw-" not in json.dumps(api)

    small = signed_in(open_page, bridge, owner, DataConsole, width=360, height=740)
    small.open()
    expect(small.audit_table).to_be_visible()
    shot(small.page, "data-360")

    # In Japanese, at 360 px.
    ja = signed_in(open_page, bridge, owner, DataConsole, width=360, height=740)
    ja.open()
    ja.page.get_by_role("combobox", name="Language").select_option("ja")
    expect(ja.page.get_by_role("heading", name="データ", level=1)).to_be_visible()
    expect(ja.page.get_by_role("table", name="監査ログ")).to_be_visible()
    shot(ja.page, "data-ja-360")
