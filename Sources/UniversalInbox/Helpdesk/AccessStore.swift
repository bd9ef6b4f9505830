import Foundation
import GRDB

/// What the access policy decides on (`Caller.check`): where the tickets a target is reached
/// through stand now. One implementation per database (`SQLiteAccessStore` below,
/// `PostgresAccessStore` in PostgresStore), held to one contract (Tests/StoreTests).
public protocol AccessStore: Sendable {
    /// The place of the ticket a ticket, message or attachment belongs to (one element), or of every
    /// ticket of a contact (none for a contact without tickets); nil when the target does not exist.
    func places(of target: Guarded) async throws -> [TicketPlace]?
}

/// `AccessStore` on SQLite; `places(_:of:)` also serves checks inside a write transaction.
public struct SQLiteAccessStore: AccessStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func places(of target: Guarded) async throws -> [TicketPlace]? {
        try await database.pool.read { db in try Self.places(db, of: target) }
    }

    static func places(_ db: Database, of target: Guarded) throws -> [TicketPlace]? {
        let place = { (row: Row) in TicketPlace(agentId: row["agent_id"], departmentId: row["department_id"]) }
        switch target {
        case .ticket(let id):
            return try Row.fetchOne(db, sql: "SELECT agent_id, department_id FROM tickets WHERE id = ?", arguments: [id]).map { [place($0)] }
        case .message(let id):
            return try Row.fetchOne(db, sql: """
                SELECT t.agent_id, t.department_id FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = ?
                """, arguments: [id]).map { [place($0)] }
        case .attachment(let id):
            return try Row.fetchOne(db, sql: """
                SELECT t.agent_id, t.department_id FROM attachments a JOIN messages m ON m.id = a.message_id JOIN tickets t ON t.id = m.ticket_id
                WHERE a.id = ?
                """, arguments: [id]).map { [place($0)] }
        case .contact(let id), .contactHistory(let id):
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [id]) != nil else { return nil }
            return try Row.fetchAll(db, sql: "SELECT agent_id, department_id FROM tickets WHERE contact_id = ? ORDER BY id", arguments: [id]).map(place)
        }
    }
}
