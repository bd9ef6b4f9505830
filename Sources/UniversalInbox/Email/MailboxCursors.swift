import Foundation
import GRDB

/// How far a mailbox has been read: the mailbox's UIDVALIDITY and the highest UID whose mail is
/// filed (IMAP, RFC 3501 §2.3.1.1). A new UIDVALIDITY means the server renumbered the mailbox:
/// the reader starts again from UID 1, and the Message-ID dedupe makes the re-read a no-op.
public struct MailboxCursor: Sendable, Equatable {
    public var uidValidity: UInt32
    public var lastUID: UInt32

    public init(uidValidity: UInt32, lastUID: UInt32) {
        self.uidValidity = uidValidity
        self.lastUID = lastUID
    }
}

/// Where each e-mail account's mailbox reader records what it has filed, durably, so a restart
/// (or another process taking the reader over) fetches only newer mail.
public protocol MailboxCursorStore: Sendable {
    /// The cursor of `account` (`email/<id>`) on `mailbox`, or nil before its first mail.
    func cursor(account: String, mailbox: String) async throws -> MailboxCursor?

    /// Records that mail up to `cursor.lastUID` is filed. Under the same UIDVALIDITY the cursor
    /// only moves forward (a late writer with an older UID changes nothing); a new UIDVALIDITY
    /// replaces it.
    func advance(account: String, mailbox: String, to cursor: MailboxCursor) async throws
}

extension Schema {
    /// v34: e-mail accounts' mailbox cursors (`MailboxCursorStore`).
    static let mailboxCursors = """
        CREATE TABLE email_mailbox_cursors (
            account TEXT NOT NULL,
            mailbox TEXT NOT NULL,
            uid_validity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL,
            PRIMARY KEY (account, mailbox)
        ) WITHOUT ROWID;
        """
}

/// `MailboxCursorStore` on SQLite.
public struct SQLiteMailboxCursorStore: MailboxCursorStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func cursor(account: String, mailbox: String) async throws -> MailboxCursor? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT uid_validity, last_uid FROM email_mailbox_cursors WHERE account = ? AND mailbox = ?", arguments: [account, mailbox])
                .map { MailboxCursor(uidValidity: UInt32(truncatingIfNeeded: $0[0] as Int64), lastUID: UInt32(truncatingIfNeeded: $0[1] as Int64)) }
        }
    }

    public func advance(account: String, mailbox: String, to cursor: MailboxCursor) async throws {
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO email_mailbox_cursors (account, mailbox, uid_validity, last_uid) VALUES (?, ?, ?, ?)
                ON CONFLICT (account, mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid
                WHERE email_mailbox_cursors.uid_validity <> excluded.uid_validity OR email_mailbox_cursors.last_uid < excluded.last_uid
                """, arguments: [account, mailbox, Int64(cursor.uidValidity), Int64(cursor.lastUID)])
        }
    }
}
