import Foundation

/// Platform timestamps, checked: a value that is not a finite, plausible time makes its event
/// unreadable instead of reaching arithmetic that traps (`Int64(Double)` on NaN or 1e300).
public enum PlatformTime {
    /// Times before 2000 or after 2200 are no platform's event time.
    public static let plausible = Date(timeIntervalSince1970: 946_684_800)...Date(timeIntervalSince1970: 7_258_118_400)

    /// Unix seconds (WeChat's `CreateTime`, WhatsApp's `timestamp`), as a number or its text.
    public static func seconds(_ value: Double, field: String) throws(WebhookError) -> Date {
        try checked(value, field: field, scale: 1)
    }

    /// Unix seconds written as text.
    public static func seconds(_ text: String, field: String) throws(WebhookError) -> Date {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw .malformed("\(field) \"\(text.prefix(40))\" is not a number of seconds")
        }
        return try checked(value, field: field, scale: 1)
    }

    /// Unix milliseconds (LINE's and Messenger's `timestamp`, watermarks).
    public static func milliseconds(_ value: Int64, field: String) throws(WebhookError) -> Date {
        try checked(Double(value), field: field, scale: 1000)
    }

    private static func checked(_ value: Double, field: String, scale: Double) throws(WebhookError) -> Date {
        guard value.isFinite else { throw .malformed("\(field) \(value) is not a plausible time") }
        let date = Date(timeIntervalSince1970: value / scale)
        guard plausible.contains(date) else {
            let shown = abs(value) < 1e18 ? String(Int64(value)) : String(value)
            throw .malformed("\(field) \(shown) is not a plausible time")
        }
        return date
    }
}
