import Foundation
import GRDB

/// A contact's change as the store applies it: already checked by the domain (`Inbox.updateContact`),
/// field values already normalized and keyed by the field's id. `nil` leaves a value; a field set to
/// `.some(nil)` is cleared.
public struct ContactUpdate: Sendable, Equatable {
    public var displayName: String?
    public var email: String??
    public var fields: [Int64: String?]
    public var addTags: [String]
    public var removeTags: [String]

    public init(displayName: String? = nil, email: String?? = nil, fields: [Int64: String?] = [:], addTags: [String] = [], removeTags: [String] = []) {
        self.displayName = displayName
        self.email = email
        self.fields = fields
        self.addTags = addTags
        self.removeTags = removeTags
    }
}

/// Where contacts are read, changed and linked. One implementation per database (`SQLiteContactStore`
/// below, `PostgresContactStore` in PostgresStore), held to one contract (Tests/StoreTests).
/// Checking names, e-mail addresses, tags and field values, and who may change which contact, is
/// the domain's (`Inbox.updateContact`, `Inbox.linkContacts`). Triggers on both databases append
/// `ticket_updated` for the contact's open tickets when what shows beside them changes.
public protocol ContactStore: Sendable {
    /// Applies `update` all or nothing; a tag both added and removed ends removed. A contact that
    /// does not exist is `notFound` and nothing changes.
    func update(contactId: Int64, _ update: ContactUpdate, at now: Date) async throws

    /// `other`'s identities and tickets move to `contactId` and `other` is removed; its tags join
    /// `contactId`'s, and its name, e-mail address and field values fill those `contactId` lacks.
    /// Either contact missing is `notFound` (the first missing of `contactId`, `other`) and nothing changes.
    func link(_ contactId: Int64, absorbing other: Int64, at now: Date) async throws

    /// A contact with its identities (in the order they were added), its own tags (sorted by their
    /// bytes) and its custom field values by key; nil if there is no such contact.
    func contact(id: Int64) async throws -> ContactDetail?
}

/// `ContactStore` on SQLite.
public struct SQLiteContactStore: ContactStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func update(contactId: Int64, _ update: ContactUpdate, at now: Date) async throws {
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactId]) != nil else {
                throw InboxError.notFound("contact \(contactId)")
            }
            if let name = update.displayName {
                try db.execute(sql: "UPDATE contacts SET display_name = ?, updated_at = ? WHERE id = ?", arguments: [name, now.ms, contactId])
            }
            if let email = update.email {
                try db.execute(sql: "UPDATE contacts SET email = ?, updated_at = ? WHERE id = ?", arguments: [email, now.ms, contactId])
            }
            for (fieldId, value) in update.fields.sorted(by: { $0.key < $1.key }) {
                try SQLiteCustomFieldStore.requireExists(db, fieldId: fieldId)
                if let value {
                    try db.execute(sql: """
                        INSERT INTO contact_fields (contact_id, field_id, value) VALUES (?, ?, ?)
                        ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value
                        """, arguments: [contactId, fieldId, value])
                } else {
                    try db.execute(sql: "DELETE FROM contact_fields WHERE contact_id = ? AND field_id = ?", arguments: [contactId, fieldId])
                }
            }
            // Removed after added: a tag both added and removed ends removed.
            for tag in update.addTags {
                try db.execute(sql: "INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)", arguments: [contactId, tag])
            }
            for tag in update.removeTags {
                try db.execute(sql: "DELETE FROM contact_tags WHERE contact_id = ? AND tag = ?", arguments: [contactId, tag])
            }
        }
    }

    public func link(_ contactId: Int64, absorbing other: Int64, at now: Date) async throws {
        try await database.pool.write { db in
            for id in [contactId, other] where try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [id]) == nil {
                throw InboxError.notFound("contact \(id)")
            }
            try db.execute(sql: "UPDATE identities SET contact_id = ? WHERE contact_id = ?", arguments: [contactId, other])
            try db.execute(sql: "UPDATE tickets SET contact_id = ? WHERE contact_id = ?", arguments: [contactId, other])
            try db.execute(sql: """
                UPDATE contacts SET display_name = coalesce(display_name, (SELECT display_name FROM contacts WHERE id = ?)),
                    email = coalesce(email, (SELECT email FROM contacts WHERE id = ?)), updated_at = ?
                WHERE id = ?
                """, arguments: [other, other, now.ms, contactId])
            try db.execute(sql: "INSERT OR IGNORE INTO contact_tags (contact_id, tag) SELECT ?, tag FROM contact_tags WHERE contact_id = ?", arguments: [contactId, other])
            try db.execute(sql: """
                INSERT OR IGNORE INTO contact_fields (contact_id, field_id, value) SELECT ?, field_id, value FROM contact_fields WHERE contact_id = ?
                """, arguments: [contactId, other])
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [other])
        }
    }

    public func contact(id: Int64) async throws -> ContactDetail? {
        try await database.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM contacts WHERE id = ?", arguments: [id]) else { return nil }
            let identities = try Row.fetchAll(db, sql: "SELECT * FROM identities WHERE contact_id = ? ORDER BY id", arguments: [id]).map { i in
                ContactDetail.Identity(
                    channel: i["channel"], account: i["account"], platformUserId: i["platform_user_id"], displayName: i["display_name"],
                    phone: i["phone"], lastInboundAt: (i["last_inbound_at"] as Int64?).map { Date(ms: $0) }, blocked: i["blocked"])
            }
            return ContactDetail(
                id: id, displayName: row["display_name"], email: row["email"], fields: try Inbox.fieldValues(db, scope: .contact, subject: id),
                tags: try Inbox.contactTags(db, contactId: id), identities: identities, createdAt: Date(ms: row["created_at"]))
        }
    }
}
