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
    /// first, without the `#n` ids of a mail's attachments; the ticket's number and subject.
    static func ofReply(ticketId: Int64, account: String, _ db: Database) throws -> MessageThread {
        let references = try String.fetchAll(
            db.cachedStatement(sql: """
                SELECT platform_message_id FROM messages
                WHERE ticket_id = ? AND account = ? AND platform_message_id IS NOT NULL AND instr(platform_message_id, '#') = 0
                ORDER BY id DESC LIMIT ?
                """),
            arguments: [ticketId, account, referencesConsidered])
        let subject = try String?.fetchOne(db.cachedStatement(sql: "SELECT subject FROM tickets WHERE id = ?"), arguments: [ticketId]) ?? nil
        return MessageThread(references: references, ticketNumber: ticketId, subject: subject)
    }
}
