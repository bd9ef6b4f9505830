"""The console's Channels section: its selectors, by role and label."""

from playwright.sync_api import expect

from pages import ConsolePage


class ChannelsConsole(ConsolePage):
    def open(self):
        self.open_section("Channels")
        expect(self.page.get_by_role("heading", name="Channels", level=1)).to_be_visible()

    def card(self, kind_name, account_id):
        """The <article> of one account, named by its heading, e.g. ("LINE", "shop")."""
        return self.page.get_by_role("article", name=f"{kind_name} · {account_id}")

    def add_line_account(self, account_id, channel_secret, access_token, api_base_url):
        self.page.get_by_role("button", name="Add an account").click()
        form = self.page.get_by_role("form", name="Add a channel account")
        form.get_by_label("Platform").select_option("line")
        form.get_by_label("Account id").fill(account_id)
        form.get_by_label("Channel secret").fill(channel_secret)
        form.get_by_label("Access token").fill(access_token)
        form.get_by_label("API base URL").fill(api_base_url)
        form.get_by_role("button", name="Add account").click()

    def webhook_url(self, card):
        return card.get_by_label("Webhook URL").input_value()

    def fact(self, card, list_name, term):
        """The <dd> after `term` in the card's list named `list_name` (Secrets, Activity)."""
        return card.locator(f"xpath=.//dl[@aria-label='{list_name}']/dt[normalize-space()='{term}']/following-sibling::dd[1]")

    def status(self):
        return self.page.locator(".status-line").first
