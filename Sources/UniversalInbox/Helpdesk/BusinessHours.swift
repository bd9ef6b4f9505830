import Foundation
import GRDB

/// When a department answers: a time zone, opening periods per weekday, and holidays (closed all
/// day). Also what new tickets are told: an acknowledgement, and a reply outside these hours.
public struct BusinessHours: Sendable, Equatable, Codable {
    /// Weekday (`mon` … `sun`) → periods as `["09:00", "18:00"]` pairs.
    public var timeZone: String
    public var weekly: [String: [[String]]]
    /// `YYYY-MM-DD` dates in the time zone.
    public var holidays: [String]
    public var acknowledgement: String?
    public var outOfHoursReply: String?

    public init(timeZone: String, weekly: [String: [[String]]], holidays: [String] = [], acknowledgement: String? = nil, outOfHoursReply: String? = nil) {
        self.timeZone = timeZone
        self.weekly = weekly
        self.holidays = holidays
        self.acknowledgement = acknowledgement
        self.outOfHoursReply = outOfHoursReply
    }

    enum CodingKeys: String, CodingKey { case timeZone, weekly, holidays, acknowledgement, outOfHoursReply }

    /// `holidays` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            timeZone: try c.decode(String.self, forKey: .timeZone), weekly: try c.decode([String: [[String]]].self, forKey: .weekly),
            holidays: try c.decodeIfPresent([String].self, forKey: .holidays) ?? [],
            acknowledgement: try c.decodeIfPresent(String.self, forKey: .acknowledgement),
            outOfHoursReply: try c.decodeIfPresent(String.self, forKey: .outOfHoursReply))
    }

    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Refuses an unknown time zone, weekday, malformed time or date, or a period that ends before it starts.
    func validate() throws {
        for (day, periods) in weekly {
            guard Self.weekdays.contains(day) else { throw InboxError.invalid(code: "invalid_weekday", message: "\(day) is not one of \(Self.weekdays.joined(separator: ", "))") }
            for period in periods {
                guard period.count == 2, period.allSatisfy(Self.isClockTime) else {
                    throw InboxError.invalid(code: "invalid_period", message: "\(day): a period is [\"HH:MM\", \"HH:MM\"]")
                }
                guard let start = Self.minutes(period[0]), let end = Self.minutes(period[1]), start < end else {
                    throw InboxError.unprocessable(code: "invalid_period", message: "\(day): a period is [\"HH:MM\", \"HH:MM\"] with the start before the end")
                }
            }
        }
        for holiday in holidays where RFC3339.date(holiday) == nil {
            throw InboxError.invalid(code: "invalid_holiday", message: "\(holiday) is not a date like 2026-12-31")
        }
        guard TimeZone(identifier: timeZone) != nil else { throw InboxError.unprocessable(code: "invalid_time_zone", message: "\(timeZone) is not a time zone (e.g. Asia/Tokyo)") }
    }

    /// Whether `date` falls in an opening period (and not on a holiday), in the department's time zone.
    public func isOpen(at date: Date) -> Bool {
        guard let zone = TimeZone(identifier: timeZone) else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: date)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        if holidays.contains(day) { return false }
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let periods = weekly[Self.weekdays[(parts.weekday ?? 1) - 1]] ?? []
        return periods.contains { period in
            guard let start = Self.minutes(period[0]), let end = Self.minutes(period[1]) else { return false }
            return now >= start && now < end
        }
    }

    /// `HH:MM` exactly (00:00 to 24:00), as openapi.yaml's `ClockTime` pattern says; what is
    /// refused when hours or quiet hours are set.
    static func isClockTime(_ text: String) -> Bool {
        text.wholeMatch(of: /([01][0-9]|2[0-3]):[0-5][0-9]|24:00/.matchingSemantics(.unicodeScalar)) != nil
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else {
            return nil
        }
        return h * 60 + m
    }
}

extension Inbox {
    /// Sets a department's hours (`nil`: the hours for tickets without a department).
    public func setBusinessHours(_ hours: BusinessHours, department: Int64?) async throws -> BusinessHours {
        try hours.validate()
        try await stores.businessHoursStore.set(hours, department: department, now: clock())
        return hours
    }

    /// Removes a department's own hours, so the default hours apply to it again; false when it had none.
    public func clearBusinessHours(department: Int64) async throws -> Bool {
        try await stores.businessHoursStore.clear(department: department)
    }

    /// A department's hours, falling back to the default hours; nil when none are set (always open).
    public func businessHours(department: Int64?) async throws -> BusinessHours? {
        try await stores.businessHoursStore.hours(department: department)
    }

    /// `businessHours(department:)` inside a SQLite read or write (the rules engine, reports).
    static func businessHours(_ db: Database, department: Int64?) throws -> BusinessHours? {
        let row = try Row.fetchOne(
            db, sql: "SELECT * FROM business_hours WHERE department_id IN (?, 0) ORDER BY department_id DESC LIMIT 1", arguments: [department ?? 0])
        return try row.map {
            try BusinessHours(
                timeZone: $0["time_zone"], storedWeekly: $0["weekly"], storedHolidays: $0["holidays"], acknowledgement: $0["acknowledgement"],
                outOfHoursReply: $0["out_of_hours_reply"])
        }
    }
}
