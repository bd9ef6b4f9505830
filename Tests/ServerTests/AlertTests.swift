@testable import BridgeServer
import ChannelKit
import Foundation
import GRDB
import PlatformStandIns
import TestSupport
import Testing
import UniversalInbox

/// Agents' alerts: desktop over the live feed, SMS through the Twilio account, preferences, quiet
/// hours, coalescing bursts, retries, and tickets waiting too long.
@Suite struct AlertTests {
    static func fast(_ config: inout BridgeConfig) {
        config.notifier.smsAccount = "main"
        config.notifier.coalesceWindow = 0.5
        config.notifier.waitingAfter = 0.3
    }

    func smsTo(_ t: TestBridge, _ phone: String) -> [String] {
        t.sms.requests.compactMap { request in
            let form = FormEncoding.decode(request.body) ?? []
            return form.first { $0.0 == "To" }?.1 == phone ? form.first { $0.0 == "Body" }?.1 : nil
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func desktopAlertsAndABurstBecomesOneAlertWithACount() async throws {
        // The bridge's clock stands still until the test moves it: the burst cannot outlast the window.
        let clock = ManualClock()
        try await TestBridge.with(standIns: [.line], clock: clock, configure: {
            Self.fast(&$0)
            $0.notifier.coalesceWindow = 3
        }) { t in
            let ann = try await t.addAgent("Ann")
            let live = try await LiveClient.connect(t, token: ann.token)
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello?")
            let opened = try await live.next("alert") { $0["event"] as? String == "new_ticket" }
            #expect(opened["ticketId"] as? Int64 == ticket)
            #expect((opened["body"] as? String)?.contains("hello?") == true)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)

            func pendingCount() async throws -> Int? {
                try await t.bridge.inbox.database.pool.read { db in
                    try Int.fetchOne(db, sql: "SELECT count FROM notifications WHERE event = 'customer_message' AND status = 'pending'")
                }
            }
            for n in 1...5 { _ = try await t.customerWrites(Payloads.lineUser, "message \(n)") }
            try await t.eventually("the burst gathered into one alert") { try await pendingCount() == 5 }
            clock.advance(by: 3.1)
            let burst = try await live.next("alert") { $0["event"] as? String == "customer_message" }
            #expect(burst["count"] as? Int == 5)
            #expect((burst["body"] as? String)?.hasPrefix("5 new messages on ticket #\(ticket)") == true)

            // The next message starts a new window; its alert is the next one, with nothing between.
            _ = try await t.customerWrites(Payloads.lineUser, "message 6")
            try await t.eventually("the next alert gathered") { try await pendingCount() == 1 }
            clock.advance(by: 3.1)
            let next = try await live.next("alert") { $0["event"] as? String == "customer_message" && $0["count"] as? Int == 1 }
            #expect(next["ticketId"] as? Int64 == ticket)
            #expect(live.messages.filter { $0["type"] as? String == "alert" && $0["event"] as? String == "customer_message" }.count == 2)
            await live.close()
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func smsAlertsFollowPreferencesAndQuietHours() async throws {
        try await TestBridge.with(standIns: [.line, .sms], configure: Self.fast) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            #expect(try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["sms"]}}"#.utf8), token: ann.token).errorCode == "no_phone")
            #expect(try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{},"phone":"+1","quietStart":"25:00","quietEnd":"07:00"}"#.utf8), token: ann.token).errorCode == "invalid_quiet_hours")
            #expect(try await t.get("/api/v1/me/alerts").errorCode == "not_an_agent")
            let set = try await t.request(
                .PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["sms","desktop"],"new_ticket":[]},"phone":"+15550100001"}"#.utf8), token: ann.token)
            #expect(set.status == 200)
            #expect((set.json["media"] as? [String: [String]])?["assigned"] == ["sms", "desktop"])
            // Bob's quiet hours cover every moment of the day but one minute.
            let now = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
            let end = String(format: "%02d:%02d", ((now.hour ?? 0) + 23) % 24, 59)
            _ = try await t.request(
                .PUT, "/api/v1/me/alerts",
                body: Data(#"{"media":{"assigned":["sms"]},"phone":"+15550100002","quietStart":"\#(String(format: "%02d:00", now.hour ?? 0))","quietEnd":"\#(end)","timeZone":"UTC"}"#.utf8),
                token: bob.token)

            let first = try await t.customerWrites("U00000000000000000000000000000201", "one")
            let second = try await t.customerWrites("U00000000000000000000000000000202", "two")
            _ = try await t.postJSON("/api/v1/tickets/\(first)/transfer", #"{"agentId":\#(ann.id)}"#)
            _ = try await t.postJSON("/api/v1/tickets/\(second)/transfer", #"{"agentId":\#(bob.id)}"#)
            try await t.eventually("Ann's SMS") { smsTo(t, "+15550100001").count == 1 }
            #expect(smsTo(t, "+15550100001").first?.hasPrefix("Ticket #\(first) is now yours") == true)
            try await t.eventually("Bob's alert held back") {
                try await t.bridge.inbox.database.pool.read { db in
                    try String.fetchOne(db, sql: "SELECT status FROM notifications WHERE agent_id = ? AND medium = 'sms'", arguments: [bob.id])
                } == "suppressed"
            }
            #expect(smsTo(t, "+15550100002").isEmpty)
            // Keeping a ticket yourself sends you nothing.
            let third = try await t.customerWrites("U00000000000000000000000000000203", "three")
            _ = try await t.postJSON("/api/v1/tickets/\(third)/claim", "{}", token: ann.token)
            try await Task.sleep(for: .milliseconds(400))
            #expect(smsTo(t, "+15550100001").count == 1)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aFailingMediumIsRetried() async throws {
        try await TestBridge.with(standIns: [.line, .sms], configure: Self.fast) { t in
            let ann = try await t.addAgent("Ann")
            _ = try await t.request(.PUT, "/api/v1/me/alerts", body: Data(#"{"media":{"assigned":["sms"]},"phone":"+15550100003"}"#.utf8), token: ann.token)
            t.sms.script("/2010-04-01/Accounts/AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a/Messages.json", [.json(#"{"code":20500,"message":"down"}"#, status: 503)])
            let ticket = try await t.customerWrites(Payloads.lineUser, "hi")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(ann.id)}"#)
            try await t.eventually("the alert sent on the second try") {
                let row: (status: String, attempts: Int)? = try await t.bridge.inbox.database.pool.read { db in
                    try Row.fetchOne(db, sql: "SELECT status, attempts FROM notifications WHERE agent_id = ? AND medium = 'sms'", arguments: [ann.id])
                        .map { ($0["status"], $0["attempts"]) }
                }
                return row?.status == "sent" && row?.attempts == 2
            }
            #expect(t.sms.requests.count == 2)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func ticketsWaitingTooLongAlertTheirDepartment() async throws {
        try await TestBridge.with(standIns: [.line], configure: {
            Self.fast(&$0)
            $0.notifier.waitingAfter = 2
        }) { t in
            let sales = try await t.addDepartment("Sales")
            let sam = try await t.addAgent("Sam", departments: [sales])
            let other = try await t.addAgent("Otto")
            _ = try await t.patchJSON("/api/v1/agents/\(other.id)", #"{"departments":[]}"#)
            // The account's tickets open in Sales's queue (a transfer after the ticket opened would
            // race the alert worker: the ticket would count as waiting for everyone until it landed).
            #expect(try await t.api.raw(.PUT, "/api/v1/channel-accounts/line/main/department", json: #"{"departmentId":\#(sales)}"#).status == 200)
            let samLive = try await LiveClient.connect(t, token: sam.token)
            let ticket = try await t.customerWrites(Payloads.lineUser, "anyone?")
            let waiting = try await samLive.next("alert") { $0["event"] as? String == "waiting" }
            #expect(waiting["ticketId"] as? Int64 == ticket)
            let ottoWaiting = try await t.bridge.inbox.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM notifications WHERE agent_id = ? AND event = 'waiting'", arguments: [other.id])
            }
            #expect(ottoWaiting == 0)
            await samLive.close()
        }
    }
}
