"""Page objects for the console's Health and Data sections: their selectors in one place."""

from playwright.sync_api import expect

from pages import ConsolePage


class HealthConsole(ConsolePage):
    def open(self):
        self.open_section("Health")
        expect(self.page.get_by_role("heading", name="Health", level=1)).to_be_visible()

    def fact(self, name):
        """The value shown under a fact's name (Version, Database, ...)."""
        return self.page.locator(".health-facts div").filter(has=self.page.get_by_text(name, exact=True)).locator("dd")

    @property
    def queues(self):
        return self.page.get_by_role("table", name="Queues")

    @property
    def errors(self):
        return self.page.get_by_role("table", name="Recent errors")

    @property
    def metrics_link(self):
        return self.page.get_by_role("link", name="Prometheus metrics")


class DataConsole(ConsolePage):
    def open(self):
        self.open_section("Data")
        expect(self.page.get_by_role("heading", name="Data", level=1)).to_be_visible()

    def retention_section(self):
        return self.page.get_by_role("region", name="Retention")

    def set_retention(self, messages_days, attachments_days):
        section = self.retention_section()
        section.get_by_label("Keep message text for (days)").fill("" if messages_days is None else str(messages_days))
        section.get_by_label("Keep attachments for (days)").fill("" if attachments_days is None else str(attachments_days))
        section.get_by_role("button", name="Save retention").click()
        expect(section.get_by_role("status")).to_have_text("Saved.")

    def contact_section(self):
        return self.page.get_by_role("region", name="A customer’s data")

    def find_contact(self, words):
        """Searches by name, e-mail, id or channel user id; returns the chosen contact's card."""
        section = self.contact_section()
        section.get_by_label("Name, e-mail, contact id or channel user id").fill(str(words))
        section.get_by_role("button", name="Find contact").click()
        return section.get_by_role("group", name="Contact found")

    def export_link(self):
        return self.contact_section().get_by_role("link", name="Export data (JSON)")

    def erase(self):
        section = self.contact_section()
        section.get_by_role("button", name="Erase…").click()
        confirm = section.get_by_role("group", name="Confirm erasure")
        expect(confirm.get_by_role("button", name="Erase for good")).to_be_disabled()
        confirm.get_by_label("I understand this cannot be undone").check()
        confirm.get_by_role("button", name="Erase for good").click()
        return section.get_by_role("status")

    @property
    def audit_table(self):
        return self.page.get_by_role("table", name="Audit log")

    def audit_csv_button(self):
        return self.page.get_by_role("region", name="Audit log").get_by_role("button", name="Download CSV")
