"""Web Push end to end, in a real Chromium against a live bridge. Only the hop to the browser
vendor's push service is replaced (headless Chromium here has no network): push_standin.py plays
that service on loopback and gives the page its subscriptions. Everything else is the real thing:
the agent turns push on in the alert settings, push.js registers sw.js and hands the subscription to
the bridge, a signed LINE webhook opens a ticket, the bridge's notifier POSTs an encrypted,
VAPID-signed push that the stand-in checks and decrypts, the payload goes to the real service worker
through the DevTools protocol (as the browser hands it a message from its push service), and the
worker shows the notification. Unsubscribing in the settings removes the subscription from the
bridge, and the next alert sends nothing. On a browser agents share, pushes follow who is signed in."""

import secrets
import sqlite3
import urllib.parse

import pytest
from playwright.sync_api import expect

from conftest import wait_until
from pages import WorkPage
from push_standin import PushStandIn

NOTIFICATIONS = """async (scope) => {
  const registration = await navigator.serviceWorker.getRegistration(scope);
  const shown = await registration.getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
}"""


def deliver_until_shown(page, cdp, origin, registration, scope, data, shown_enough, attempts=4):
    """Hands a push to the service worker through DevTools until it shows (a delivery made while a
    loaded machine is still starting the worker can be dropped by the browser); the notifications."""
    for attempt in range(attempts):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": origin, "registrationId": registration, "data": data})
        try:
            return wait_until(lambda: (lambda all: shown_enough(all) and all)(page.evaluate(NOTIFICATIONS, scope)),
                              what="the service worker's notification")
        except AssertionError:
            if attempt == attempts - 1:
                raise


@pytest.fixture(scope="session")
def push_standin():
    service = PushStandIn().start()
    yield service
    service.stop()


@pytest.fixture
def push_service(push_standin):
    """The push service for one test. It outlives the test (the bridge is shared by the session):
    the subscriptions a test leaves behind then answer 410, and the bridge drops them instead of
    retrying pushes to a closed port for the rest of the run."""
    yield push_standin
    push_standin.forget_all()


def new_ticket(bridge, name, text):
    """A customer writes on LINE for the first time; returns the ticket's id."""
    bridge.line_message("U" + secrets.token_hex(16), text, display_name=name)
    path = "/api/v1/tickets?contact=" + urllib.parse.quote(name)
    return wait_until(lambda: next((t["id"] for t in bridge.api("GET", path)["items"]), None), what=f"{name}'s ticket")


def pushes_for(push_service, endpoint, ticket_id):
    """The pushes the service accepted for a ticket; a push it refused fails the test at once, with the reason."""
    assert push_service.refused == [], f"the push service refused the bridge's push: {push_service.refused}"
    return [p for p in push_service.pushes_to(endpoint) if p["payload"].get("ticketId") == ticket_id]


def alert_outcome(bridge, agent_id, ticket_id):
    """The status the bridge recorded for the agent's push alert on a new ticket, once it is no
    longer pending (read from the bridge's database: the API does not list sent alerts)."""
    database = f"file:{bridge.process.work / 'data' / 'bridge.sqlite'}?mode=ro"
    with sqlite3.connect(database, uri=True) as db:
        row = db.execute("SELECT status FROM notifications WHERE agent_id = ? AND medium = 'push' AND event = 'new_ticket' AND ticket_id = ?",
                         (agent_id, ticket_id)).fetchone()
    return row[0] if row and row[0] != "pending" else None


def turn_push_on(page, inbox):
    """In the alert settings: push for new tickets, and push on for this browser; saved without an error."""
    page.get_by_role("button", name="Alerts").click()
    settings = inbox.dialog("Alerts")
    settings.get_by_label("New ticket in my departments: Push").check()
    settings.get_by_label("Push alerts when the inbox is closed").check()
    settings.get_by_role("button", name="Save").click()
    try:
        expect(settings).to_be_hidden()
    except AssertionError:
        raise AssertionError(f"the alert settings were not saved: {settings.get_by_role('alert').text_content()!r}") from None


def subscriptions_of(bridge, agent):
    """The agent's push subscriptions on the bridge (asked with a login token of the agent's own)."""
    agent.setdefault("token", bridge.api("POST", "/api/v1/auth/login", {"email": agent["email"], "password": agent["password"]})["token"])
    return [s["endpoint"] for s in bridge.api("GET", "/api/v1/me/push-subscriptions", token=agent["token"])["items"]]


def test_web_push_reaches_the_service_worker_and_stops_when_unsubscribed(bridge, open_page, push_service, shot):
    agent = bridge.add_agent("Pia Push")
    page, _ = open_page()
    page.context.grant_permissions(["notifications"], origin=bridge.base_url)
    push_service.install(page.context)
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(agent["email"], agent["password"])
    inbox.expect_signed_in(agent["name"])
    api = lambda path: page.request.get(bridge.base_url + path).json()  # noqa: E731  (as the agent: the page's cookie)

    # The agent chooses push for new tickets and turns push on for this browser.
    page.get_by_role("button", name="Alerts").click()
    settings = inbox.dialog("Alerts")
    this_browser = settings.get_by_label("Push alerts when the inbox is closed")
    expect(this_browser).to_be_enabled()
    expect(this_browser).not_to_be_checked()
    settings.get_by_label("New ticket in my departments: Push").check()
    this_browser.check()
    shot(page, "push-on")
    settings.get_by_role("button", name="Save").click()
    expect(settings).to_be_hidden()

    # The page registered the service worker and subscribed with the bridge's VAPID key; the bridge holds that subscription.
    scopes = page.evaluate("navigator.serviceWorker.getRegistrations().then((all) => all.map((r) => r.scope))")
    assert len(scopes) == 1 and scopes[0].startswith(bridge.base_url + "/assets/"), scopes
    scope = scopes[0]
    subscription = push_service.subscription_of(scope)
    assert subscription is not None, "the page did not subscribe"
    assert subscription.application_server_key == api("/api/v1/push/vapid-public-key")["publicKey"]
    assert [s["endpoint"] for s in api("/api/v1/me/push-subscriptions")["items"]] == [subscription.endpoint]

    # A new ticket: the bridge sends an encrypted, VAPID-signed push that the push service accepts and decrypts.
    ticket = new_ticket(bridge, "Push Customer", "my parcel never came")
    pushes = wait_until(lambda: pushes_for(push_service, subscription.endpoint, ticket), what="the bridge's push for the new ticket")
    assert len(pushes) == 1
    payload = pushes[0]["payload"]
    assert payload["title"] == f"Ticket #{ticket}"
    assert payload["event"] == "new_ticket"
    # (The customer's name may or may not have come from LINE's profile API yet.)
    assert payload["body"].startswith(f"New ticket #{ticket}: ") and payload["body"].endswith(": my parcel never came"), payload
    assert pushes[0]["claims"]["sub"] == "mailto:tests@example.com"

    # The browser hands the message to the service worker, which shows it.
    cdp = page.context.new_cdp_session(page)
    registrations = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.update({r["scopeURL"]: r["registrationId"] for r in event["registrations"] if not r["isDeleted"]}))
    cdp.send("ServiceWorker.enable")
    registration = wait_until(lambda: page.evaluate("true") and registrations.get(scope), what="the service worker's registration id")
    shown = deliver_until_shown(page, cdp, bridge.base_url, registration, scope, pushes[0]["data"], lambda all: all)
    assert shown == [{"title": f"Ticket #{ticket}", "body": payload["body"], "tag": f"ticket-{ticket}"}]
    # A push that is not the bridge's JSON (a push service's test message) still shows, as text.
    shown = deliver_until_shown(page, cdp, bridge.base_url, registration, scope, "plain words",
                                lambda all: any(n["body"] == "plain words" for n in all))
    assert {"title": "Inbox", "body": "plain words", "tag": ""} in shown
    assert {"title": f"Ticket #{ticket}", "body": payload["body"], "tag": f"ticket-{ticket}"} in shown

    # Push off: the subscription leaves the bridge and the browser.
    page.get_by_role("button", name="Alerts").click()
    expect(this_browser).to_be_checked()
    expect(settings.get_by_label("New ticket in my departments: Push")).to_be_checked()
    this_browser.uncheck()
    settings.get_by_role("button", name="Save").click()
    expect(settings).to_be_hidden()
    assert api("/api/v1/me/push-subscriptions")["items"] == []
    assert push_service.subscription_of(scope) is None

    # The next new ticket's push alert reaches no browser, and nothing is sent.
    later = new_ticket(bridge, "Push Customer Later", "still waiting")
    assert wait_until(lambda: alert_outcome(bridge, agent["id"], later), what="the bridge to handle the push alert") == "unreached"
    assert len(push_service.pushes_to(subscription.endpoint)) == 1
    assert push_service.refused == []


def test_a_shared_browser_pushes_only_the_signed_in_agents_alerts(bridge, open_page, push_service, shot):
    """Agents on shifts share a desk: signing out stops that browser's pushes (they carry customers'
    words), and the next agent can turn push on there, even when the last one's session just lapsed."""
    ann, ben = bridge.add_agent("Ann Shift"), bridge.add_agent("Ben Shift")
    page, problems = open_page()
    page.context.grant_permissions(["notifications"], origin=bridge.base_url)
    push_service.install(page.context)
    inbox = WorkPage(page, bridge.base_url)
    inbox.goto()
    inbox.sign_in(ann["email"], ann["password"])
    inbox.expect_signed_in(ann["name"])
    turn_push_on(page, inbox)
    scope = page.evaluate("navigator.serviceWorker.getRegistrations().then((all) => all[0].scope)")
    anns = push_service.subscription_of(scope).endpoint
    assert subscriptions_of(bridge, ann) == [anns]

    # Ann signs out: the browser and the bridge forget her subscription.
    inbox.sign_out()
    expect(inbox.sign_in_form).to_be_visible()
    wait_until(lambda: page.evaluate("true") and push_service.subscription_of(scope) is None, what="the browser to unsubscribe")
    assert subscriptions_of(bridge, ann) == []

    # Ben, on the same browser, turns push on and gets his alerts; Ann gets none here.
    inbox.sign_in(ben["email"], ben["password"])
    inbox.expect_signed_in(ben["name"])
    turn_push_on(page, inbox)
    bens = push_service.subscription_of(scope).endpoint
    assert bens != anns and subscriptions_of(bridge, ben) == [bens]
    ticket = new_ticket(bridge, "Shift Customer", "anyone there?")
    wait_until(lambda: pushes_for(push_service, bens, ticket), what="Ben's push")
    assert wait_until(lambda: alert_outcome(bridge, ann["id"], ticket), what="Ann's push alert") == "unreached"
    assert push_service.pushes_to(anns) == [] and anns not in push_service.gone

    # Ben's session lapses without a sign-out (cookies gone); Ann signs in and turns push on here
    # again: the browser's subscription is still Ben's, so hers is a new one, and Ben's is dropped
    # by the bridge when its push service answers 410.
    page.context.clear_cookies()
    page.reload()
    problems.expected.add((409, "/api/v1/me/push-subscriptions"))  # endpoint_taken: the page then subscribes anew
    expect(inbox.sign_in_form).to_be_visible()
    inbox.sign_in(ann["email"], ann["password"])
    inbox.expect_signed_in(ann["name"])
    turn_push_on(page, inbox)
    again = push_service.subscription_of(scope).endpoint
    assert again not in (anns, bens) and subscriptions_of(bridge, ann) == [again]
    later = new_ticket(bridge, "Shift Customer Later", "hello again")
    wait_until(lambda: pushes_for(push_service, again, later), what="Ann's push")
    wait_until(lambda: bens in push_service.gone and subscriptions_of(bridge, ben) == [], what="Ben's gone subscription to be dropped")
    assert [p["payload"]["ticketId"] for p in push_service.pushes_to(bens)] == [ticket]
