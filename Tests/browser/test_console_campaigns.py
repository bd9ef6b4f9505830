"""The console's Campaigns section in a real Chromium against the LINE stand-in: a campaign built on
the page shows its skip preview, runs with a live progress bar (its sends held by the stand-in and
let go by the test), is paused and resumed, completes, and its report equals the API's figures."""

import pytest
from playwright.sync_api import expect

import conftest
from conftest import wait_until
from console_campaigns import CampaignsConsole, GatedLineStandIn

LINE_CUSTOMERS = [("U" + f"{n:032d}", name) for n, name in
                  enumerate(["Aoi Sato", "Ben Kato", "Chie Ito", "Dai Mori"], start=7101)]


@pytest.fixture(scope="module")
def campaign_bridge():
    """A bridge of its own: its LINE stand-in holds pushes on request, and campaigns are claimed two
    recipients at a time, so a pause lands between two chunks the test controls."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conftest, "LineStandIn", GatedLineStandIn)
        patch.setattr(conftest, "CONFIG", conftest.CONFIG + "broadcast:\n  chunkSize: 2\n")
        with conftest.running_bridge(prefix="browser-campaigns-") as bridge:
            try:
                yield bridge
            finally:
                bridge.line.open()


def customers(bridge):
    """Four LINE customers and one on WhatsApp only (no LINE identity), all tagged `spring`."""
    for user_id, name in LINE_CUSTOMERS:
        bridge.line_message(user_id, "hello", display_name=name)
    bridge.whatsapp_message("15550107777", "hello", "Emi WhatsApp")
    for name in [name for _, name in LINE_CUSTOMERS] + ["Emi WhatsApp"]:
        contact = wait_until(lambda: _ticket(bridge, name), what=f"{name}'s ticket")["contact"]["id"]
        bridge.api("PATCH", f"/api/v1/contacts/{contact}", {"addTags": ["spring"]})


def _ticket(bridge, name):
    try:
        return bridge.ticket_of(name)
    except StopIteration:
        return None


def test_a_campaign_is_previewed_sent_paused_resumed_and_reported(campaign_bridge, open_page, shot):
    bridge = campaign_bridge
    customers(bridge)
    owner = bridge.add_agent("Mika Marketing", role="owner")
    page, _ = open_page()
    console = CampaignsConsole(page, bridge.base_url)
    console.goto()
    console.sign_in(owner["email"], owner["password"])
    console.open()

    console.new_campaign()
    console.field("Name").fill("Spring sale")
    console.field("Tags (any of)").fill("spring")
    console.field("Send on").select_option("line")
    console.field("Text").fill("Hi {{contact.name|there}}, our spring sale starts today!")
    console.field("E-mail subject").fill("Spring sale")

    # The preview: five contacts, four on LINE, one skipped for having no LINE identity.
    expect(console.preview).to_contain_text("5 recipients: 4 will be sent, 1 skipped.")
    expect(console.skips).to_contain_text("no identity on line and no e-mail address")
    expect(console.message_card("LINE")).to_contain_text("Hi Aoi Sato, our spring sale starts today!")
    expect(console.message_card("SMS")).to_contain_text("GSM-7")
    expect(console.message_card("E-mail")).to_contain_text("Subject: Spring sale")
    console.preview.scroll_into_view_if_needed()
    shot(page, "preview")
    preview = bridge.api("POST", "/api/v1/campaigns/preview", {
        "audience": {"tags": ["spring"]}, "channel": "line", "content": {"text": "Hi {{contact.name|there}}, our spring sale starts today!"}})
    assert (preview["total"], preview["willSend"], preview["skipped"]) == (5, 4, 1)
    assert bridge.api("GET", "/api/v1/campaigns")["items"] == []  # a preview keeps nothing

    # Sent: the first chunk's two pushes are held at LINE's door; the skip is settled already.
    line = bridge.line
    line.gating = True
    console.form.get_by_role("button", name="Send now").click()
    wait_until(lambda: line.held == 2, what="the first two pushes")
    expect(console.status("Running")).to_be_visible()
    console.expect_done(1, 5)

    console.action("Pause").click()
    expect(console.status("Paused")).to_be_visible()
    line.release(2)  # the two in flight finish; nothing more is claimed while paused
    console.expect_done(3, 5)
    campaign = bridge.api("GET", "/api/v1/campaigns")["items"][0]
    assert campaign["status"] == "paused" and campaign["progress"].get("pending") == 2
    assert line.held == 2
    shot(page, "paused")

    console.action("Resume").click()
    wait_until(lambda: line.held == 4, what="the last two pushes")
    expect(console.status("Running")).to_be_visible()
    console.expect_done(3, 5)
    shot(page, "in-progress", readme="console-campaign.png")
    line.release(2)
    expect(console.status("Completed")).to_be_visible()
    console.expect_done(5, 5)
    shot(page, "completed")

    # The report on the page is the API's.
    report = bridge.api("GET", f"/api/v1/campaigns/{campaign['id']}/report")
    for row in report["channels"]:
        name = {"line": "LINE", "-": "No address"}[row["channel"]]
        cells = console.report_row(name)
        assert cells == [name] + [str(row[key]) for key in ["sent", "delivered", "read", "failed", "skipped", "pending"]], cells
    # Its chart draws the same figures: one bar per channel and outcome, and the numbers behind it.
    bars, numbers = console.chart_numbers()
    outcomes = ["sent", "delivered", "read", "failed", "skipped"]
    assert len(bars) == len(report["channels"]) * len(outcomes), bars
    assert numbers == [[{"line": "LINE", "-": "No address"}[row["channel"]]] + [str(row[key]) for key in outcomes]
                       for row in report["channels"]], numbers
    assert "LINE · Sent: 4" in bars, bars
    line_row = next(row for row in report["channels"] if row["channel"] == "line")
    assert line_row["sent"] == 4 and sorted(p["body"]["to"] for p in line.pushes) == sorted(u for u, _ in LINE_CUSTOMERS)
    for reason in report["reasons"]:
        expect(console.page.get_by_role("table", name="Why skipped or failed")).to_contain_text(reason["reason"])

    # The recipients' CSV: every recipient with their state.
    with page.expect_download() as download:
        console.action("Recipients (CSV)").click()
    text = open(download.value.path(), encoding="utf-8", newline="").read()
    assert text.count("\r\n") == 6 and text.count(",sent,") == 4 and text.count(",skipped,") == 1, text


def test_the_campaigns_section_at_phone_width_in_japanese(campaign_bridge, open_page, shot):
    owner = campaign_bridge.add_agent("Kenji Owner", role="owner")
    page, _ = open_page(locale="ja-JP", width=360, height=780)
    console = CampaignsConsole(page, campaign_bridge.base_url)
    console.goto("campaigns/new")
    expect(page.get_by_role("form", name="コンソールにサインイン")).to_be_visible()
    page.get_by_label("メールアドレス").fill(owner["email"])
    page.get_by_label("パスワード").fill(owner["password"])
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("form", name="新しいキャンペーン")).to_be_visible()
    page.get_by_label("タグ（いずれか）", exact=True).fill("spring")
    page.get_by_label("本文", exact=True).fill("{{contact.name|お客様}}様、春のセールが始まりました！")
    expect(page.get_by_role("region", name="プレビュー")).to_contain_text("対象 5 件")
    expect(page.get_by_role("article", name="SMS")).to_contain_text("UCS-2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("region", name="プレビュー").scroll_into_view_if_needed()
    shot(page, "phone-ja")

    # Scheduled at 9:00 in New York (the page's own zone is Tokyo): the API holds 14:00 UTC. Then cancelled.
    page.get_by_label("名前", exact=True).fill("冬の予約キャンペーン")
    page.get_by_label("日時を指定して送る", exact=True).check()
    page.get_by_label("日付と時刻", exact=True).fill("2030-01-15T09:00")
    page.get_by_label("タイムゾーン", exact=True).select_option("America/New_York")
    page.get_by_role("button", name="予約する").click()
    expect(page.get_by_label("状態").filter(has_text="予約済み")).to_be_visible()
    campaign = next(c for c in campaign_bridge.api("GET", "/api/v1/campaigns")["items"] if c["name"] == "冬の予約キャンペーン")
    assert campaign["status"] == "scheduled" and campaign["scheduledAt"].startswith("2030-01-15T14:00:00"), campaign
    page.get_by_role("button", name="キャンペーンを中止").click()
    expect(page.get_by_label("状態").filter(has_text="中止")).to_be_visible()
    shot(page, "scheduled-cancelled-ja")
    assert campaign_bridge.api("GET", f"/api/v1/campaigns/{campaign['id']}")["status"] == "cancelled"


def test_the_email_opt_out_list_is_kept_from_the_campaigns_section(campaign_bridge, open_page, shot):
    """Addresses are added (in any case, kept in lower case) and removed on the page, as the API then
    lists them; the page at phone width in Japanese."""
    from console_campaigns import EmailOptOutsConsole

    bridge = campaign_bridge
    admin = bridge.add_agent("Rina Admin", role="admin")
    page, _ = open_page()
    console = EmailOptOutsConsole(page, bridge.base_url)
    console.goto()
    console.sign_in(admin["email"], admin["password"])
    console.open()
    console.open_opt_outs()
    expect(console.table).to_contain_text("No address has opted out.")

    console.add("Ann@Example.com")
    expect(page.get_by_role("status").filter(has_text="ann@example.com gets no more campaign e-mail.")).to_be_visible()
    console.add("bob@example.com")
    expect(console.table.get_by_role("row")).to_have_count(3)
    assert console.addresses() == ["ann@example.com", "bob@example.com"]
    expect(console.table).to_contain_text("Added here")
    assert [o["address"] for o in bridge.api("GET", "/api/v1/email-opt-outs")["items"]] == ["ann@example.com", "bob@example.com"]
    shot(page, "email-opt-outs")

    console.remove("bob@example.com")
    expect(page.get_by_role("status").filter(has_text="bob@example.com gets campaign e-mail again.")).to_be_visible()
    expect(console.table.get_by_role("row")).to_have_count(2)
    assert [o["address"] for o in bridge.api("GET", "/api/v1/email-opt-outs")["items"]] == ["ann@example.com"]

    # A customer's unsubscribe link: opening it changes nothing; its button does.
    from console_campaigns import unsubscribe_link
    customer, _ = open_page(width=360, height=640)
    customer.goto(unsubscribe_link(bridge, "Kim@Example.com"))
    expect(customer.get_by_role("heading", name="Unsubscribe from these e-mails")).to_be_visible()
    shot(customer, "unsubscribe-page")
    assert [o["address"] for o in bridge.api("GET", "/api/v1/email-opt-outs")["items"]] == ["ann@example.com"]
    customer.get_by_role("button", name="Unsubscribe / 配信停止").click()
    expect(customer.get_by_role("status")).to_have_text("You are unsubscribed")
    shot(customer, "unsubscribed")
    kim = next(o for o in bridge.api("GET", "/api/v1/email-opt-outs")["items"] if o["address"] == "kim@example.com")
    assert kim["source"] == "unsubscribe_link" and "createdBy" not in kim, kim
    page.reload()
    expect(console.table.get_by_role("row").filter(has_text="kim@example.com")).to_contain_text("Unsubscribe link")

    phone, _ = open_page(locale="ja-JP", width=360, height=780)
    ja = EmailOptOutsConsole(phone, bridge.base_url)
    ja.goto("campaigns/opt-outs")
    phone.get_by_label("メールアドレス").fill(admin["email"])
    phone.get_by_label("パスワード").fill(admin["password"])
    phone.get_by_role("button", name="サインイン").click()
    expect(phone.get_by_role("heading", name="メール配信停止", level=1)).to_be_visible()
    expect(phone.get_by_role("table", name="配信停止中のアドレス")).to_contain_text("ann@example.com")
    expect(phone.get_by_role("table", name="配信停止中のアドレス")).to_contain_text("ここで追加")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "email-opt-outs-phone-ja")
