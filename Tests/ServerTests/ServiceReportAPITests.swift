import Foundation
import TestSupport
import Testing
import UniversalInbox

/// `GET /api/v1/reports/service` through the API: days in the asker's time zone, response and
/// resolution times worked out from what agents did, the same figures as CSV, and bad periods and
/// time zones refused with a clear error.
@Suite struct ServiceReportAPITests {
    /// A LINE customer's message stamped with the test's clock (the message's time is the platform's).
    static func customerWrites(_ t: TestBridge, _ clock: ManualClock, _ n: Int, _ text: String) async throws -> Int64 {
        let user = "U" + String(format: "%032d", n)
        _ = try await t.postLINE(Payloads.lineText("01REPORT\(n)", text, at: clock.now.ms, user: user))
        return try #require(try await t.api.ticketIds("contact=\(user)").first)
    }

    @Test func figuresFollowTheAgentsWorkAndTheTimeZone() async throws {
        // 23:00 UTC on 2 November 2026 is 08:00 on the 3rd in Tokyo.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_793_660_400))
        try await TestBridge.with(standIns: [.line], clock: clock) { t in
            let ann = try await t.addAgent("Ann")
            let first = try await Self.customerWrites(t, clock, 1, "where is my order")
            clock.advance(by: 60)
            _ = try await t.postJSON("/api/v1/tickets/\(first)/claim", "{}", token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(first)/messages", #"{"text":"On it"}"#, token: ann.token)
            clock.advance(by: 3600)
            _ = try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"resolved"}"#, token: ann.token)
            let second = try await Self.customerWrites(t, clock, 2, "hello")
            clock.advance(by: 120)
            _ = try await t.postJSON("/api/v1/tickets/\(second)/messages", #"{"text":"Hi"}"#, token: ann.token)

            let query = "from=2026-11-02&to=2026-11-03&timeZone=Asia/Tokyo"
            #expect(try await t.get("/api/v1/reports/service?\(query)", token: ann.token).status == 403)
            let report = try await t.get("/api/v1/reports/service?\(query)").json
            let days = report["days"] as? [[String: Any]] ?? []
            #expect(days.map { $0["date"] as? String } == ["2026-11-02", "2026-11-03"])
            #expect(days.map { $0["opened"] as? Int } == [0, 2])
            #expect(days.map { $0["resolved"] as? Int } == [0, 1])
            let firstResponse = report["firstResponse"] as? [String: Any] ?? [:]
            #expect(firstResponse["count"] as? Int == 2)
            #expect(firstResponse["medianSeconds"] as? Double == 90)
            #expect(firstResponse["p90Seconds"] as? Double == 120)
            #expect((report["resolution"] as? [String: Any])?["medianSeconds"] as? Double == 3660)
            let agents = report["agents"] as? [[String: Any]] ?? []
            #expect(agents.first { $0["name"] as? String == "Ann" }.flatMap { ($0["firstResponse"] as? [String: Any])?["count"] as? Int } == 2)
            #expect((report["channels"] as? [[String: Any]])?.map { $0["channel"] as? String } == ["line"])

            // In UTC the first opened at 23:00 on the 2nd, the second at 00:01 on the 3rd.
            let utc = try await t.get("/api/v1/reports/service?from=2026-11-02&to=2026-11-03").json
            #expect((utc["days"] as? [[String: Any]])?.map { $0["opened"] as? Int } == [1, 1])

            let csv = try await t.get("/api/v1/reports/service?\(query)&format=csv&table=days")
            #expect(csv.text == "date,opened,resolved,ratings_good,ratings_bad,satisfaction\r\n2026-11-02,0,0,0,0,\r\n2026-11-03,2,1,0,0,\r\n")
            let agentsCSV = try await t.get("/api/v1/reports/service?\(query)&format=csv&table=agents").text
            #expect(agentsCSV.contains("\r\n\(ann.id),Ann,2,90.000,120.000,1,3660.000,3660.000\r\n"))
            let hours = try await t.get("/api/v1/reports/service?\(query)&format=csv&table=hours").text.split(separator: "\r\n")
            #expect(hours.count == 8)
            #expect(hours[2].hasPrefix("tuesday,0,0,0,0,0,0,0,0,1,"))  // the second customer wrote at 09:01 in Tokyo

            let mars = try await t.get("/api/v1/reports/service?\(query.replacingOccurrences(of: "Asia/Tokyo", with: "Mars/Base"))")
            #expect(mars.status == 422 && mars.errorCode == "invalid_time_zone")
            #expect(try await t.get("/api/v1/reports/service?from=2026-11-03&to=2026-11-02").errorCode == "invalid_period")
            #expect(try await t.get("/api/v1/reports/service?from=2025-01-01&to=2026-11-02").errorCode == "invalid_period")
            #expect(try await t.get("/api/v1/reports/service?from=2026-11-02").errorCode == "invalid_period")
            #expect(try await t.get("/api/v1/reports/service?from=2026-11-02&to=2026-11-03&format=csv&table=nope").status == 400)
        }
    }
}
