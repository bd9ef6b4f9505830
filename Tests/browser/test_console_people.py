"""The console's People section in a real Chromium: departments, agents (added with a password,
settings changed, password reset, signed out everywhere, deactivated and back), business hours
with holidays; and an agent refused the page."""

import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from conftest import running_bridge, wait_until
from console_automation import PeopleConsole


@pytest.fixture(scope="module")
def bridge():
    """A bridge of this module's own: the departments, agents and business hours made here are
    settings every ticket sees, so the inbox's tests (which share the session's bridge) must not
    meet them."""
    with running_bridge(prefix="browser-people-") as bridge:
        yield bridge


def can_log_in(bridge, email, password):
    request = urllib.request.Request(bridge.base_url + "/api/v1/auth/login", data=json.dumps({"email": email, "password": password}).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["token"]
    except urllib.error.HTTPError:
        return None


def agent_named(bridge, name):
    return next(a for a in bridge.api("GET", "/api/v1/agents")["items"] if a["name"] == name)


def test_an_owner_manages_departments_agents_and_business_hours(bridge, open_page, shot):
    owner = bridge.add_agent("Pia Owner", role="owner")
    page, problems = open_page()
    problems.expected.add((404, "/api/v1/business-hours"))  # none set yet on a fresh bridge
    console = PeopleConsole(page, bridge.base_url)
    console.goto()
    console.sign_in(owner["email"], owner["password"])
    console.expect_signed_in(owner["name"])
    console.open()

    page.get_by_label("Department name").fill("Returns")
    page.get_by_role("button", name="Add department").click()
    expect(console.status).to_have_text("Added the department Returns.")
    returns = next(d["id"] for d in bridge.api("GET", "/api/v1/departments")["items"] if d["name"] == "Returns")

    page.get_by_role("button", name="Add agent").first.click()
    form = page.get_by_role("form", name="Add an agent")
    form.get_by_label("Name").fill("Nao Newcomer")
    form.get_by_label("E-mail").fill("nao.newcomer@example.com")
    form.get_by_label("Password").fill("first-password-1")
    form.get_by_label("Maximum tickets").fill("3")
    form.get_by_role("group", name="Departments").get_by_label("Returns").check()
    shot(page, "add-agent")
    form.get_by_role("button", name="Add agent").click()
    expect(console.status).to_have_text("Added Nao Newcomer.")
    nao = agent_named(bridge, "Nao Newcomer")
    assert (nao["role"], nao["maxTickets"], nao["departments"], nao["active"]) == ("agent", 3, [returns], True)
    assert can_log_in(bridge, "nao.newcomer@example.com", "first-password-1")

    # Settings: role, maximum, restrictions.
    page.get_by_role("button", name="Edit Nao Newcomer").click()
    panel = console.panel("Nao Newcomer")
    settings = panel.get_by_role("form", name="Settings of Nao Newcomer")
    settings.get_by_label("Maximum tickets").fill("7")
    settings.get_by_label("Sees only its departments").check()
    settings.get_by_role("button", name="Save").click()
    expect(console.status).to_have_text("Saved Nao Newcomer.")
    nao = agent_named(bridge, "Nao Newcomer")
    assert (nao["role"], nao["maxTickets"], nao["departmentsOnly"], nao["answerAssignedOnly"]) == ("agent", 7, True, False)
    # Restrictions are for agents: choosing Admin clears and disables them (the API refuses both).
    settings.get_by_label("Role").select_option(label="Admin")
    expect(settings.get_by_label("Sees only its departments")).to_be_disabled()
    settings.get_by_role("button", name="Save").click()
    expect(console.status).to_have_text("Saved Nao Newcomer.")
    nao = agent_named(bridge, "Nao Newcomer")
    assert (nao["role"], nao["departmentsOnly"]) == ("admin", False)
    expect(console.agent_row("Nao Newcomer")).to_contain_text("Admin")

    # A new password: the old one and the old sessions stop working.
    session = can_log_in(bridge, "nao.newcomer@example.com", "first-password-1")
    reset = panel.get_by_role("form", name="Reset the password of Nao Newcomer")
    reset.get_by_label("New password").fill("second-password-2")
    reset.get_by_role("button", name="Reset password").click()
    expect(console.status).to_contain_text("is reset")
    assert not can_log_in(bridge, "nao.newcomer@example.com", "first-password-1")
    fresh = can_log_in(bridge, "nao.newcomer@example.com", "second-password-2")
    assert fresh
    assert_refused(bridge, session)

    # Sign out everywhere, after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Sign out everywhere").click()
    expect(console.status).to_have_text("Every session and token of Nao Newcomer ended.")
    assert_refused(bridge, fresh)

    # Deactivate keeps the agent (and its name), then back.
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Deactivate").click()
    expect(console.status).to_have_text("Nao Newcomer is deactivated.")
    assert agent_named(bridge, "Nao Newcomer")["active"] is False
    assert not can_log_in(bridge, "nao.newcomer@example.com", "second-password-2")
    expect(console.agent_row("Nao Newcomer")).to_contain_text("Deactivated")
    shot(page, "deactivated")
    panel.get_by_role("button", name="Reactivate").click()
    expect(console.status).to_have_text("Nao Newcomer can sign in again.")
    assert agent_named(bridge, "Nao Newcomer")["active"] is True

    # Business hours with a holiday.
    hours = console.hours
    hours.get_by_label("Time zone").fill("Asia/Tokyo")
    hours.get_by_label("Monday opens").fill("09:00")
    hours.get_by_label("Monday closes").fill("18:00")
    hours.get_by_label("Holidays").fill("2026-12-31\n2027-01-01")
    hours.get_by_role("button", name="Save business hours").click()
    expect(console.status).to_have_text("Business hours saved.")
    saved = bridge.api("GET", "/api/v1/business-hours")
    assert saved["timeZone"] == "Asia/Tokyo"
    assert saved["weekly"] == {"mon": [["09:00", "18:00"]]}
    assert saved["holidays"] == ["2026-12-31", "2027-01-01"]
    hours.scroll_into_view_if_needed()
    shot(page, "hours")

    # At 360 px wide, in Japanese: the agents' table scrolls on its own, and a panel still works.
    phone, _ = open_page(locale="ja-JP", width=360, height=740)
    phone.goto(bridge.base_url + "/console/#/people")
    phone.get_by_label("メールアドレス").fill(owner["email"])
    phone.get_by_label("パスワード").fill(owner["password"])
    phone.get_by_role("button", name="サインイン").click()
    expect(phone.get_by_role("heading", name="メンバー", exact=True)).to_be_visible()
    phone.get_by_role("button", name="Nao Newcomer を編集").click()
    expect(phone.get_by_role("region", name="Nao Newcomer")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "phone-ja")


def test_a_channel_accounts_new_tickets_go_to_the_department_chosen_for_it(bridge, open_page, shot):
    """People: the department a channel account's new tickets open in, and a department's own
    business hours (then back to the default ones)."""
    owner = bridge.add_agent("Rui Owner", role="owner")
    billing = bridge.api("POST", "/api/v1/departments", {"name": "Billing"})["id"]
    # Cai has the lower id and no department: without the route a new ticket would go to Cai.
    cai = bridge.add_agent("Cai Anywhere")
    bea = bridge.add_agent("Bea Billing", departments=[billing])
    for agent in (cai, bea):
        bridge.api("PATCH", f"/api/v1/agents/{agent['id']}", {"availability": "online"})
    page, problems = open_page()
    console = PeopleConsole(page, bridge.base_url)
    console.goto("people")
    console.sign_in(owner["email"], owner["password"])
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()

    route = console.route_of("line/main")
    expect(route).to_have_value("")
    route.select_option(label="Billing")
    expect(console.status).to_have_text("New tickets from line/main now go to Billing.")
    listed = next(a for a in bridge.api("GET", "/api/v1/channel-accounts")["items"] if a["key"] == "line/main")
    assert listed["departmentId"] == billing
    expect(console.departments.get_by_role("row").filter(has_text="Billing")).to_contain_text("line/main")
    page.get_by_role("region", name="Where new tickets go").scroll_into_view_if_needed()
    shot(page, "routing")

    # The next customer's new ticket opens in Billing and goes to Bea, not to Cai.
    bridge.line_message("U" + "b" * 32, "a question about my invoice")
    ticket = wait_until(lambda: next((t for t in bridge.api("GET", "/api/v1/tickets")["items"] if t.get("agentId")), None),
                        timeout=30, what="the new ticket distributed")
    assert (ticket["departmentId"], ticket["agentId"]) == (billing, bea["id"])

    # Billing's own hours, then back to the default ones.
    page.get_by_role("button", name="Business hours of Billing").click()
    form = console.department_hours("Billing")
    expect(form).to_contain_text("Billing follows the default hours")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("Tuesday opens").fill("10:00")
    form.get_by_label("Tuesday closes").fill("16:00")
    form.get_by_role("button", name="Save business hours").click()
    expect(console.status).to_have_text("Business hours of Billing saved.")
    own = bridge.api("GET", f"/api/v1/departments/{billing}/hours")
    assert (own["timeZone"], own["weekly"].get("tue")) == ("Europe/Paris", [["10:00", "16:00"]])
    expect(console.departments.get_by_role("row").filter(has_text="Billing")).to_contain_text("Its own")
    form.scroll_into_view_if_needed()
    shot(page, "department-hours")
    form.get_by_role("button", name="Use the default hours").click()
    expect(console.status).to_have_text("Billing follows the default hours again.")
    assert next(d for d in bridge.api("GET", "/api/v1/departments")["items"] if d["id"] == billing)["ownHours"] is False

    # No department again: the page and the API agree.
    console.route_of("line/main").select_option(label="No department (any online agent)")
    expect(console.status).to_have_text("New tickets from line/main now go to any online agent.")
    listed = next(a for a in bridge.api("GET", "/api/v1/channel-accounts")["items"] if a["key"] == "line/main")
    assert listed.get("departmentId") is None
    for agent in (cai, bea):
        bridge.api("PATCH", f"/api/v1/agents/{agent['id']}", {"availability": "offline"})


def assert_refused(bridge, token):
    request = urllib.request.Request(bridge.base_url + "/api/v1/me")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 401
        return
    raise AssertionError("the token still works")


def test_an_agent_is_refused_the_people_page_and_its_api(bridge, open_page, shot):
    agent = bridge.add_agent("Ume Agent")
    page, _ = open_page()
    console = PeopleConsole(page, bridge.base_url)
    console.goto("people")
    console.sign_in(agent["email"], agent["password"])
    expect(console.refusal).to_be_visible()
    expect(page.get_by_role("heading", name="People", exact=True)).to_have_count(0)
    shot(page, "agent-refused")
    headers = {"Origin": bridge.base_url}
    for method, path, body in [
        ("POST", "/api/v1/agents", {"email": "x@example.com", "name": "X"}),
        ("POST", "/api/v1/departments", {"name": "X"}),
        ("PUT", "/api/v1/business-hours", {"timeZone": "UTC", "weekly": {}}),
    ]:
        answer = page.request.fetch(bridge.base_url + path, method=method, data=body, headers=headers)
        assert answer.status == 403, (method, path, answer.status)


def test_an_agent_added_without_a_password_chooses_one_through_a_one_time_link(bridge, open_page, shot):
    admin = bridge.add_agent("Ida Admin", role="admin")
    page, _ = open_page()
    console = PeopleConsole(page, bridge.base_url)
    console.goto("people")
    console.sign_in(admin["email"], admin["password"])
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    page.get_by_role("button", name="Add agent").first.click()
    form = page.get_by_role("form", name="Add an agent")
    form.get_by_label("Name").fill("Ivy Invited")
    form.get_by_label("E-mail").fill("ivy.invited@example.com")
    form.get_by_role("button", name="Add agent").click()
    expect(console.status).to_have_text("Added Ivy Invited.")
    link = console.panel("Ivy Invited").get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"/console/#/invite/brg_[0-9a-f]{64}$"))
    url = link.input_value()
    assert agent_named(bridge, "Ivy Invited")["hasPassword"] is False
    shot(page, "invite-link")

    # Ivy opens the link in her own browser, chooses a password and signs in with it.
    ivy, problems = open_page(locale="ja-JP")
    ivy.goto(url)
    expect(ivy.get_by_role("heading", name="パスワードを設定")).to_be_visible()
    assert "/invite/" not in ivy.url  # the token left the address at once
    ivy.get_by_label("新しいパスワード").fill("ivy-password-1")
    ivy.get_by_label("パスワード（確認）").fill("ivy-password-1")
    shot(ivy, "choose-password")
    ivy.get_by_role("button", name="パスワードを設定").click()
    expect(ivy.get_by_text("パスワードを設定しました。")).to_be_visible()
    assert can_log_in(bridge, "ivy.invited@example.com", "ivy-password-1")

    # Used once: the same link again is refused, in words.
    ivy, problems = open_page(locale="ja-JP")
    problems.expected.add((409, "/api/v1/auth/invite"))
    ivy.goto(url)
    ivy.get_by_label("新しいパスワード").fill("other-password-2")
    ivy.get_by_label("パスワード（確認）").fill("other-password-2")
    ivy.get_by_role("button", name="パスワードを設定").click()
    expect(ivy.get_by_role("alert")).to_have_text("このリンクは使用済み、期限切れ、または置き換えられています。新しいリンクを依頼してください。")
    assert not can_log_in(bridge, "ivy.invited@example.com", "other-password-2")
