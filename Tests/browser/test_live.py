"""The live feed's own failure modes in a real Chromium: a socket that dies without a close (a laptop
that slept, a NAT or proxy that dropped the connection half-open) and the live indicator on a phone."""

import re
import secrets
import time

from playwright.sync_api import expect

from conftest import running_bridge
from pages import WorkPage


def test_a_silently_dead_socket_is_noticed_and_the_page_catches_up(open_page, shot):
    # A bridge of its own: heartbeats every half second, so the page gives a silent socket up
    # after 1.25 s instead of a minute.
    with running_bridge(prefix="browser-live-", live_heartbeat="0.5s") as bridge:
        agent = bridge.add_agent("Dana Silent")
        user = "U" + secrets.token_hex(16)
        bridge.line_message(user, "Before the line went quiet", display_name="Quiet Customer")
        page, _ = open_page()

        # Every live socket of the page goes through here, really connected to the bridge. Once
        # `dead` is set, the sockets open until then stay open but pass nothing on from the server:
        # the page sees a socket that is open and says nothing, as after a half-open drop.
        sockets = []
        dead = {"before": None}

        def route(ws):
            number = len(sockets)
            sockets.append(ws)
            server = ws.connect_to_server()

            def from_server(message):
                if dead["before"] is not None and number < dead["before"]:
                    return
                ws.send(message)
            server.on_message(from_server)
        page.route_web_socket(re.compile(r"/api/v1/live"), route)

        inbox = WorkPage(page, bridge.base_url)
        inbox.goto()
        inbox.sign_in(agent["email"], agent["password"])
        inbox.expect_signed_in(agent["name"])
        inbox.choose_view("All")
        inbox.ticket("Quiet Customer").click()
        expect(inbox.conversation_title).to_have_text("Quiet Customer")
        expect(page.get_by_role("status").filter(has_text=re.compile("^Live$"))).to_be_visible()
        page.evaluate("window.__noReload = true")

        dead["before"] = len(sockets)
        bridge.line_message(user, "Did my message get through?")

        # The page must notice the silence and open a new socket by itself (the route handler runs
        # while Playwright is waiting, so the wait is Playwright's own).
        deadline = time.monotonic() + 20
        while len(sockets) <= dead["before"]:
            assert time.monotonic() < deadline, "the page never gave up the silent socket"
            page.wait_for_timeout(50)
        expect(inbox.message("Did my message get through?")).to_be_visible(timeout=20000)
        expect(inbox.ticket("Quiet Customer")).to_contain_text("Did my message get through?")
        expect(page.get_by_role("status").filter(has_text=re.compile("^Live$"))).to_be_visible()
        # And the new socket is live: the next message arrives on it.
        bridge.line_message(user, "Hello again")
        expect(inbox.message("Hello again")).to_be_visible()
        assert page.evaluate("window.__noReload") is True  # the same document: no reload
        shot(page, "caught-up")


def test_the_live_indicator_stays_on_a_phone(bridge, open_page, shot):
    agent = bridge.add_agent("Pia Phone")
    page, problems = open_page(width=390, height=844)
    problems.allowed.append(r"net::ERR_INTERNET_DISCONNECTED")
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    expect(inbox.tickets).to_be_visible()

    # Live: a coloured dot, named "Live" for assistive technology.
    status = page.get_by_role("banner").get_by_role("status")
    expect(status).to_be_visible()
    expect(status).to_have_text("Live")
    expect(status).to_have_attribute("data-state", "connected")
    live_width = status.bounding_box()["width"]
    shot(page, "phone-live")

    # Not live: the words too, so the agent knows the page may be behind.
    page.context.set_offline(True)
    expect(status).to_have_text("Offline — reconnecting")
    expect(status).to_be_visible()
    assert status.bounding_box()["width"] > live_width * 3
    shot(page, "phone-offline")
    page.context.set_offline(False)
    expect(status).to_have_text("Live")
