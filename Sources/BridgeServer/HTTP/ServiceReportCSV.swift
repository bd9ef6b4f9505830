import Foundation
import Hummingbird
import UniversalInbox

/// The period of a service report: `from` and `to` are local dates (both days included) in
/// `timeZone` (an IANA name, UTC if not given), so "yesterday" means the viewer's yesterday.
enum ServicePeriod {
    static func parse(_ params: Parameters) throws -> (Date, Date, TimeZone) {
        guard let fromText = try params.single("from"), let toText = try params.single("to") else {
            throw APIError.badRequest("invalid_period", "from and to are required (e.g. from=2026-11-01&to=2026-11-30)")
        }
        let first = try day(fromText, "from"), last = try day(toText, "to")
        var timeZone = TimeZone(identifier: "UTC")!
        if let name = try params.single("timeZone") {
            guard let zone = TimeZone(identifier: String(name)) else {
                throw APIError.unprocessable("invalid_time_zone", "timeZone must be an IANA time zone name (e.g. Asia/Tokyo)")
            }
            timeZone = zone
        }
        guard let (from, to) = ServiceReport.period(first: first, last: last, in: timeZone) else {
            throw APIError.unprocessable("invalid_period", "from must not be after to")
        }
        guard to.timeIntervalSince(from) <= Double(ServiceReport.maximumDays) * 86400 + 7200 else {
            throw APIError.unprocessable("invalid_period", "a report covers at most \(ServiceReport.maximumDays) days")
        }
        return (from, to, timeZone)
    }

    /// `YYYY-MM-DD` as calendar parts (read as a date in UTC, which keeps its parts as written).
    private static func day(_ text: Substring, _ field: String) throws -> DateComponents {
        guard let date = RFC3339.date(String(text)) else {
            throw APIError.badRequest("invalid_\(field)", "\(field) must be a date (2026-11-21)")
        }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        return utc.dateComponents([.year, .month, .day], from: date)
    }
}

/// A service report's tables as CSV (`table=`): the console's CSV buttons write the same columns
/// from the JSON, so a file from either place says the same.
enum ServiceReportCSV {
    enum Table: String, CaseIterable {
        case days, agents, channels, hours
    }

    static func text(_ report: ServiceReport, _ table: Table) -> String {
        switch table {
        case .days:
            return CSV.row(["date", "opened", "resolved", "ratings_good", "ratings_bad", "satisfaction"])
                + report.days.map { CSV.row([$0.date, String($0.opened), String($0.resolved), String($0.ratingsGood), String($0.ratingsBad), number($0.satisfaction)]) }
                .joined()
        case .agents:
            return CSV.row(["agent_id", "name"] + durationColumns)
                + report.agents.map { CSV.row([String($0.agentId), $0.name] + durations($0.firstResponse, $0.resolution)) }.joined()
        case .channels:
            return CSV.row(["channel", "opened"] + durationColumns)
                + report.channels.map { CSV.row([$0.channel, String($0.opened)] + durations($0.firstResponse, $0.resolution)) }.joined()
        case .hours:
            let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            return CSV.row(["weekday"] + (0..<24).map(String.init))
                + zip(weekdays, report.busiestHours).map { CSV.row([$0] + $1.map(String.init)) }.joined()
        }
    }

    static let durationColumns = [
        "first_responses", "median_first_response_seconds", "p90_first_response_seconds",
        "resolutions", "median_resolution_seconds", "p90_resolution_seconds",
    ]

    static func durations(_ first: ServiceReport.Durations, _ resolution: ServiceReport.Durations) -> [String] {
        [String(first.count), number(first.medianSeconds), number(first.p90Seconds), String(resolution.count), number(resolution.medianSeconds), number(resolution.p90Seconds)]
    }

    static func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "" }
}
