import Foundation
import Logging
import PostgresNIO
import UniversalInbox

extension PostgresSchema {
    /// E-mail accounts' mailbox cursors (SQLite v34, `UniversalInbox/Email/MailboxCursors.swift`).
    static let mailboxCursors = [
        """
        CREATE TABLE email_mailbox_cursors (
            account TEXT NOT NULL,
            mailbox TEXT NOT NULL,
            uid_validity BIGINT NOT NULL,
            last_uid BIGINT NOT NULL,
            PRIMARY KEY (account, mailbox)
        )
        """,
    ]
}

/// `MailboxCursorStore` on PostgreSQL: one conditional upsert, so two writers at once (a reader
/// that lost its lease and the one that took it over) leave the furthest cursor.
public struct PostgresMailboxCursorStore: MailboxCursorStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func cursor(account: String, mailbox: String) async throws -> MailboxCursor? {
        let rows = try await client.query(
            "SELECT uid_validity, last_uid FROM email_mailbox_cursors WHERE account = \(account) AND mailbox = \(mailbox)", logger: logger)
        for try await (validity, last) in rows.decode((Int64, Int64).self) {
            return MailboxCursor(uidValidity: UInt32(truncatingIfNeeded: validity), lastUID: UInt32(truncatingIfNeeded: last))
        }
        return nil
    }

    public func advance(account: String, mailbox: String, to cursor: MailboxCursor) async throws {
        try await client.query("""
            INSERT INTO email_mailbox_cursors (account, mailbox, uid_validity, last_uid)
            VALUES (\(account), \(mailbox), \(Int64(cursor.uidValidity)), \(Int64(cursor.lastUID)))
            ON CONFLICT (account, mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid
            WHERE email_mailbox_cursors.uid_validity <> excluded.uid_validity OR email_mailbox_cursors.last_uid < excluded.last_uid
            """, logger: logger)
    }
}
