"""The inbox's main flow in Firefox and in WebKit (Safari's engine), from Debian's packages (see
engines.py for how each is driven): sign in through the form, a signed LINE webhook's message
arrives live without a reload, open it, reply, the LINE stand-in receives the reply; no console
errors, no uncaught exceptions, no CSP violations; a screenshot per engine."""

import secrets

import pytest

import engines
from conftest import SCREENSHOTS, wait_until

# Finds an element the way pages.py does with roles and labels, in plain DOM (these engines have no
# Playwright locators): only elements that are rendered count.
FIND = """(query, name, within) => {
  const shown = (e) => e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const text = (e) => (e.getAttribute('aria-label') || e.textContent || '').replace(/\\s+/g, ' ').trim();
  const root = within ? document.querySelector(within) : document;
  const all = (selector) => [...(root ? root.querySelectorAll(selector) : [])].filter(shown);
  switch (query) {
    case 'label': {  // a form control by its <label>
      const label = [...document.querySelectorAll('label')].find((l) => text(l) === name);
      const control = label && document.getElementById(label.htmlFor);
      return shown(control) ? control : null;
    }
    case 'button': return all('button').find((e) => text(e) === name) ?? null;
    case 'form': return all('form[aria-labelledby]').find((e) => text(document.getElementById(e.getAttribute('aria-labelledby'))) === name) ?? null;
    case 'view': return all('nav[aria-label="Views"] button').find((e) => text(e.querySelector('.view-name')) === name) ?? null;
    case 'option': return all('[role="listbox"] [role="option"]').find((e) => text(e.querySelector('.row-name')) === name) ?? null;
    case 'message': return all('[role="log"] li').find((e) => text(e).includes(name)) ?? null;
    default: return all(query).find((e) => !name || text(e).includes(name)) ?? null;
  }
}"""


def line_user():
    return "U" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def display():
    missing = engines.missing_programs()
    assert not missing, f"missing {missing}: run scripts/install-deps.sh"
    xvfb = engines.Xvfb()
    yield xvfb.display
    xvfb.stop()


@pytest.fixture(params=["firefox", "webkit"])
def engine(request, display):
    """One engine's browser, its problems checked at teardown (as conftest's open_page does)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = SCREENSHOTS / f"engine-{request.param}.log"
    browser = engines.Firefox(log) if request.param == "firefox" else engines.WebKit(display, log)
    try:
        browser.set_size(1280, 800)
        yield browser
        problems = browser.problems()
    finally:
        browser.close()
    assert not problems, f"problems in the page ({request.param}):\n" + "\n".join(problems)


class Page:
    """The few parts of the inbox the flow touches, in one engine."""

    def __init__(self, browser):
        self.browser = browser

    def find(self, query, name=None, within=None):
        return self.browser.find(FIND, query, name or "", within or "")

    def wait(self, query, name=None, within=None, what=None):
        return wait_until(lambda: self.find(query, name, within), what=what or f"{query} {name or ''}".strip())

    def click(self, query, name=None, within=None):
        """Finds and clicks, again if a re-render replaced the element in between."""
        self._use(lambda element: self.browser.click(element), query, name, within, "to click")

    def type(self, query, name, text):
        self._use(lambda element: self.browser.type(element, text), query, name, None, "to type in")

    def _use(self, action, query, name, within, what):
        def done():
            element = self.find(query, name, within)
            try:
                return element and (action(element) or True)
            except engines.StaleElement:
                return False
        wait_until(done, what=f"{query} {name or ''} {what}")

    def text_of(self, query, name):
        """The text of what `find` finds ('' when nothing), in one round trip (no stale element)."""
        return self.browser.call(f"(...a) => ({FIND})(...a)?.textContent ?? ''", query, name, "")

    def message_text(self, text):
        return self.text_of("message", text)

    def text(self, selector):
        return self.browser.call("(s) => document.querySelector(s)?.textContent.trim() ?? null", selector)


def test_main_flow_in_firefox_and_webkit(engine, bridge):
    agent = bridge.add_agent(f"Eve {engine.name.title()}")
    page = Page(engine)
    engine.goto(bridge.base_url + "/inbox/")
    page.wait("form", "Sign in to the inbox")
    engine.screenshot(SCREENSHOTS / f"engine-{engine.name}-sign-in.png")
    page.type("label", "E-mail", agent["email"])
    page.type("label", "Password", agent["password"])
    page.click("button", "Sign in")
    page.wait("header", agent["name"], what="the signed-in agent's name")
    page.wait('[role="listbox"][aria-label="Tickets"]')
    page.click("view", "All")
    page.wait('[role="status"]', "Live", what="the live feed")
    engine.call("() => { window.__sameDocument = true; }")  # gone if the page reloads

    name = f"Kenji {engine.name.title()}"
    bridge.line_message(line_user(), "Where is my order #1234?", display_name=name)
    page.wait("option", name, what="the new ticket in the list")
    wait_until(lambda: "Where is my order #1234?" in page.text_of("option", name), what="the preview")
    assert engine.call("() => window.__sameDocument === true"), "the page reloaded"

    page.click("option", name)
    wait_until(lambda: page.text("conversation-view h2") == name, what="the conversation's title")
    page.wait("message", "Where is my order #1234?")
    page.type("#composer-text", None, "It ships today.")
    page.click("button", "Send", within="reply-composer")
    wait_until(lambda: "It ships today." in bridge.line.pushed_texts(), what="the LINE push")
    # LINE has no delivery receipts (docs/platforms.md): the furthest a LINE reply gets is `sent`.
    wait_until(lambda: "Sent" in page.message_text("It ships today."), what="the reply marked sent")
    # The send finished in the page too: the composer is empty and ready again.
    wait_until(lambda: engine.call("() => document.querySelector('#composer-text').value === ''"), what="the composer cleared")
    page.wait("button", "Send", within="reply-composer", what="the Send button back")
    assert engine.call("() => window.__sameDocument === true"), "the page reloaded"
    engine.screenshot(SCREENSHOTS / f"engine-{engine.name}-replied.png")
    engine.set_size(360, 740)  # phone-sized: the conversation stays readable
    wait_until(lambda: page.find("conversation-view h2", name), what="the conversation on a narrow screen")
    engine.screenshot(SCREENSHOTS / f"engine-{engine.name}-360.png")
