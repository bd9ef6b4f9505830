import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `EventLogStore` on PostgreSQL. `append_event` numbers entries under a row lock on `event_seq`,
/// so a reader that sees `seq` N sees every entry before it (Schema/EventLogSchema.swift); a slice is
/// read in one REPEATABLE READ snapshot, so its head, pruning mark and entries agree.
public struct PostgresEventLogStore: EventLogStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func head() async throws -> Int64 {
        try await client.withConnection { try await Self.head($0, logger: logger) }
    }

    public func slice(after: Int64, limit: Int) async throws -> EventLogSlice {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let head = try await Self.head(connection, logger: logger)
            var prunedThrough: Int64 = 0
            for try await value in try await connection.query("SELECT pruned_through FROM event_log_state", logger: logger).decode(Int64.self) {
                prunedThrough = value
            }
            let rows = try await connection.query("""
                SELECT e.seq, e.type, e.ticket_id, e.data::text, t.agent_id, t.department_id
                FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
                WHERE e.seq > \(after) ORDER BY e.seq LIMIT \(Int64(limit))
                """, logger: logger)
            var entries: [EventLogSlice.Entry] = []
            for try await (seq, type, ticketId, data, agentId, departmentId) in rows.decode((Int64, String, Int64, String?, Int64?, Int64?).self) {
                guard let event = LoggedEvent(seq: seq, type: type, ticketId: ticketId, data: data) else { continue }
                entries.append(EventLogSlice.Entry(event: event, place: TicketPlace(agentId: agentId, departmentId: departmentId)))
            }
            return EventLogSlice(entries: entries, head: head, prunedThrough: prunedThrough)
        }
    }

    public func prune(keep: Int) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            let through = try await Self.head(connection, logger: logger) - Int64(keep)
            guard through > 0 else { return 0 }
            var deleted: Int64 = 0
            let rows = try await connection.query(
                "WITH gone AS (DELETE FROM events WHERE seq <= \(through) RETURNING 1) SELECT count(*) FROM gone", logger: logger)
            for try await count in rows.decode(Int64.self) { deleted = count }
            try await connection.query("UPDATE event_log_state SET pruned_through = greatest(pruned_through, \(through))", logger: logger)
            return Int(deleted)
        }
    }

    /// The last number handed out (committed): `event_seq` keeps it even when every entry is pruned.
    static func head(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await seq in try await connection.query("SELECT seq FROM event_seq", logger: logger).decode(Int64.self) { return seq }
        return 0
    }
}
