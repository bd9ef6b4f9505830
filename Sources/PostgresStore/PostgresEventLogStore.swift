import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `EventLogStore` on PostgreSQL. `append_event` numbers entries under a row lock on `event_seq`,
/// so a reader that sees `seq` N sees every entry before it (Schema/EventLogSchema.swift); a slice is
/// read in one statement, so one snapshot: its head, pruning mark and entries agree.
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
        try await client.withConnection { connection in
            var slice = EventLogSlice(entries: [], head: 0, prunedThrough: 0)
            for row in try await connection.run(Slice(after: after, limit: Int64(limit)), logger: logger) {
                let (head, prunedThrough, seq, type, ticketId, data, agentId, departmentId) =
                    try row.decode((Int64, Int64, Int64?, String?, Int64?, String?, Int64?, Int64?).self)
                (slice.head, slice.prunedThrough) = (head, prunedThrough)
                guard let seq, let type, let ticketId, let event = LoggedEvent(seq: seq, type: type, ticketId: ticketId, data: data) else { continue }
                slice.entries.append(EventLogSlice.Entry(event: event, place: TicketPlace(agentId: agentId, departmentId: departmentId)))
            }
            return slice
        }
    }

    /// A slice in one statement, so in one snapshot: its head, pruning mark and entries agree. A
    /// row per entry, each with the head and the mark (one row of them alone when no entry is past
    /// `after`). Every process's live feed reads a slice whenever any process writes: one round
    /// trip, prepared once per connection, instead of a REPEATABLE READ transaction of six
    /// statements (with BEGIN and COMMIT). The head and the mark read as 0 when their row is
    /// missing, as `head` reads it.
    struct Slice: PreparedStatement {
        static let sql = """
            SELECT coalesce((SELECT max(seq) FROM event_seq), 0), coalesce((SELECT max(pruned_through) FROM event_log_state), 0),
                e.seq, e.type, e.ticket_id, e.data::text, t.agent_id, t.department_id
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (SELECT seq, type, ticket_id, data FROM events WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint) AS e ON true
            LEFT JOIN tickets t ON t.id = e.ticket_id
            ORDER BY e.seq
            """
        var after: Int64
        var limit: Int64

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(after)
            bindings.append(limit)
            return bindings
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
