import Logging
import PostgresNIO
import UniversalInbox

/// What a feed that follows the event log from a cursor in `feed_cursors` (alerts `notify.log`,
/// outgoing webhooks `webhooks.log`) reads in one go: the entries of the kinds it follows past its
/// cursor, and where the cursor goes next.
struct PostgresFeedRead {
    var events: [LoggedEvent]
    /// The cursor before the read (the head when it had none).
    var from: Int64
    /// Past the last entry of a full batch; the head after a short one (everything of these kinds up
    /// to it was read, so entries of other kinds are not read again).
    var next: Int64

    /// Reads up to `limit` entries of `kinds` after the `name` cursor, up to the head as it was read
    /// first (entries are numbered under the row lock on `event_seq`, so none below it can still
    /// commit). `lockingCursor` holds the cursor's row until the transaction ends, for feeds whose
    /// read and move must be one step across processes.
    static func read(
        _ connection: PostgresConnection, cursor name: String, kinds: [LoggedEvent.Kind], limit: Int, lockingCursor: Bool, logger: Logger
    ) async throws -> PostgresFeedRead {
        var cursor: Int64?
        let lock = lockingCursor ? " FOR UPDATE" : ""
        for try await last in try await connection.query("SELECT last_id FROM feed_cursors WHERE name = \(name)\(unescaped: lock)", logger: logger)
            .decode(Int64.self)
        {
            cursor = last
        }
        let head = try await PostgresEventLogStore.head(connection, logger: logger)
        let from = cursor ?? head
        let rows = try await connection.query("""
            SELECT seq, type, ticket_id, data::text FROM events WHERE seq > \(from) AND seq <= \(head) AND type = ANY(\(kinds.map(\.rawValue)))
            ORDER BY seq LIMIT \(Int64(limit))
            """, logger: logger)
        var events: [LoggedEvent] = []
        var read = 0
        var last = from
        for try await (seq, type, ticketId, data) in rows.decode((Int64, String, Int64, String?).self) {
            read += 1
            last = seq
            if let event = LoggedEvent(seq: seq, type: type, ticketId: ticketId, data: data) { events.append(event) }
        }
        return PostgresFeedRead(events: events, from: from, next: read == limit ? last : max(from, head))
    }
}
