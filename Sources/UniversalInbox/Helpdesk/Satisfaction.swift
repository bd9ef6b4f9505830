import ChannelKit
import Foundation
import GRDB

/// A customer's satisfaction rating of a resolved ticket.
public enum Rating: String, Sendable, Codable, CaseIterable {
    case good, bad
}

extension Inbox {
    /// Resolved tickets (in the last `within`) that have had no rating request yet.
    public func ticketsAwaitingRatingRequest(within: TimeInterval = 86400, limit: Int = 100) async throws -> [Int64] {
        try await stores.satisfactionStore.ticketsAwaitingRatingRequest(resolvedSince: clock().addingTimeInterval(-within), limit: limit)
    }

    /// Asks the customer of a resolved ticket to rate it, on their channel, once per ticket; the
    /// question and its choices go out as one message (buttons where the platform has them).
    /// When the channel's rules refuse it now (a closed window, an opted-out number) that is
    /// recorded instead. Returns whether a request was queued.
    @discardableResult
    public func requestRating(
        ticketId: Int64, question: String, choices: [MessageContent.Choice], vet: @escaping @Sendable (ReplyTarget) -> SendError?
    ) async throws -> Bool {
        guard let messageId = try await stores.satisfactionStore.requestRating(ticketId: ticketId, question: question, choices: choices, now: clock(), vet: vet)
        else { return false }
        bus.publish([.messageQueued(ticketId: ticketId, messageId: messageId)])
        return true
    }
}

extension Inbox {
    /// A contact's answered ratings, newest first, on the tickets `actor` may read (a restricted
    /// agent sees no answer about a ticket outside its departments). The contact is found through
    /// the tickets, so ratings follow tickets moved by a contact link.
    public func answeredRatings(contactId: Int64, readableBy actor: Caller, limit: Int = 20) async throws -> [ContactDetail.Rated] {
        try await stores.satisfactionStore.answeredRatings(contactId: contactId)
            .filter { actor.may(.read, assignedTo: $0.agentId, department: $0.departmentId) }
            .prefix(limit)
            .map { ContactDetail.Rated(ticketId: $0.ticketId, rating: $0.rating, answeredAt: $0.answeredAt) }
    }
}

extension IngestWriter {
    /// The contact's newest rating request that waits for an answer (read in `ratings_pending`'s
    /// order: every customer message asks it, v39).
    static let pendingRatingSQL = """
        SELECT r.ticket_id, r.choices FROM ratings r JOIN tickets t ON t.id = r.ticket_id
        WHERE r.contact_id = ? AND r.state = 'requested' AND r.rating IS NULL AND t.status IN ('resolved', 'closed')
        ORDER BY r.requested_at DESC, r.ticket_id DESC LIMIT 1
        """

    /// When the contact has a rating request waiting and this message answers it, records the rating
    /// (for the agent who had the ticket) and files the answer in that ticket without reopening it.
    /// Returns the ticket, or nil when the message is not an answer.
    func ratingAnswer(_ content: MessageContent, contactId: Int64) throws -> (ticketId: Int64, rating: Rating)? {
        let select = try DirectStatement(db, Self.pendingRatingSQL, contactId)
        guard let (ticketId, choices) = try select.first({ ($0.int64(0), $0.string(1) ?? "") }),
            let rating = try Rating(answering: content, choices: choices)
        else { return nil }
        try db.cachedStatement(sql: "UPDATE ratings SET rating = ?, rated_at = ? WHERE ticket_id = ?").execute(arguments: [rating.rawValue, now, ticketId])
        try Inbox.record(db, ticketId: ticketId, "rated", by: "customer", ["rating": rating.rawValue], at: now)
        return (ticketId, rating)
    }
}

extension Rating {
    /// The rating `content` gives when it answers a rating request that offered `choices` (as
    /// stored, JSON), or nil when it is not an answer. One reading for both databases' ingest.
    package init?(answering content: MessageContent, choices: String) throws {
        let choices = try ContentCoding.decode([MessageContent.Choice].self, choices)
        guard let choice = MessageContent.choice(answering: content, from: choices),
            let rating = Rating(rawValue: choice.payload.replacingOccurrences(of: "rating:", with: ""))
        else { return nil }
        self = rating
    }
}
