import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ContactStore` on PostgreSQL. Every change locks the contacts it touches (`FOR UPDATE`, in id
/// order when there are two, as ingest locks a contact before routing to it): a link racing an
/// update, another link or a webhook filing to either contact waits for it instead of writing to a
/// contact being removed, and two links of the same pair in opposite directions cannot deadlock.
public struct PostgresContactStore: ContactStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func update(contactId: Int64, _ update: ContactUpdate, at now: Date) async throws {
        let logger = logger
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let found = try await connection.query("SELECT id FROM contacts WHERE id = \(contactId) FOR UPDATE", logger: logger).decode(Int64.self).all()
            guard !found.isEmpty else { throw InboxError.notFound("contact \(contactId)") }
            if let name = update.displayName {
                try await connection.query("UPDATE contacts SET display_name = \(name), updated_at = \(now.ms) WHERE id = \(contactId)", logger: logger)
            }
            if let email = update.email {
                try await connection.query("UPDATE contacts SET email = \(email), updated_at = \(now.ms) WHERE id = \(contactId)", logger: logger)
            }
            for (fieldId, value) in update.fields.sorted(by: { $0.key < $1.key }) {
                try await connection.holdField(fieldId, logger: logger)
                if let value {
                    try await connection.query("""
                        INSERT INTO contact_fields (contact_id, field_id, value) VALUES (\(contactId), \(fieldId), \(value))
                        ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                } else {
                    try await connection.query("DELETE FROM contact_fields WHERE contact_id = \(contactId) AND field_id = \(fieldId)", logger: logger)
                }
            }
            for tag in update.addTags {
                try await connection.query(
                    "INSERT INTO contact_tags (contact_id, tag) VALUES (\(contactId), \(tag)) ON CONFLICT (contact_id, tag) DO NOTHING", logger: logger)
            }
            for tag in update.removeTags {
                try await connection.query("DELETE FROM contact_tags WHERE contact_id = \(contactId) AND tag = \(tag)", logger: logger)
            }
        }
    }

    public func link(_ contactId: Int64, absorbing other: Int64, at now: Date) async throws {
        let logger = logger
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            let found = try await connection.query(
                "SELECT id FROM contacts WHERE id IN (\(contactId), \(other)) ORDER BY id FOR UPDATE", logger: logger
            ).decode(Int64.self).all()
            for id in [contactId, other] where !found.contains(id) { throw InboxError.notFound("contact \(id)") }
            try await connection.query("UPDATE identities SET contact_id = \(contactId) WHERE contact_id = \(other)", logger: logger)
            try await connection.query("UPDATE tickets SET contact_id = \(contactId) WHERE contact_id = \(other)", logger: logger)
            try await connection.query("""
                UPDATE contacts c SET display_name = coalesce(c.display_name, o.display_name), email = coalesce(c.email, o.email), updated_at = \(now.ms)
                FROM contacts o WHERE c.id = \(contactId) AND o.id = \(other)
                """, logger: logger)
            try await connection.query("""
                INSERT INTO contact_tags (contact_id, tag) SELECT \(contactId), tag FROM contact_tags WHERE contact_id = \(other)
                ON CONFLICT (contact_id, tag) DO NOTHING
                """, logger: logger)
            try await connection.query("""
                INSERT INTO contact_fields (contact_id, field_id, value) SELECT \(contactId), field_id, value FROM contact_fields WHERE contact_id = \(other)
                ON CONFLICT (contact_id, field_id) DO NOTHING
                """, logger: logger)
            try await connection.query("DELETE FROM contacts WHERE id = \(other)", logger: logger)
        }
    }
}

extension PostgresContactStore {
    /// One REPEATABLE READ snapshot, so the identities, tags and fields are the same contact's.
    public func contact(id: Int64) async throws -> ContactDetail? {
        let logger = logger
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let contacts = try await connection.query(
                "SELECT display_name, email, created_at FROM contacts WHERE id = \(id)", logger: logger
            ).decode((String?, String?, Int64).self).all()
            guard let (displayName, email, createdAt) = contacts.first else { return nil }
            var identities: [ContactDetail.Identity] = []
            let identityRows = try await connection.query("""
                SELECT channel, account, platform_user_id, display_name, phone, last_inbound_at, blocked
                FROM identities WHERE contact_id = \(id) ORDER BY id
                """, logger: logger)
            for try await (channel, account, userId, name, phone, lastInboundAt, blocked)
                in identityRows.decode((String, String, String, String?, String?, Int64?, Int32).self)
            {
                identities.append(ContactDetail.Identity(
                    channel: channel, account: account, platformUserId: userId, displayName: name, phone: phone,
                    lastInboundAt: lastInboundAt.map { Date(ms: $0) }, blocked: blocked != 0))
            }
            // Tags in byte order, as SQLite's `ORDER BY tag`.
            let tags = try await connection.query(
                "SELECT tag FROM contact_tags WHERE contact_id = \(id) ORDER BY tag COLLATE \"C\"", logger: logger
            ).decode(String.self).all()
            let fields = try await connection.query(
                "SELECT f.key, v.value FROM contact_fields v JOIN custom_fields f ON f.id = v.field_id WHERE v.contact_id = \(id)", logger: logger
            ).decode((String, String).self).all()
            return ContactDetail(
                id: id, displayName: displayName, email: email, fields: Dictionary(fields, uniquingKeysWith: { first, _ in first }),
                tags: tags, identities: identities, createdAt: Date(ms: createdAt))
        }
    }
}
