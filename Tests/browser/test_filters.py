"""The ticket list's filters (channel, priority, tag) as removable chips kept per view."""

import secrets

from playwright.sync_api import expect

from test_work import customer, signed_in


def test_a_channel_filter_shows_one_channel_and_removing_its_chip_shows_both(bridge, open_page, shot):
    agent = bridge.add_agent("Fumi Filter")
    customer(bridge, "Riko LineFilter", "A question on LINE")
    bridge.whatsapp_message("55119" + str(secrets.randbelow(10**8)).zfill(8), "A question on WhatsApp", "Wanda WaFilter")
    inbox, _ = signed_in(open_page, bridge, agent)
    page = inbox.page
    line_row, whatsapp_row = inbox.ticket("Riko LineFilter"), inbox.ticket("Wanda WaFilter")
    expect(line_row).to_be_visible()
    expect(whatsapp_row).to_be_visible()

    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Channel", exact=True).select_option("whatsapp")
    chip = page.get_by_role("button", name="Remove filter Channel: WhatsApp")
    expect(chip).to_be_visible()
    expect(whatsapp_row).to_be_visible()
    expect(line_row).to_have_count(0)
    shot(page, "channel-filter")

    # The filter belongs to the view: gone in another view, back when the view is chosen again.
    inbox.choose_view("Unassigned")
    expect(chip).to_have_count(0)
    inbox.choose_view("All")
    expect(chip).to_be_visible()
    expect(line_row).to_have_count(0)

    # Removed from the keyboard: both tickets again.
    chip.focus()
    page.keyboard.press("Enter")
    expect(chip).to_have_count(0)
    expect(line_row).to_be_visible()
    expect(whatsapp_row).to_be_visible()


def test_a_search_of_several_words_finds_the_ticket_that_has_them_all(bridge, open_page, shot):
    agent = bridge.add_agent("Sora Search")
    customer(bridge, "Osaka Parcel Customer", "my parcel from Osaka is late")
    customer(bridge, "Other Parcel Customer", "my parcel arrived, thank you")
    inbox, _ = signed_in(open_page, bridge, agent)
    inbox.search.fill("parcel late")
    inbox.search.press("Enter")
    expect(inbox.ticket("Osaka Parcel Customer")).to_be_visible()
    expect(inbox.ticket("Other Parcel Customer")).to_have_count(0)
    shot(inbox.page, "two-word-search")


def test_a_very_long_name_is_cut_short_and_the_row_keeps_its_waiting_time_in_view(bridge, open_page, shot):
    agent = bridge.add_agent("Luz Long")
    name = "Long Spaced Name " + "Tanaka " * 12
    customer(bridge, name.strip(), "Hello, a short question")
    inbox, _ = signed_in(open_page, bridge, agent)
    row = inbox.ticket("Long Spaced Name")
    expect(row).to_be_visible()
    shot(inbox.page, "long-name")
    pane = inbox.page.locator(".pane-list").bounding_box()
    for part in (".row-wait", ".row-name", ".row-preview"):
        box = row.locator(part).bounding_box()
        assert box["x"] + box["width"] <= pane["x"] + pane["width"] + 0.5, (part, box, pane)
    assert row.locator(".row-name").evaluate("(e) => e.scrollWidth > e.clientWidth"), "the name is cut with an ellipsis"
