"""Page objects: every selector of the inbox lives here, by role and label (which also checks
that the page names its parts for assistive technology)."""

import re

from playwright.sync_api import Page, expect


class InboxPage:
    def __init__(self, page: Page, base_url: str, texts=None):
        self.page = page
        self.base_url = base_url
        self.t = texts or EN

    def goto(self):
        self.page.goto(self.base_url + "/inbox/")

    # Sign-in
    @property
    def sign_in_form(self):
        return self.page.get_by_role("form", name=self.t["signin.title"])

    def sign_in(self, email, password):
        self.page.get_by_label(self.t["signin.email"]).fill(email)
        self.page.get_by_label(self.t["signin.password"]).fill(password)
        self.page.get_by_role("button", name=self.t["signin.submit"]).click()

    @property
    def sign_in_error(self):
        return self.sign_in_form.get_by_role("alert")

    def sign_out(self):
        self.page.get_by_role("button", name=self.t["signout"]).click()

    # The inbox
    @property
    def views(self):
        return self.page.get_by_role("navigation", name=self.t["views"])

    def choose_view(self, name):
        self.views.get_by_role("button", name=name, exact=True).click()

    @property
    def tickets(self):
        return self.page.get_by_role("listbox", name=self.t["list.label"])

    def ticket(self, contact_name):
        return self.tickets.get_by_role("option", name=re.compile(re.escape(contact_name)))

    @property
    def selected_ticket(self):
        return self.tickets.get_by_role("option", selected=True)

    @property
    def search(self):
        return self.page.get_by_role("searchbox", name=self.t["list.search"])

    @property
    def conversation(self):
        return self.page.get_by_role("log", name=self.t["conv.label"])

    @property
    def conversation_title(self):
        return self.page.locator("conversation-view").get_by_role("heading", level=2)

    @property
    def reply_box(self):
        return self.page.get_by_label(self.t["composer.replyLabel"])

    def reply(self, text):
        self.reply_box.fill(text)
        self.page.get_by_role("button", name=self.t["composer.send"], exact=True).click()

    def message(self, text):
        return self.conversation.get_by_role("listitem").filter(has_text=text)

    @property
    def help(self):
        return self.page.get_by_role("dialog", name=self.t["help.title"])

    def expect_signed_in(self, name):
        expect(self.page.get_by_role("banner")).to_contain_text(name)
        expect(self.tickets).to_be_visible()


EN = {
    "signin.title": "Sign in to the inbox", "signin.email": "E-mail", "signin.password": "Password",
    "signin.submit": "Sign in", "signout": "Sign out", "views": "Views", "list.label": "Tickets",
    "list.search": "Search", "conv.label": "Conversation", "composer.replyLabel": "Reply to the customer",
    "composer.send": "Send", "help.title": "Keyboard shortcuts",
}
JA = {
    "signin.title": "受信箱にサインイン", "signin.email": "メールアドレス", "signin.password": "パスワード",
    "signin.submit": "サインイン", "signout": "サインアウト", "views": "ビュー", "list.label": "チケット",
    "list.search": "検索", "conv.label": "会話", "composer.replyLabel": "お客様への返信",
    "composer.send": "送信", "help.title": "キーボードショートカット",
}


class WorkPage(InboxPage):
    """The inbox's working parts: ticket actions and their dialogs, the composer's helpers, the
    selection and mass actions, the contact panel, alerts."""

    @property
    def actions(self):
        return self.page.get_by_role("toolbar", name="Ticket actions")

    def action(self, name):
        return self.actions.get_by_role("button", name=name, exact=True)

    def more(self, item):
        self.actions.get_by_role("button", name="More").click()
        self.page.get_by_role("menuitem", name=item).click()

    def dialog(self, title):
        return self.page.get_by_role("dialog", name=title)

    @property
    def composer(self):
        return self.page.locator("reply-composer")

    @property
    def composer_alert(self):
        return self.composer.get_by_role("alert")

    @property
    def send_button(self):
        return self.page.get_by_role("button", name="Send", exact=True)

    @property
    def canned(self):
        return self.page.get_by_role("listbox", name="Canned responses")

    @property
    def presence(self):
        return self.page.locator(".presence")

    @property
    def meta(self):
        return self.page.locator(".conv-meta")

    def row_checkbox(self, contact_name):
        return self.tickets.get_by_role("checkbox", name=f"Select {contact_name}")

    @property
    def bulk(self):
        return self.page.get_by_role("toolbar", name="Selected tickets")

    @property
    def contact_panel(self):
        return self.page.get_by_role("complementary", name="Contact")


class ConsolePage:
    """The console (owners and admins): its sign-in, its sections' navigation and the refusal an
    agent gets. Each section's own selectors live with it in a subclass or helper below."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    def goto(self, section=""):
        self.page.goto(self.base_url + "/console/" + (f"#/{section}" if section else ""))

    def sign_in(self, email, password):
        expect(self.page.get_by_role("form", name="Sign in to the console")).to_be_visible()
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()

    @property
    def sections(self):
        return self.page.get_by_role("navigation", name="Console sections")

    def open_section(self, name):
        self.sections.get_by_role("link", name=name, exact=True).click()
        expect(self.sections.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")

    @property
    def refusal(self):
        return self.page.get_by_role("alert").filter(has=self.page.get_by_role("heading", name="The console is for owners and admins"))

    def expect_signed_in(self, name):
        expect(self.page.get_by_role("banner")).to_contain_text(name)
        expect(self.sections).to_be_attached()
