import ChannelKit
import Foundation

/// One message of the stream, as an agent console (Slack) follows it.
public struct ConsoleItem: Sendable {
    public var message: StoredMessage
    public var ticket: TicketSummary
    /// The console thread of the ticket, once it has one.
    public var thread: String?
}

extension Inbox {
    /// Takes the messages after the console's cursor, oldest first, for this process to post: the
    /// cursor moves past them at once, so another process following the same console never gets
    /// them too. A console seen for the first time starts at the current end of the stream (no
    /// history flood). A post that fails and may be retried gives its message back (`giveBackConsole`).
    public func consoleFeed(account: String, limit: Int) async throws -> [ConsoleItem] {
        var items: [ConsoleItem] = []
        for entry in try await stores.consoleStore.take(account: account, limit: limit) {
            guard let message = try await message(id: entry.messageId), let ticket = try await ticket(id: entry.ticketId) else { continue }
            items.append(ConsoleItem(message: message, ticket: ticket, thread: entry.thread))
        }
        return items
    }

    /// Puts the console's cursor back before `messageId` (its post failed and may be retried), unless
    /// another read has taken messages since `takenThrough` (the last message of the failed read):
    /// then they are not posted again. False when the cursor stayed.
    @discardableResult
    public func giveBackConsole(account: String, from messageId: Int64, takenThrough: Int64) async throws -> Bool {
        try await stores.consoleStore.giveBack(account: account, from: messageId, takenThrough: takenThrough)
    }

    /// Records the console thread of a ticket.
    public func setConsoleThread(account: String, ticketId: Int64, channel: String, thread: String) async throws {
        try await stores.consoleStore.setThread(account: account, ticketId: ticketId, channel: channel, thread: thread)
    }

    /// The ticket a console thread belongs to.
    public func ticket(consoleAccount account: String, channel: String, thread: String) async throws -> Int64? {
        try await stores.consoleStore.ticket(account: account, channel: channel, thread: thread)
    }

    /// The console thread of a ticket.
    public func consoleThread(account: String, ticketId: Int64) async throws -> String? {
        try await stores.consoleStore.thread(account: account, ticketId: ticketId)
    }

    /// Records an event id once; false when it was seen before (console retries, double clicks).
    public func recordOnce(account: String, eventId: String) async throws -> Bool {
        try await stores.consoleStore.recordOnce(account: account, eventId: eventId, now: clock())
    }

    /// A console user takes the ticket: the agent with that e-mail or name when there is one,
    /// otherwise the ticket shows the console's name for them.
    public func claim(ticketId: Int64, by agent: String) async throws -> TicketSummary {
        if let agentId = try await stores.consoleStore.claim(ticketId: ticketId, by: agent, at: clock()) {
            bus.publish([.ticketAssigned(ticketId: ticketId, agentId: agentId)])
        }
        return try await summary(ticketId)
    }
}
