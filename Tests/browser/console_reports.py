"""The console's Reports section, as a page object: its period form, charts (each an SVG image named
by its caption, with a "Show numbers" table and a CSV button), summary and tables."""

from playwright.sync_api import expect

from pages import ConsolePage


class ReportsConsole(ConsolePage):
    def open(self):
        self.open_section("Reports")
        expect(self.page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
        self.expect_loaded()

    def expect_loaded(self):
        expect(self.page.locator(".report-body")).to_have_attribute("aria-busy", "false")
        expect(self.chart("Tickets opened and resolved per day")).to_be_visible()

    @property
    def from_date(self):
        return self.page.get_by_label("From", exact=True)

    @property
    def to_date(self):
        return self.page.get_by_label("To", exact=True)

    def show(self, first, last):
        self.from_date.fill(first)
        self.to_date.fill(last)
        self.page.get_by_role("button", name="Show", exact=True).click()
        self.expect_loaded()

    def figure(self, title):
        return self.page.locator("figure.chart").filter(has=self.page.locator(".chart-title", has_text=title))

    def chart(self, title):
        """The chart's drawing: an SVG image named by the chart's caption."""
        return self.page.get_by_role("img", name=title, exact=True)

    def show_numbers(self, title):
        self.figure(title).get_by_role("button", name="Show numbers").click()
        return self.page.get_by_role("table", name=title, exact=True)

    def download_csv(self, title):
        """Clicks the CSV button of a chart or table named `title`; returns the file's text."""
        with self.page.expect_download() as info:
            self.page.get_by_role("button", name=f"Download CSV: {title}", exact=True).click()
        with open(info.value.path(), encoding="utf-8", newline="") as file:
            return file.read()

    def table(self, title):
        return self.page.get_by_role("table", name=title, exact=True)
