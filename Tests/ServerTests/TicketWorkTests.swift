@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Working a ticket: collisions, tags, priority, resolution reasons, notes, read marks, filters.
@Suite struct TicketWorkTests {
    @Test func twoAgentsReplyingAtOnceOneIsToldWhatChanged() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ann = try await t.addAgent("Ann")
            let bob = try await t.addAgent("Bob")
            let ticket = try await t.customerWrites(Payloads.lineUser, "Where is my order?")
            let version = try await t.api.ticket(ticket).version

            let replies = try await withThrowingTaskGroup(of: (String, Result<MessageDTO, APIFailure>).self) { group in
                for (name, agent) in [("Ann", ann), ("Bob", bob)] {
                    group.addTask {
                        let api = t.api(as: agent)
                        do {
                            return (name, .success(try await api.reply(ticket, .init(text: "On its way — \(name)", version: version))))
                        } catch let failure as APIFailure {
                            return (name, .failure(failure))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let sent = replies.compactMap { name, result in (try? result.get()).map { _ in name } }
            let refusals = replies.compactMap { _, result in if case .failure(let failure) = result { failure } else { nil } }
            #expect(sent.count == 1)
            let winner = try #require(sent.first)
            let refused = try #require(refusals.first)
            #expect(refused.status == 409)
            #expect(refused.code == "ticket_changed")
            #expect(try refused.decode(TicketChangedDTO.self).newerMessages.map(\.text) == ["On its way — \(winner)"])
            #expect(try await t.api.messages(ticket).count == 2)

            // The loser may send anyway.
            let loser = t.api(as: winner == "Ann" ? bob : ann)
            _ = try await loser.reply(ticket, .init(text: "Also: tracking is 123", version: version, force: true))
            // Without a version there is no check (integrations that do not track it).
            _ = try await t.api.reply(ticket, .init(text: "Bye"))
            #expect(try await t.api.messages(ticket).count == 4)
        }
    }

    @Test func tagsPriorityAndResolutionReasonsAreRecorded() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (api, ann) = (t.api, t.api(as: try await t.addAgent("Ann")))
            let ticket = try await t.customerWrites(Payloads.lineUser, "refund please")
            let other = try await t.customerWrites("U00000000000000000000000000000042", "hello")
            let changed = try await ann.updateTicket(ticket, .init(priority: "high", addTags: ["Refund", " vip "]))
            #expect(changed.priority == .high)
            #expect(changed.tags == ["refund", "vip"])
            let resolved = try await ann.updateTicket(ticket, .init(status: "resolved", resolutionReason: "solved by chat", removeTags: ["vip"]))
            #expect(resolved.status == .resolved)
            #expect(resolved.resolutionReason == .solvedByChat)
            #expect(resolved.tags == ["refund"])

            #expect(try await api.failure(of: await api.updateTicket(ticket, .init(priority: "asap"))).code == "invalid_priority")
            #expect(try await api.failure(of: await api.updateTicket(ticket, .init(resolutionReason: "bored"))).code == "invalid_resolutionReason")
            #expect(try await api.failure(of: await api.updateTicket(ticket, .init(addTags: [""]))).code == "invalid_tag")
            #expect(try await api.failure(of: await api.updateTicket(ticket, .init())).code == "nothing_to_change")
            // A refused change changed nothing.
            #expect(try await api.ticket(ticket).tags == ["refund"])

            #expect(try await api.history(ticket).map(\.kind) == ["priority", "tagged", "tagged", "status", "resolution_reason", "untagged"])

            #expect(try await api.ticketIds("tag=REFUND") == [ticket])
            #expect(try await api.ticketIds("priority=high") == [ticket])
            #expect(try await api.ticketIds("priority=normal") == [other])
            #expect(try await api.ticketIds("tag=refund&status=open").isEmpty)
        }
    }

    @Test func notesStayInternal() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (api, ann) = (t.api, t.api(as: try await t.addAgent("Ann")))
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            let note = try await ann.addNote(ticket, "Called her; she will send the invoice")
            #expect(note.author == "Ann")
            #expect(try await api.failure(of: await api.addNote(ticket, "  ")).code == "invalid_note")
            #expect(try await api.notes(ticket).count == 1)
            // Not a message, never sent.
            #expect(try await api.messages(ticket).count == 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(t.line.requests(to: "/v2/bot/message").isEmpty)
        }
    }

    @Test func unreadUntilTheAgentReadsAndMarkUnread() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (api, ann) = (t.api, t.api(as: try await t.addAgent("Ann")))
            let ticket = try await t.customerWrites(Payloads.lineUser, "hello")
            #expect(try await ann.ticket(ticket).unread == true)
            #expect(try await ann.markRead(ticket).unread == false)
            #expect(try await ann.tickets().items.first?.unread == false)
            // A new customer message makes it unread again; "mark unread" does too.
            _ = try await t.customerWrites(Payloads.lineUser, "are you there?")
            #expect(try await ann.ticket(ticket).unread == true)
            _ = try await ann.markRead(ticket)
            #expect(try await ann.markRead(ticket, false).unread == true)
            // Read marks are per agent; the admin token has none.
            #expect(try await api.ticket(ticket).unread == nil)
            #expect(try await api.failure(of: await api.markRead(ticket)).code == "not_an_agent")
        }
    }

    @Test func savedViewsAndCombinedFilters() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let login = try await t.addAgent("Ann")
            let (api, ann) = (t.api, t.api(as: login))
            let mine = try await t.customerWrites("U00000000000000000000000000000001", "one")
            let pending = try await t.customerWrites("U00000000000000000000000000000002", "two")
            let nobodys = try await t.customerWrites("U00000000000000000000000000000003", "three")
            for id in [mine, pending] { _ = try await ann.claim(id) }
            _ = try await ann.updateTicket(pending, .init(status: "pending"))

            #expect(try await ann.ticketIds("view=mine") == [pending, mine])
            #expect(try await ann.ticketIds("view=my-pending") == [pending])
            #expect(try await ann.ticketIds("view=unassigned") == [nobodys])
            #expect(try await ann.ticketIds("agent=me&status=open") == [mine])
            #expect(try await ann.ticketIds("agent=none") == [nobodys])
            #expect(try await ann.ticketIds("agent=\(login.id)&q=two") == [pending])
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            #expect(try await ann.ticketIds("createdFrom=\(today)").count == 3)
            #expect(try await ann.ticketIds("createdBefore=\(today)").isEmpty)
            #expect(try await api.failure(of: await api.tickets("view=everything")).code == "invalid_view")
            #expect(try await api.failure(of: await api.tickets("view=mine")).code == "not_an_agent")
            #expect(try await api.failure(of: await api.tickets("createdFrom=yesterday")).code == "invalid_createdFrom")
            #expect(try await api.failure(of: await api.tickets("agent=abc")).code == "invalid_agent")
        }
    }
}
