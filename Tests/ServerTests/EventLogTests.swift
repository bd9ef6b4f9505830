@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// The ordered event log: every change is appended where it is made, read back by `seq` over REST
/// and the live socket, and a page that was away catches up exactly.
@Suite struct EventLogTests {
    /// Every kind of change, made through the API and webhooks, is in the log once, in order.
    @Test func everyChangeIsLoggedInTheOrderItWasMade() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let support = try await t.addDepartment("Support")
            let ann = try await t.addAgent("Ann", departments: [support])
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my parcel?")
            try await t.eventually("the customer's name fetched") {
                (try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["displayName"] as? String == "Kenji"
            }
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            let reply = try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"On its way"}"#, token: ann.token)
            let replyId = try #require(reply.json["id"] as? Int)
            try await t.eventually("the reply sent") {
                try await t.get("/api/v1/events?after=0").events.contains { $0["type"] as? String == "message_status" && $0["messageId"] as? Int == replyId }
            }
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"VIP"}"#, token: ann.token)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"priority":"high","addTags":["vip"]}"#, token: ann.token)
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"resolved","resolutionReason":"solved by chat"}"#, token: ann.token)

            let page = try await t.get("/api/v1/events?after=0")
            #expect(page.status == 200)
            let events = page.events.filter { $0["ticketId"] as? Int64 == ticket }
            let seqs = events.compactMap { $0["seq"] as? Int }
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            #expect(page.json["head"] as? Int == page.events.compactMap { $0["seq"] as? Int }.max())
            let kinds = events.map { event in
                [event["type"] as? String, event["direction"] as? String, event["status"] as? String, event["kind"] as? String].compactMap { $0 }.joined(separator: " ")
            }
            // In the order the changes were made (the customer's name, then the agent's changes; the
            // delivery states of the reply arrive as the dispatcher works).
            let expected = ["ticket_opened", "message in", "ticket_updated", "assigned", "status open", "history assigned", "message out", "note", "ticket_updated", "ticket_updated", "status resolved"]
            #expect(kinds.filter { !$0.hasPrefix("message_status") && !$0.hasPrefix("history") || $0 == "history assigned" } == expected, "\(kinds)")
            #expect(kinds.contains("message_status sent"))
            #expect(events.first { $0["type"] as? String == "assigned" }?["agentId"] as? Int64 == ann.id)

            // Paging: `next` moves on, and asking from there gives the rest.
            let first = try await t.get("/api/v1/events?after=0&limit=2")
            #expect(first.events.count == 2)
            let rest = try await t.get("/api/v1/events?after=\(first.json["next"] as? Int ?? -1)")
            #expect((first.events + rest.events).compactMap { $0["seq"] as? Int } == page.events.compactMap { $0["seq"] as? Int })

            // Bad positions are refused with a clear error.
            #expect(try await t.get("/api/v1/events?after=-1").errorCode != nil)
            #expect(try await t.get("/api/v1/events?after=x").status == 400)
            #expect(try await t.get("/api/v1/events?limit=0").status == 400)
            #expect(try await t.get("/api/v1/events", token: nil).status == 401)
            // A position ahead of the log asks the client to reload.
            #expect(try await t.get("/api/v1/events?after=999999").json["resync"] as? Bool == true)
        }
    }

    /// A page that was away (asleep, offline, the server restarted) reconnects with the last `seq`
    /// it applied and gets exactly what it missed, in order, then live entries.
    @Test func aReconnectingPageCatchesUpExactly() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "first")
            // The customer's profile look-up runs after ingest and logs a contact change: let it land
            // before the page's position, so "what the page missed" is only what the test does.
            try await t.eventually("the customer's name from the profile look-up") {
                try await t.bridge.inbox.ticket(id: ticket)?.contact.displayName != nil
            }
            let live = try await LiveClient.connect(t, token: ann.token)
            let position = try #require(live.messages.first { $0["type"] as? String == "hello" }?["seq"] as? Int)
            await live.close()

            // While Ann is away: two customer messages and a colleague's status change.
            _ = try await t.customerWrites(Payloads.lineUser, "second")
            _ = try await t.customerWrites(Payloads.lineUser, "third")
            _ = try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"pending"}"#, token: bob.token)
            let missed = try await t.get("/api/v1/events?after=\(position)", token: ann.token).events
            #expect(missed.map { $0["type"] as? String ?? "" } == ["message", "message", "status", "history"], "\(missed)")

            let back = try await LiveClient.connect(t, token: ann.token, after: position)
            _ = try await back.next("status") { $0["status"] as? String == "pending" }
            let replayed = back.messages.filter { ($0["type"] as? String) != "hello" && $0["seq"] != nil }
            #expect(replayed.compactMap { $0["seq"] as? Int } == missed.compactMap { $0["seq"] as? Int })
            #expect(replayed.map { $0["type"] as? String ?? "" } == ["message", "message", "status", "history"])
            #expect(!back.messages.contains { $0["type"] as? String == "resync" })

            // Then live entries follow, after the replayed ones.
            _ = try await t.customerWrites(Payloads.lineUser, "fourth")
            let live4 = try await back.next("message") { ($0["seq"] as? Int ?? 0) > (missed.last?["seq"] as? Int ?? .max) }
            #expect(live4["ticketId"] as? Int64 == ticket)
            await back.close()

            // A position the log does not hold (ahead of it) gets `resync`, and live entries from now.
            let lost = try await LiveClient.connect(t, token: ann.token, after: 1_000_000)
            _ = try await lost.next("resync") { _ in true }
            await lost.close()
        }
    }

    /// Entries are filtered by what the reader may see now; a ticket moved out of a restricted
    /// agent's reach is announced as hidden, and one it never saw is not announced at all.
    @Test func restrictedReadersGetOnlyTheirTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let support = try await t.addDepartment("Support")
            let sam = try await t.addAgent("Sam", departments: [sales])
            _ = try await t.patchJSON("/api/v1/agents/\(sam.id)", #"{"departmentsOnly":true}"#)
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let other = try await t.customerWrites("U1234567890abcdef1234567890abcdef", "hi")
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(sales)}"#)
            let live = try await LiveClient.connect(t, token: sam.token)

            #expect(try await t.get("/api/v1/events?after=0", token: sam.token).events.allSatisfy { $0["ticketId"] as? Int64 == ticket })
            // Moved to Support: Sam is told to drop it; the other ticket moving is none of his business.
            _ = try await t.postJSON("/api/v1/tickets/\(other)/transfer", #"{"departmentId":\#(support)}"#)
            _ = try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":\#(support)}"#)
            _ = try await live.next("ticket_hidden") { $0["ticketId"] as? Int64 == ticket }
            #expect(!live.messages.contains { $0["ticketId"] as? Int64 == other })
            await live.close()
        }
    }
}

/// Names and identities arrive after a ticket: the ticket is marked updated so a page shows them.
@Suite struct EventLogContactTests {
    @Test func aContactsNameArrivingUpdatesItsOpenTickets() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            // The profile (with the name) is fetched after the message was filed.
            try await t.eventually("the name fetched") {
                (try await t.get("/api/v1/tickets/\(ticket)").json["contact"] as? [String: Any])?["displayName"] as? String == "Kenji"
            }
            let types = try await t.get("/api/v1/events?after=0").events.filter { $0["ticketId"] as? Int64 == ticket }.map { $0["type"] as? String ?? "" }
            let afterMessage = types.drop { $0 != "message" }
            #expect(afterMessage.contains("ticket_updated"), "\(types)")
        }
    }
}

extension TestBridge.Reply {
    var events: [[String: Any]] { json["events"] as? [[String: Any]] ?? [] }
}
