import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `PresenceStore` on PostgreSQL, shared by every bridge process on the database. Each write is a
/// transaction that first row-locks `presence_state` (so writers never deadlock and versions are
/// commit order: a reader at version V has every change up to V), changes `presence`, and when a
/// ticket's presence reads differently takes the next version, records the ticket in
/// `presence_changes` and notifies `bridge_presence` (delivered at commit) to wake the other hubs.
public struct PostgresPresenceStore: PresenceStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func set(_ entry: PresenceEntry) async throws {
        try await client.transaction(logger: logger) { connection in
            try await Self.lock(connection, logger: logger)
            let before = try await connection.query(
                "SELECT state, agent_name FROM presence WHERE connection_id = \(entry.connectionId) AND ticket_id = \(entry.ticketId)",
                logger: logger
            ).decode((String, String).self).all().first
            try await connection.query("""
                INSERT INTO presence (connection_id, ticket_id, process_id, agent_id, agent_name, state, expires_at)
                VALUES (\(entry.connectionId), \(entry.ticketId), \(entry.processId), \(entry.agentId), \(entry.agentName),
                    \(entry.state.rawValue), \(entry.expiresAt.ms))
                ON CONFLICT (connection_id, ticket_id) DO UPDATE SET process_id = excluded.process_id, agent_id = excluded.agent_id,
                    agent_name = excluded.agent_name, state = excluded.state, expires_at = excluded.expires_at
                """, logger: logger)
            if before?.0 != entry.state.rawValue || before?.1 != entry.agentName {
                try await Self.record([entry.ticketId], connection, logger: logger)
            }
        }
    }

    public func remove(connectionId: UUID, ticketId: Int64?) async throws {
        try await client.transaction(logger: logger) { connection in
            try await Self.lock(connection, logger: logger)
            let removed = try await connection.query("""
                DELETE FROM presence WHERE connection_id = \(connectionId) AND (\(ticketId)::bigint IS NULL OR ticket_id = \(ticketId))
                RETURNING ticket_id
                """, logger: logger).decode(Int64.self).all()
            try await Self.record(removed, connection, logger: logger)
        }
    }

    public func presence(ticketId: Int64, now: Date) async throws -> [PresenceEntry] {
        let rows = try await client.query("""
            SELECT connection_id, process_id, agent_id, agent_name, state, expires_at FROM presence
            WHERE ticket_id = \(ticketId) AND expires_at >= \(now.ms)
            """, logger: logger)
        var entries: [PresenceEntry] = []
        for try await (connectionId, processId, agentId, agentName, state, expiresAt) in rows.decode((UUID, String, Int64?, String, String, Int64).self) {
            entries.append(
                PresenceEntry(
                    connectionId: connectionId, processId: processId, agentId: agentId, agentName: agentName, ticketId: ticketId,
                    state: try UnknownStoredValue.decode(state, as: PresenceEntry.State.self, column: "state"), expiresAt: Date(ms: expiresAt)))
        }
        return entries.byName()
    }

    public func expire(now: Date, sparing processId: String) async throws {
        // A plain read first, so an idle sweep (every second in every process) takes no lock.
        let due = try await client.query("""
            SELECT EXISTS (SELECT 1 FROM presence WHERE expires_at < \(now.ms) AND process_id <> \(processId))
                OR EXISTS (SELECT 1 FROM presence_changes, presence_state s WHERE presence_changes.version <= s.version - \(PresenceChanges.retained))
            """, logger: logger).decode(Bool.self).all().first ?? false
        guard due else { return }
        try await client.transaction(logger: logger) { connection in
            try await Self.lock(connection, logger: logger)
            let expired = try await connection.query(
                "DELETE FROM presence WHERE expires_at < \(now.ms) AND process_id <> \(processId) RETURNING ticket_id", logger: logger
            ).decode(Int64.self).all()
            try await Self.record(expired, connection, logger: logger)
            try await connection.query("""
                WITH gone AS (
                    DELETE FROM presence_changes c USING presence_state s WHERE c.version <= s.version - \(PresenceChanges.retained) RETURNING c.version
                )
                UPDATE presence_state SET pruned_through = GREATEST(pruned_through, COALESCE((SELECT max(version) FROM gone), 0)) WHERE id = 1
                """, logger: logger)
        }
    }

    public func changes(after version: Int64?) async throws -> PresenceChanges {
        // One statement, one snapshot: the version and the records it covers agree.
        let after = version ?? Int64.max
        let rows = try await client.query("""
            SELECT s.version, s.pruned_through > \(after),
                CASE WHEN s.pruned_through > \(after) THEN ARRAY(SELECT DISTINCT ticket_id FROM presence ORDER BY ticket_id)
                    ELSE ARRAY(SELECT ticket_id FROM presence_changes WHERE version > \(after) ORDER BY ticket_id) END
            FROM presence_state s WHERE s.id = 1
            """, logger: logger)
        for try await (current, resync, ticketIds) in rows.decode((Int64, Bool, [Int64]).self) {
            return PresenceChanges(version: current, ticketIds: version == nil ? [] : ticketIds, resync: resync)
        }
        return PresenceChanges(version: 0, ticketIds: [], resync: false)  // the migration inserts the row
    }

    /// The row lock every writer takes first, held until commit.
    private static func lock(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT 1 FROM presence_state WHERE id = 1 FOR UPDATE", logger: logger)
    }

    /// One new version for a change touching `ticketIds`, and the notification that wakes the hubs.
    private static func record(_ ticketIds: [Int64], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !ticketIds.isEmpty else { return }
        try await connection.query("""
            WITH next AS (UPDATE presence_state SET version = version + 1 WHERE id = 1 RETURNING version),
                recorded AS (
                    INSERT INTO presence_changes (ticket_id, version) SELECT DISTINCT unnest(\(ticketIds)::bigint[]), next.version FROM next
                    ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version
                )
            SELECT pg_notify(\(PostgresSchema.presenceChannel), version::text) FROM next
            """, logger: logger)
    }
}
