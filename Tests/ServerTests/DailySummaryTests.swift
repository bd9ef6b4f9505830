@testable import BridgeServer
import Foundation
import TestSupport
import Testing
import UniversalInbox

/// The daily summary e-mail through a real SMTP server: owners and admins opt in through the API
/// (an agent cannot), and once the configured hour comes in the configured time zone, yesterday's
/// figures go to those who opted in, and to no one else.
@Suite struct DailySummaryTests {
    func put(_ t: TestBridge, _ path: String, token: String? = TestBridge.adminToken) async throws -> TestBridge.Reply {
        try await t.request(.PUT, path, token: token)
    }

    @Test func yesterdaysFiguresGoToTheManagersWhoOptedIn() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        // 05:00 on Monday 2 November 2026 in Tokyo, before the summary's hour.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_793_563_200))
        try await TestBridge.with(standIns: [.line], janitorInterval: .milliseconds(50), clock: clock, configure: {
            $0.email = server.settings(from: "Reports <reports@example.com>")
            $0.reports.summaryHour = 8
            $0.reports.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        }) { t in
            let ann = try await t.addAgent("Ann")
            let olive = try await t.addAgent("Olive", role: "admin")
            let owen = try await t.addAgent("Owen", role: "admin")

            #expect(try await put(t, "/api/v1/reports/daily-summary/recipients/\(olive.id)", token: ann.token).status == 403)
            #expect(try await put(t, "/api/v1/reports/daily-summary/recipients/\(ann.id)").errorCode == "not_a_manager")
            #expect(try await put(t, "/api/v1/reports/daily-summary/recipients/999999").status == 404)
            #expect(try await put(t, "/api/v1/reports/daily-summary/recipients/\(owen.id)").status == 204)
            #expect(try await t.request(.DELETE, "/api/v1/reports/daily-summary/recipients/\(owen.id)").status == 204)
            #expect(try await put(t, "/api/v1/reports/daily-summary/recipients/\(olive.id)", token: olive.token).status == 204)
            let settings = try await t.get("/api/v1/reports/daily-summary").json
            #expect((settings["recipients"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Olive"])
            #expect(settings["sending"] as? Bool == true)
            #expect(settings["timeZone"] as? String == "Asia/Tokyo")

            let ticket = try await ServiceReportAPITests.customerWrites(t, clock, 1, "where is my order")
            clock.advance(by: 60)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"On it"}"#, token: ann.token)
            clock.advance(by: 3600)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved"}"#, token: ann.token)

            // 08:00 the next day in Tokyo: Monday's summary goes out, to Olive only.
            clock.advance(by: 27 * 3600 - 3660)
            try await t.eventually("the summary e-mail") { try server.received().count >= 1 }
            let mail = try server.received()
            #expect(mail.count == 1)
            #expect(mail[0].to == ["olive@example.com"])
            #expect(SMTPTestServer.decodeWords(mail[0].headers["subject"] ?? "") == "Service summary for 2026-11-02")
            #expect(mail[0].body.contains("Tickets opened: 1"))
            #expect(mail[0].body.contains("Tickets resolved: 1"))
            #expect(mail[0].body.contains("First response: median 1m 0s, 90% within 1m 0s (1)"))
            #expect(mail[0].body.contains("- Ann: first response median 1m 0s"))
        }
    }
}
