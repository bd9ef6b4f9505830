import ChannelKit
import GRDB

extension MessageThread {
    /// How many of a mail's references the ingest looks up (nearest first): a References header
    /// can be long, and the nearest ones decide.
    public static let referencesConsidered = 20
}

extension TicketStatus {
    /// A reply threading into a ticket in one of these reopens it (a spam ticket stays spam).
    public var waitsOrEnded: Bool { self == .pending || self == .resolved || self == .closed }
}

extension MessageThread {
    /// The thread a reply on `account` in ticket `ticketId` belongs to: the ticket's messages on that
    /// account that have a platform id (the customer's Message-IDs and our sent replies'), nearest
    /// first (`capped`), without the `#n` ids of a mail's attachments; the ticket's number and subject.
    static func ofReply(ticketId: Int64, account: String, _ db: Database) throws -> MessageThread {
        func ids(_ order: String, _ limit: Int) throws -> [String] {
            try String.fetchAll(
                db.cachedStatement(sql: """
                    SELECT platform_message_id FROM messages
                    WHERE ticket_id = ? AND account = ? AND platform_message_id IS NOT NULL AND instr(platform_message_id, '#') = 0
                    ORDER BY id \(order) LIMIT ?
                    """),
                arguments: [ticketId, account, limit])
        }
        let newest = try ids("DESC", referencesConsidered)
        let references = try capped(newest, first: newest.count < referencesConsidered ? nil : ids("ASC", 1).first)
        let subject = try String?.fetchOne(db.cachedStatement(sql: "SELECT subject FROM tickets WHERE id = ?"), arguments: [ticketId]) ?? nil
        return MessageThread(references: references, ticketNumber: ticketId, subject: subject)
    }

    /// A reply's references, nearest first: the newest `referencesConsidered` ids, or when there
    /// are more, the newest but one and the conversation's first (mail programs thread on the
    /// first id of References as much as on the last).
    package static func capped(_ newest: [String], first: String?) -> [String] {
        guard let first, !newest.contains(first) else { return newest }
        return newest.prefix(referencesConsidered - 1) + [first]
    }
}
