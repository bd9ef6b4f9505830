import Foundation
import Testing
import UniversalInbox

/// The text and date rules are the ones openapi.yaml states, so a value the document calls valid
/// is taken and one it calls invalid is refused.
@Suite struct TextRulesTests {
    @Test(arguments: [
        ("2026-11-21T09:00:00Z", 1_795_251_600.0),
        ("2026-11-21t09:00:00z", 1_795_251_600.0),
        ("2026-11-21T09:00:00.25Z", 1_795_251_600.25),
        ("2026-11-21T18:30:00+09:30", 1_795_251_600.0),
        ("2026-11-21T00:00:00-09:00", 1_795_251_600.0),
        ("0001-01-01T00:00:00Z", -62_135_596_800.0),
        ("2000-02-29T23:59:60Z", 951_868_800.0),
        ("2000-03-01T08:59:60+09:00", 951_868_800.0),
    ])
    func dateTimesAsRFC3339WritesThem(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.dateTime(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.001, "\(text)")
    }

    @Test(arguments: [
        "2026-11-21", "2026-11-21T09:00:00", "2026-11-21 09:00:00Z", "2026-11-21T24:00:00Z", "2026-13-01T00:00:00Z", "2001-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-11-21T09:00:00.Z", "2026-11-21T09:00:00+0900", "2026-11-21T09:00Z", "２０２６-11-21T09:00:00Z", "",
        "2000-01-01T12:30:60Z", "2000-01-01T23:59:60+01:00",
    ])
    func notDateTimes(text: String) {
        #expect(RFC3339.dateTime(text) == nil, "\(text)")
    }

    @Test func datesAreFullDatesThatExist() {
        #expect(RFC3339.date("2024-02-29")?.timeIntervalSince1970 == 1_709_164_800)
        // Foundation's ISO 8601 style rolls these over into the next month; the document's `format: date` refuses them.
        for text in ["2026-02-29", "2026-02-30", "2026-11-31", "2026-1-01", "2026-11-21T00:00:00Z"] {
            #expect(RFC3339.date(text) == nil, "\(text)")
        }
    }

    @Test func lengthsAreCodePointsAndBlankIsTheListedWhitespace() {
        #expect(TextRules.length("\r\n") == 2)
        #expect(TextRules.length("e\u{301}") == 2)
        #expect(TextRules.isBlank(" \t\u{3000}\u{2028}\u{85}"))
        #expect(!TextRules.isBlank("\u{1C}"), "not whitespace to the document's pattern")
        #expect(!TextRules.isBlank("\u{FEFF}"))
        #expect(TextRules.isName(String(repeating: "a", count: 100), maxLength: 100))
        #expect(!TextRules.isName(String(repeating: "e\u{301}", count: 51), maxLength: 100))
    }

    @Test func emailAddressesAreWhatTheDocumentsPatternSays() {
        // "@🏻" and ".\u{301}" are one `Character` each; the document's pattern reads code points.
        for good in ["ann@example.com", "a.b+c@mail.example.co.jp", "ü@bücher.de", "x@🏻.a", "x@a.\u{301}b"] { #expect(TextRules.isEmail(good), "\(good)") }
        for bad in ["ann", "@example.com", "ann@@example.com", "ann@example", "ann@.com", "ann@example.", "a nn@example.com", "ann@exa\u{3000}mple.com"] {
            #expect(!TextRules.isEmail(bad), "\(bad)")
        }
    }
}
