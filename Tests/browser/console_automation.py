"""The console's Automation section: its selectors, by role and label."""

from playwright.sync_api import expect

from pages import ConsolePage


class AutomationConsole(ConsolePage):
    def open(self):
        self.open_section("Automation")
        expect(self.page.get_by_role("heading", name="Automation rules")).to_be_visible()

    @property
    def rules(self):
        return self.page.get_by_role("list", name="Rules, in the order they run")

    def rule(self, name):
        return self.rules.get_by_role("listitem", name=name, exact=True)

    def rule_names(self):
        return self.rules.locator(".rule-name").all_inner_texts()

    def form(self, title):
        return self.page.get_by_role("form", name=title)

    def new_rule(self):
        self.page.get_by_role("button", name="New rule").click()
        return self.form("New rule")

    @property
    def status(self):
        return self.page.locator("console-automation").get_by_role("status")

    @property
    def trial(self):
        return self.page.get_by_role("form", name="Try the rules on a ticket")

    def try_on(self, ticket_id, trigger="A customer writes"):
        self.trial.get_by_label("Ticket number").fill(str(ticket_id))
        self.trial.get_by_label("When", exact=True).select_option(label=trigger)
        self.trial.get_by_role("button", name="Try").click()
        return self.trial.get_by_role("table")


class PeopleConsole(ConsolePage):
    def open(self):
        self.open_section("People")
        expect(self.page.get_by_role("heading", name="People", exact=True)).to_be_visible()

    @property
    def agents(self):
        return self.page.get_by_role("table", name="Agents")

    def agent_row(self, name):
        return self.agents.get_by_role("row").filter(has_text=name)

    def panel(self, name):
        return self.page.get_by_role("region", name=name)

    @property
    def status(self):
        return self.page.locator("console-people").get_by_role("status")

    @property
    def hours(self):
        return self.page.get_by_role("form", name="Business hours", exact=True)

    def department_hours(self, name):
        return self.page.get_by_role("form", name=f"Business hours of {name}", exact=True)

    @property
    def departments(self):
        return self.page.get_by_role("table", name="Departments and their members")

    def route_of(self, account):
        return self.page.get_by_label(f"Department for new tickets from {account}", exact=True)
