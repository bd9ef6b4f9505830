@testable import BridgeServer
import Foundation
import GRDB
import Testing
import UniversalInbox

/// Keep, transfer, automatic distribution and the queue, through the REST API.
@Suite struct AssignmentTests {
    static func user(_ n: Int) -> String { "U" + String(format: "%032d", n) }

    @Test func keepAndTransferWithANote() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")

            let kept = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: ann.token)
            #expect(kept.json["agentId"] as? Int64 == ann.id)
            #expect(kept.json["assignee"] as? String == "Ann")
            #expect(kept.json["status"] as? String == "open")
            let taken = try await t.postJSON("/api/v1/tickets/\(ticket)/claim", "{}", token: bob.token)
            #expect(taken.status == 409)
            #expect(taken.errorCode == "already_assigned")
            #expect(taken.errorMessage?.contains("Ann") == true)

            let moved = try await t.postJSON(
                "/api/v1/tickets/\(ticket)/transfer", #"{"agentId":\#(bob.id),"note":"Customer prefers Portuguese"}"#, token: ann.token)
            #expect(moved.json["agentId"] as? Int64 == bob.id)
            let notes = try await t.get("/api/v1/tickets/\(ticket)/notes", token: bob.token).items
            #expect(notes.map { $0["text"] as? String } == ["Customer prefers Portuguese"])
            #expect(notes.first?["author"] as? String == "Ann")

            let history = try await t.get("/api/v1/tickets/\(ticket)/history").items
            #expect(history.map { $0["kind"] as? String } == ["assigned", "transferred"])
            #expect(history.map { $0["actor"] as? String } == ["agent:\(ann.id)", "agent:\(ann.id)"])
            let detail = history.last?["detail"] as? [String: String]
            #expect(detail?["fromAgentId"] == String(ann.id))
            #expect(detail?["agentId"] == String(bob.id))
            #expect(detail?["note"] == "Customer prefers Portuguese")

            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", "{}").errorCode == "no_target")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"agentId":999}"#).errorCode == "no_such_agent")
            #expect(try await t.postJSON("/api/v1/tickets/\(ticket)/transfer", #"{"departmentId":999}"#).errorCode == "no_such_department")
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["agentId"] as? Int64 == bob.id)
        }
    }

    @Test func newTicketsGoToTheLeastBusyAvailableAgentOfTheirDepartment() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let sales = try await t.addDepartment("Sales")
            let ann = try await t.addAgent("Ann", departments: [sales], availability: "online")
            let bob = try await t.addAgent("Bob", departments: [sales], availability: "online")
            let off = try await t.addAgent("Otto", departments: [sales], availability: "offline")
            let paused = try await t.addAgent("Paula", departments: [sales], availability: "online")
            _ = try await t.patchJSON("/api/v1/agents/\(paused.id)", #"{"distributionPaused":true}"#, token: paused.token)

            // Ann already has one ticket: the next one goes to Bob.
            let first = try await t.customerWrites(Self.user(1), "first")
            try await t.eventually("the first ticket distributed") { try await t.get("/api/v1/tickets/\(first)").json["agentId"] is Int }
            let firstAgent = try #require(try await t.get("/api/v1/tickets/\(first)").json["agentId"] as? Int64)
            let second = try await t.customerWrites(Self.user(2), "second")
            try await t.eventually("the second ticket distributed") { try await t.get("/api/v1/tickets/\(second)").json["agentId"] is Int }
            let secondAgent = try await t.get("/api/v1/tickets/\(second)").json["agentId"] as? Int64
            #expect(Set([firstAgent, secondAgent]) == Set([ann.id, bob.id]))
            for agent in [off, paused] {
                #expect(try await t.get("/api/v1/tickets?agent=\(agent.id)").items.isEmpty)
            }
            let history = try await t.get("/api/v1/tickets/\(second)/history").items
            #expect(history.first?["actor"] as? String == "system")
            #expect((history.first?["detail"] as? [String: String])?["how"] == "automatic")
        }
    }

    @Test func theAgentWhoServedTheContactBeforeComesFirst() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann", availability: "online")
            let bob = try await t.addAgent("Bob", availability: "online")
            let ticket = try await t.customerWrites(Payloads.lineUser, "my order")
            try await t.eventually("distributed") { try await t.get("/api/v1/tickets/\(ticket)").json["agentId"] is Int }
            let served = try #require(try await t.get("/api/v1/tickets/\(ticket)").json["agentId"] as? Int)
            let other = served == ann.id ? bob : ann
            // The other agent is now the less busy one, but the customer returns to whoever served them.
            _ = try await t.customerWrites(Self.user(9), "someone else")
            try await t.eventually("the other ticket distributed") { try await t.get("/api/v1/tickets?agent=\(other.id)").items.count == 1 }
            #expect(try await t.patchJSON("/api/v1/tickets/\(ticket)", #"{"status":"closed"}"#).status == 200)
            let again = try await t.customerWrites(Payloads.lineUser, "me again")
            #expect(again != ticket)
            try await t.eventually("the new ticket distributed") { try await t.get("/api/v1/tickets/\(again)").json["agentId"] is Int }
            #expect(try await t.get("/api/v1/tickets/\(again)").json["agentId"] as? Int == served)
            let how = (try await t.get("/api/v1/tickets/\(again)/history").items.first?["detail"] as? [String: String])?["how"]
            #expect(how == "automatic, served this contact before")
        }
    }

    @Test func ticketsWaitInTheQueueUntilSomeoneIsAvailable() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.queueMessage = "You are number {{position}} in line; about {{wait}} min." }) { t in
            let ann = try await t.addAgent("Ann", maxTickets: 1, availability: "offline")
            let first = try await t.customerWrites(Self.user(1), "first")
            let second = try await t.customerWrites(Self.user(2), "second")
            // New tickets join the queue once the spam filter has screened them (at once when untrained).
            try await t.eventually("both tickets queued") { try await t.get("/api/v1/queue").items.count == 2 }
            let queue = try await t.get("/api/v1/queue").items
            #expect(queue.map { $0["ticketId"] as? Int64 } == [first, second])
            #expect(queue.map { $0["position"] as? Int } == [1, 2])

            // Each waiting customer is told their place, once.
            try await t.eventually("two queue notices sent") { t.line.requests(to: "/v2/bot/message/reply").count + t.line.requests(to: "/v2/bot/message/push").count == 2 }
            let texts = try await [first, second].asyncMap { try await t.messages(ticket: $0).last?["text"] as? String }
            #expect(texts == ["You are number 1 in line; about 5 min.", "You are number 2 in line; about 10 min."])

            _ = try await t.patchJSON("/api/v1/agents/\(ann.id)", #"{"availability":"online"}"#, token: ann.token)
            try await t.eventually("the oldest ticket handed out") { try await t.get("/api/v1/tickets/\(first)").json["agentId"] as? Int64 == ann.id }
            // Her maximum is 1: the second waits until she resolves the first.
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await t.get("/api/v1/tickets/\(second)").json["agentId"] == nil)
            #expect(try await t.get("/api/v1/queue").items.map { $0["position"] as? Int } == [1])
            #expect(try await t.patchJSON("/api/v1/tickets/\(first)", #"{"status":"resolved"}"#, token: ann.token).status == 200)
            try await t.eventually("the second ticket handed out") { try await t.get("/api/v1/tickets/\(second)").json["agentId"] as? Int64 == ann.id }
            #expect(try await t.get("/api/v1/queue").items.isEmpty)
            #expect(t.line.requests(to: "/v2/bot/message/reply").count + t.line.requests(to: "/v2/bot/message/push").count == 2)
        }
    }

    @Test func concurrentDistributionNeverExceedsAMaximum() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann", maxTickets: 3)
            let bob = try await t.addAgent("Bob", maxTickets: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 { group.addTask { _ = try await t.customerWrites(Self.user(100 + n), "hello \(n)") } }
                try await group.waitForAll()
            }
            // Both come online at once while distributions run concurrently.
            let inbox = t.bridge.inbox
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in [ann, bob] {
                    group.addTask { _ = try await t.patchJSON("/api/v1/agents/\(agent.id)", #"{"availability":"online"}"#, token: agent.token) }
                }
                for _ in 0..<8 { group.addTask { try await inbox.distributeQueued() } }
                try await group.waitForAll()
            }
            try await t.eventually("both agents full") {
                let annHas = try await t.get("/api/v1/tickets?agent=\(ann.id)").items.count
                let bobHas = try await t.get("/api/v1/tickets?agent=\(bob.id)").items.count
                return annHas == 3 && bobHas == 2
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await t.get("/api/v1/tickets?agent=\(ann.id)").items.count == 3)
            #expect(try await t.get("/api/v1/tickets?agent=\(bob.id)").items.count == 2)
            try await t.eventually("the other 15 waiting") { try await t.get("/api/v1/queue").items.count == 15 }
            let assignedEvents = try await inbox.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket_events WHERE kind = 'assigned'")
            }
            #expect(assignedEvents == 5)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
