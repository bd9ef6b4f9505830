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
            let api = t.api
            let (annLogin, bobLogin) = (try await t.addAgent("Ann"), try await t.addAgent("Bob"))
            let (ann, bob) = (t.api(as: annLogin), t.api(as: bobLogin))
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")

            let kept = try await ann.claim(ticket)
            #expect(kept.agentId == annLogin.id)
            #expect(kept.assignee == "Ann")
            #expect(kept.status == .open)
            let taken = try await bob.failure(of: await bob.claim(ticket))
            #expect(taken.status == 409)
            #expect(taken.code == "already_assigned")
            #expect(taken.message.contains("Ann"))

            let moved = try await ann.transfer(ticket, agent: bobLogin.id, note: "Customer prefers Portuguese")
            #expect(moved.agentId == bobLogin.id)
            let notes = try await bob.notes(ticket)
            #expect(notes.map(\.text) == ["Customer prefers Portuguese"])
            #expect(notes.first?.author == "Ann")

            let history = try await api.history(ticket)
            #expect(history.map(\.kind) == ["assigned", "transferred"])
            #expect(history.map(\.actor) == ["agent:\(annLogin.id)", "agent:\(annLogin.id)"])
            let detail = history.last?.detail
            #expect(detail?["fromAgentId"] == String(annLogin.id))
            #expect(detail?["agentId"] == String(bobLogin.id))
            #expect(detail?["note"] == "Customer prefers Portuguese")

            #expect(try await api.failure(of: await api.transfer(ticket)).code == "no_target")
            #expect(try await api.failure(of: await api.transfer(ticket, agent: 999)).code == "no_such_agent")
            #expect(try await api.failure(of: await api.transfer(ticket, department: 999)).code == "no_such_department")
            #expect(try await api.ticket(ticket).agentId == bobLogin.id)
        }
    }

    @Test func newTicketsGoToTheLeastBusyAvailableAgentOfTheirDepartment() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let sales = try await t.addDepartment("Sales")
            let ann = try await t.addAgent("Ann", departments: [sales], availability: "online")
            let bob = try await t.addAgent("Bob", departments: [sales], availability: "online")
            let off = try await t.addAgent("Otto", departments: [sales], availability: "offline")
            let paused = try await t.addAgent("Paula", departments: [sales], availability: "online")
            _ = try await t.api(as: paused).updateAgent(paused.id, .init(distributionPaused: true))

            // Ann already has one ticket: the next one goes to Bob.
            let first = try await t.customerWrites(Self.user(1), "first")
            try await t.eventually("the first ticket distributed") { try await api.ticket(first).agentId != nil }
            let firstAgent = try #require(try await api.ticket(first).agentId)
            let second = try await t.customerWrites(Self.user(2), "second")
            try await t.eventually("the second ticket distributed") { try await api.ticket(second).agentId != nil }
            let secondAgent = try await api.ticket(second).agentId
            #expect(Set([firstAgent, secondAgent]) == Set([ann.id, bob.id]))
            for agent in [off, paused] {
                #expect(try await api.tickets("agent=\(agent.id)").items.isEmpty)
            }
            let history = try await api.history(second)
            #expect(history.first?.actor == "system")
            #expect(history.first?.detail["how"] == "automatic")
        }
    }

    @Test func theAgentWhoServedTheContactBeforeComesFirst() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
            let ann = try await t.addAgent("Ann", availability: "online")
            let bob = try await t.addAgent("Bob", availability: "online")
            let ticket = try await t.customerWrites(Payloads.lineUser, "my order")
            try await t.eventually("distributed") { try await api.ticket(ticket).agentId != nil }
            let served = try #require(try await api.ticket(ticket).agentId)
            let other = served == ann.id ? bob : ann
            // The other agent is now the less busy one, but the customer returns to whoever served them.
            _ = try await t.customerWrites(Self.user(9), "someone else")
            try await t.eventually("the other ticket distributed") { try await api.tickets("agent=\(other.id)").items.count == 1 }
            _ = try await api.updateTicket(ticket, .init(status: "closed"))
            let again = try await t.customerWrites(Payloads.lineUser, "me again")
            #expect(again != ticket)
            try await t.eventually("the new ticket distributed") { try await api.ticket(again).agentId != nil }
            #expect(try await api.ticket(again).agentId == served)
            #expect(try await api.history(again).first?.detail["how"] == "automatic, served this contact before")
        }
    }

    @Test func ticketsWaitInTheQueueUntilSomeoneIsAvailable() async throws {
        try await TestBridge.with(standIns: [.line], configure: { $0.queueMessage = "You are number {{position}} in line; about {{wait}} min." }) { t in
            let api = t.api
            let login = try await t.addAgent("Ann", maxTickets: 1, availability: "offline")
            let ann = t.api(as: login)
            let first = try await t.customerWrites(Self.user(1), "first")
            let second = try await t.customerWrites(Self.user(2), "second")
            // New tickets join the queue once the spam filter has screened them (at once when untrained).
            try await t.eventually("both tickets queued") { try await api.queue().count == 2 }
            let queue = try await api.queue()
            #expect(queue.map(\.ticketId) == [first, second])
            #expect(queue.map(\.position) == [1, 2])

            // Each waiting customer is told their place, once.
            try await t.eventually("two queue notices sent") { t.line.requests(to: "/v2/bot/message/reply").count + t.line.requests(to: "/v2/bot/message/push").count == 2 }
            let texts = try await [first, second].asyncMap { try await api.messages($0).last?.text }
            #expect(texts == ["You are number 1 in line; about 5 min.", "You are number 2 in line; about 10 min."])

            _ = try await ann.updateAgent(login.id, .init(availability: "online"))
            try await t.eventually("the oldest ticket handed out") { try await api.ticket(first).agentId == login.id }
            // Her maximum is 1: the second waits until she resolves the first.
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await api.ticket(second).agentId == nil)
            #expect(try await api.queue().map(\.position) == [1])
            _ = try await ann.updateTicket(first, .init(status: "resolved"))
            try await t.eventually("the second ticket handed out") { try await api.ticket(second).agentId == login.id }
            #expect(try await api.queue().isEmpty)
            #expect(t.line.requests(to: "/v2/bot/message/reply").count + t.line.requests(to: "/v2/bot/message/push").count == 2)
        }
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func concurrentDistributionNeverExceedsAMaximum() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let api = t.api
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
                    group.addTask { _ = try await t.api(as: agent).updateAgent(agent.id, .init(availability: "online")) }
                }
                for _ in 0..<8 { group.addTask { try await inbox.distributeQueued() } }
                try await group.waitForAll()
            }
            try await t.eventually("both agents full") {
                let annHas = try await api.tickets("agent=\(ann.id)").items.count
                let bobHas = try await api.tickets("agent=\(bob.id)").items.count
                return annHas == 3 && bobHas == 2
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await api.tickets("agent=\(ann.id)").items.count == 3)
            #expect(try await api.tickets("agent=\(bob.id)").items.count == 2)
            try await t.eventually("the other 15 waiting") { try await api.queue().count == 15 }
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
