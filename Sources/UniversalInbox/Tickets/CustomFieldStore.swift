import Foundation
import GRDB

/// Where the custom fields admins define are kept (`CustomField`); a scope's keys are unique.
/// One implementation per database (`SQLiteCustomFieldStore` below, `PostgresCustomFieldStore` in
/// PostgresStore), held to one contract (Tests/StoreTests). Checking a definition is the domain's
/// (`Inbox.createField`). Definitions are never changed or removed, so a value normalized against
/// one read here stays valid.
public protocol CustomFieldStore: Sendable {
    /// Adds a field and returns its id; a key its scope already has is `key_taken` and nothing is added.
    func create(_ field: CustomField, at now: Date) async throws -> Int64

    /// The fields of `scope` (every scope for nil), in the order they were created.
    func fields(scope: CustomField.Scope?) async throws -> [CustomField]
}

extension InboxError {
    public static func fieldKeyTaken(_ field: CustomField) -> InboxError {
        .conflict(code: "key_taken", message: "a \(field.scope.rawValue) field \(field.key) already exists")
    }
}

/// `CustomFieldStore` on SQLite; `Inbox.fields(_:scope:)`, `setFields` and `fieldValues` serve other
/// SQLite transactions.
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
        try await database.pool.read { db in try Inbox.fields(db, scope: scope) }
    }
}
