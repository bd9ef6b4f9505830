@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Working a ticket: collisions, tags, priority, resolution reasons, notes, read marks, filters.
@Suite struct TicketWorkTests {
    @Test func twoAgentsReplyingAtOnceOneIsToldWhatChanged() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my order?")
            let version = try #require(try await t.get("/api/v1/tickets/\(ticket)").json["version"] as? Int)

            let replies = try await withThrowingTaskGroup(of: (String, TestBridge.Reply).self) { group in
                for (name, agent) in [("Ann", ann), ("Bob", bob)] {
                    group.addTask {
                        (name, try await t.postJSON(
                            "/api/v1/tickets/\(ticket)/messages", #"{"text":"On its way — \#(name)","version":\#(version)}"#, token: agent.token))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.map(\.1.status).sorted() == [202, 409])
            let (winner, _) = try #require(replies.first { $0.1.status == 202 })
            let refused = try #require(replies.first { $0.1.status == 409 }?.1)
            #expect(refused.errorCode == "ticket_changed")
            let newer = refused.json["newerMessages"] as? [[String: Any]] ?? []
            #expect(newer.map { $0["text"] as? String } == ["On its way — \(winner)"])
            #expect(try await t.messages(ticket: ticket).count == 2)

            // The loser may send anyway.
            let loser = winner == "Ann" ? bob : ann
            let forced = try await t.postJSON(
                "/api/v1/tickets/\(ticket)/messages", #"{"text":"Also: tracking is 123","version":\#(version),"force":true}"#, token: loser.token)
            #expect(forced.status == 202)
            // Without a version there is no check (integrations that do not track it).
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/messages", #"{"text":"Bye"}"#).status == 202)
            #expect(try await t.messages(ticket: ticket).count == 4)
        }
    }

    @Test func tagsPriorityAndResolutionReasonsAreRecorded() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "refund please")
            let other = try await t.customerWrites("U00000000000000000000000000000042", "hello")
            let changed = try await t.patchJSON(
                "/api/v1/tickets/\(ticket)", #"{"priority":"high","addTags":["Refund"," vip "]}"#, token: ann.token)
            #expect(changed.status == 200)
            #expect(changed.json["priority"] as? String == "high")
            #expect(changed.json["tags"] as? [String] == ["refund", "vip"])
            let resolved = try await t.patchJSON(
                "/api/v1/tickets/\(ticket)", #"{"status":"resolved","resolutionReason":"solved by chat","removeTags":["vip"]}"#, token: ann.token)
            #expect(resolved.json["status"] as? String == "resolved")
            #expect(resolved.json["resolutionReason"] as? String == "solved by chat")
            #expect(resolved.json["tags"] as? [String] == ["refund"])

            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"priority":"asap"}"#).errorCode == "invalid_priority")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"resolutionReason":"bored"}"#).errorCode == "invalid_resolutionReason")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"addTags":[""]}"#).errorCode == "invalid_tag")
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", "{}").errorCode == "nothing_to_change")
            // A refused change changed nothing.
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["tags"] as? [String] == ["refund"])

            let kinds = try await t.get("/api/v1/tickets/\(ticket)/history").items.map { $0["kind"] as? String ?? "" }
            #expect(kinds == ["priority", "tagged", "tagged", "status", "resolution_reason", "untagged"])

            #expect(try await t.get("/api/v1/tickets?tag=REFUND").items.map { $0["id"] as? Int } == [ticket])
            #expect(try await t.get("/api/v1/tickets?priority=high").items.map { $0["id"] as? Int } == [ticket])
            #expect(try await t.get("/api/v1/tickets?priority=normal").items.map { $0["id"] as? Int } == [other])
            #expect(try await t.get("/api/v1/tickets?tag=refund&status=open").items.isEmpty)
        }
    }

    @Test func notesStayInternal() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let note = try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"Called her; she will send the invoice"}"#, token: ann.token)
            #expect(note.status == 201)
            #expect(note.json["author"] as? String == "Ann")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/notes", #"{"text":"  "}"#).errorCode == "invalid_note")
            #expect(try await t.get("/api/v1/tickets/\(ticket)/notes").items.count == 1)
            // Not a message, never sent.
            #expect(try await t.messages(ticket: ticket).count == 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(t.line.requests(to: "/v2/bot/message").isEmpty)
        }
    }

    @Test func unreadUntilTheAgentReadsAndMarkUnread() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            #expect(try await t.get("/api/v1/tickets/\(ticket)", token: ann.token).json["unread"] as? Bool == true)
            let read = try await t.request(.PUT, "/api/v1/tickets/\(ticket)/read", token: ann.token)
            #expect(read.json["unread"] as? Bool == false)
            #expect(try await t.get("/api/v1/tickets", token: ann.token).items.first?["unread"] as? Bool == false)
            // A new customer message makes it unread again; "mark unread" does too.
            _ = try await t.customerWrites(Payloads.lineUser, "are you there?")
            #expect(try await t.get("/api/v1/tickets/\(ticket)", token: ann.token).json["unread"] as? Bool == true)
            _ = try await t.request(.PUT, "/api/v1/tickets/\(ticket)/read", token: ann.token)
            let unread = try await t.request(.DELETE, "/api/v1/tickets/\(ticket)/read", token: ann.token)
            #expect(unread.json["unread"] as? Bool == true)
            // Read marks are per agent; the admin token has none.
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["unread"] == nil)
            #expect(try await t.request(.PUT, "/api/v1/tickets/\(ticket)/read").errorCode == "not_an_agent")
        }
    }

    @Test func savedViewsAndCombinedFilters() async throws {
        try await TestBridge.with { t in
            let ann = try await t.addAgent("Ann")
            let mine = try await t.customerWrites("U00000000000000000000000000000001", "one")
            let pending = try await t.customerWrites("U00000000000000000000000000000002", "two")
            let nobodys = try await t.customerWrites("U00000000000000000000000000000003", "three")
            for id in [mine, pending] { _ = try await t.postJSON("/api/v1/tickets/\(id)/claim", "{}", token: ann.token) }
            _ = try await t.patchJSON("/api/v1/tickets/\(pending)", #"{"status":"pending"}"#, token: ann.token)

            func ids(_ query: String) async throws -> [Int] {
                try await t.get("/api/v1/tickets?\(query)", token: ann.token).items.compactMap { $0["id"] as? Int }
            }
            #expect(try await ids("view=mine") == [pending, mine])
            #expect(try await ids("view=my-pending") == [pending])
            #expect(try await ids("view=unassigned") == [nobodys])
            #expect(try await ids("agent=me&status=open") == [mine])
            #expect(try await ids("agent=none") == [nobodys])
            #expect(try await ids("agent=\(ann.id)&q=two") == [pending])
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            #expect(try await ids("createdFrom=\(today)").count == 3)
            #expect(try await ids("createdBefore=\(today)").isEmpty)
            #expect(try await t.get("/api/v1/tickets?view=everything").errorCode == "invalid_view")
            #expect(try await t.get("/api/v1/tickets?view=mine").errorCode == "not_an_agent")
            #expect(try await t.get("/api/v1/tickets?createdFrom=yesterday").errorCode == "invalid_createdFrom")
            #expect(try await t.get("/api/v1/tickets?agent=abc").errorCode == "invalid_agent")
        }
    }
}
