"""The console in a real Chromium: who may use it, and each section's main flow."""

from playwright.sync_api import expect

from pages import ConsolePage, InboxPage


def console_for(open_page, bridge, person, **options):
    page, problems = open_page(**options)
    console = ConsolePage(page, bridge.base_url)
    console.goto()
    console.sign_in(person["email"], person["password"])
    return console, problems


def test_an_agent_is_shown_the_way_back_to_the_inbox_and_no_section(bridge, open_page, shot):
    agent = bridge.add_agent("Aki Mori")
    console, _ = console_for(open_page, bridge, agent)
    expect(console.refusal).to_be_visible()
    expect(console.sections).to_have_count(0)
    shot(console.page, "agent-refused")
    console.page.get_by_role("link", name="Inbox").click()
    InboxPage(console.page, bridge.base_url).expect_signed_in(agent["name"])
    # The inbox offers an agent no way to the console either.
    expect(console.page.get_by_role("link", name="Console")).to_have_count(0)


def test_an_owner_goes_from_the_inbox_to_the_console_and_back(bridge, open_page, shot):
    owner = bridge.add_agent("Olga Owner", role="owner")
    page, _ = open_page()
    inbox = InboxPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(owner["email"], owner["password"])
    inbox.expect_signed_in(owner["name"])
    page.get_by_role("link", name="Console").click()
    console = ConsolePage(page, bridge.base_url)
    console.expect_signed_in(owner["name"])
    shot(page, "owner")
    page.get_by_role("link", name="Inbox").click()
    inbox.expect_signed_in(owner["name"])
