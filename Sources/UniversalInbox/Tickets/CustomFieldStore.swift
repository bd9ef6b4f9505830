import Foundation
import GRDB

/// Where the custom fields admins define are kept (`CustomField`); a scope's keys are unique.
/// One implementation per database (`SQLiteCustomFieldStore` below, `PostgresCustomFieldStore` in
/// PostgresStore), held to one contract (Tests/StoreTests). Checking a definition is the domain's
/// (`Inbox.createField`), and so is refusing to delete one a rule or a view still uses
/// (`Inbox.deleteField`). Definitions are never changed, so a value normalized against one read
/// here stays valid for as long as the field exists; a field deleted between that read and the
/// write is found by the write itself (in its transaction, the field row held against deletion on
/// PostgreSQL), which then refuses with `unknown_field` and writes nothing: no 500, no value
/// left pointing at nothing.
public protocol CustomFieldStore: Sendable {
    /// Adds a field and returns its id; a key its scope already has is `key_taken` and nothing is added.
    func create(_ field: CustomField, at now: Date) async throws -> Int64

    /// The fields of `scope` (every scope for nil), in the order they were created.
    func fields(scope: CustomField.Scope?) async throws -> [CustomField]

    /// Removes a field and every ticket's or contact's value of it, in one transaction; false when
    /// there was none.
    func delete(id: Int64) async throws -> Bool
}

extension InboxError {
    public static func fieldKeyTaken(_ field: CustomField) -> InboxError {
        .conflict(code: "key_taken", message: "a \(field.scope.rawValue) field \(field.key) already exists")
    }

    /// A value written for a field deleted since its definition was read.
    public static func fieldDeleted(_ id: Int64) -> InboxError {
        .unprocessable(code: "unknown_field", message: "field \(id) has been deleted; nothing was changed")
    }
}

/// `CustomFieldStore` on SQLite; its statics read and write field values inside other SQLite
/// stores' transactions (a ticket's edit, templates, rules, campaigns).
public struct SQLiteCustomFieldStore: CustomFieldStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func create(_ field: CustomField, at now: Date) async throws -> Int64 {
        try await database.pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM custom_fields WHERE scope = ? AND key = ?", arguments: [field.scope.rawValue, field.key]) != nil {
                throw InboxError.fieldKeyTaken(field)
            }
            try db.execute(
                sql: "INSERT INTO custom_fields (scope, key, label, type, options, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [field.scope.rawValue, field.key, field.label, field.type.rawValue, try field.options.map(ContentCoding.encode), now.ms])
            return db.lastInsertedRowID
        }
    }

    public func fields(scope: CustomField.Scope?) async throws -> [CustomField] {
        try await database.pool.read { db in try Self.fields(db, scope: scope) }
    }

    public func delete(id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            // The values go by the foreign keys' ON DELETE CASCADE too; said here so the store
            // does not lean on the connection's foreign_keys setting.
            try db.execute(sql: "DELETE FROM ticket_fields WHERE field_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM contact_fields WHERE field_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM custom_fields WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    /// Refuses a value for a field deleted since its definition was read (`fieldDeleted`), inside
    /// the writer's transaction (SQLite has one writer, so the answer holds until it commits).
    static func requireExists(_ db: Database, fieldId: Int64) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM custom_fields WHERE id = ?"), arguments: [fieldId]) != nil else {
            throw InboxError.fieldDeleted(fieldId)
        }
    }

    /// The fields of `scope` (every scope for nil) inside the caller's transaction.
    static func fields(_ db: Database, scope: CustomField.Scope?) throws -> [CustomField] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM custom_fields WHERE ? IS NULL OR scope = ? ORDER BY id", arguments: [scope?.rawValue, scope?.rawValue]
        ).map { row in
            CustomField(
                id: row["id"], scope: try row.decode("scope", as: CustomField.Scope.self), key: row["key"], label: row["label"],
                type: try row.decode("type", as: CustomField.Kind.self), options: (row["options"] as String?).flatMap { try? ContentCoding.decode([String].self, $0) })
        }
    }

    /// Sets (or, with a nil value, clears) a ticket's or contact's field value inside the caller's transaction.
    static func set(_ db: Database, _ change: FieldValueChange, scope: CustomField.Scope, subject: Int64) throws {
        let (table, column) = scope.valueTable
        try requireExists(db, fieldId: change.field.id)
        if let value = change.value {
            try db.execute(sql: """
                INSERT INTO \(table) (\(column), field_id, value) VALUES (?, ?, ?)
                ON CONFLICT (\(column), field_id) DO UPDATE SET value = excluded.value
                """, arguments: [subject, change.field.id, value])
        } else {
            try db.execute(sql: "DELETE FROM \(table) WHERE \(column) = ? AND field_id = ?", arguments: [subject, change.field.id])
        }
    }

    /// A ticket's or contact's field values by key, inside the caller's transaction.
    static func values(_ db: Database, scope: CustomField.Scope, subject: Int64) throws -> [String: String] {
        let (table, column) = scope.valueTable
        return Dictionary(uniqueKeysWithValues: try Row.fetchAll(
            db.cachedStatement(sql: "SELECT f.key, v.value FROM \(table) v JOIN custom_fields f ON f.id = v.field_id WHERE v.\(column) = ?"),
            arguments: [subject]
        ).map { ($0["key"] as String, $0["value"] as String) })
    }
}

extension CustomField.Scope {
    /// Where a scope's values are kept, and the column naming their ticket or contact.
    var valueTable: (table: String, column: String) {
        switch self {
        case .ticket: ("ticket_fields", "ticket_id")
        case .contact: ("contact_fields", "contact_id")
        }
    }
}
