@testable import BridgeServer
import Foundation
import TestSupport
import Testing

/// `GET /api/v1/spam`, the console's view of the spam filter: the configured threshold and minimum,
/// and the training agents' marks give it; owners and admins only.
@Suite struct SpamStateTests {
    @Test func theStateFollowsTheTraining() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            #expect(try await t.get("/api/v1/spam", token: ann.token).status == 403)
            let fresh = try await t.get("/api/v1/spam").json
            #expect(fresh["threshold"] as? Double == 0.95)
            #expect(fresh["minimumTraining"] as? Int == 5)
            #expect(fresh["spamTickets"] as? Int == 0)
            #expect(fresh["hamTickets"] as? Int == 0)
            #expect(fresh["active"] as? Bool == false)
            let ticket = try await t.customerWrites("U" + String(format: "%032d", 7), "cheap pills here")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/spam", "{}").status == 200)
            let trained = try await t.get("/api/v1/spam").json
            #expect(trained["spamTickets"] as? Int == 1)
            #expect(trained["active"] as? Bool == false)
        }
    }
}
