import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `AccessStore` on PostgreSQL: the same lookups as on SQLite, one statement each (a contact's
/// existence and its tickets' places in one query, so no ticket can move between the two).
public struct PostgresAccessStore: AccessStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func places(of target: Guarded) async throws -> [TicketPlace]? {
        let query: PostgresQuery
        switch target {
        case .ticket(let id):
            query = "SELECT true, agent_id, department_id FROM tickets WHERE id = \(id)"
        case .message(let id):
            query = "SELECT true, t.agent_id, t.department_id FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = \(id)"
        case .attachment(let id):
            query = """
                SELECT true, t.agent_id, t.department_id FROM attachments a JOIN messages m ON m.id = a.message_id
                JOIN tickets t ON t.id = m.ticket_id WHERE a.id = \(id)
                """
        case .contact(let id), .contactHistory(let id):
            // One row per ticket, or one row of NULLs for a contact without tickets: the first
            // column says whether that row is a ticket.
            query = """
                SELECT t.id IS NOT NULL, t.agent_id, t.department_id FROM contacts c LEFT JOIN tickets t ON t.contact_id = c.id
                WHERE c.id = \(id) ORDER BY t.id
                """
        }
        var found = false
        var places: [TicketPlace] = []
        for try await (isTicket, agentId, departmentId) in try await client.query(query, logger: logger).decode((Bool, Int64?, Int64?).self) {
            found = true
            if isTicket { places.append(TicketPlace(agentId: agentId, departmentId: departmentId)) }
        }
        return found ? places : nil
    }
}
