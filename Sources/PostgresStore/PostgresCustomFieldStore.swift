import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `CustomFieldStore` on PostgreSQL. A key its scope already has is found by the unique index on
/// (scope, key), so two processes adding the same field at once cannot both succeed.
public struct PostgresCustomFieldStore: CustomFieldStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(_ field: CustomField, at now: Date) async throws -> Int64 {
        let options = try field.options.map(ContentCoding.encode)
        let rows = try await client.query("""
            INSERT INTO custom_fields (scope, key, label, type, options, created_at)
            VALUES (\(field.scope.rawValue), \(field.key), \(field.label), \(field.type.rawValue), \(options), \(now.ms))
            ON CONFLICT (scope, key) DO NOTHING RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw InboxError.fieldKeyTaken(field)
    }

    public func fields(scope: CustomField.Scope?) async throws -> [CustomField] {
        let rows = try await client.query("""
            SELECT id, scope, key, label, type, options FROM custom_fields WHERE \(scope?.rawValue)::text IS NULL OR scope = \(scope?.rawValue)
            ORDER BY id
            """, logger: logger).decode((Int64, String, String, String, String, String?).self).all()
        return try rows.map { id, scope, key, label, type, options in
            CustomField(
                id: id, scope: try UnknownStoredValue.decode(scope, as: CustomField.Scope.self, column: "scope"), key: key, label: label,
                type: try UnknownStoredValue.decode(type, as: CustomField.Kind.self, column: "type"),
                options: options.flatMap { try? ContentCoding.decode([String].self, $0) })
        }
    }
}

extension PostgresCustomFieldStore {
    public func delete(id: Int64) async throws -> Bool {
        // The event log's counter first (`appendsToLog`): deleting contact values fires the
        // contact-changed trigger, and a contact's edit holds the counter before it holds the field
        // (`holdField`), so both lock in the one order.
        try await client.transaction(logger: logger, appendsToLog: true) { connection in
            try await connection.query("DELETE FROM ticket_fields WHERE field_id = \(id)", logger: logger)
            try await connection.query("DELETE FROM contact_fields WHERE field_id = \(id)", logger: logger)
            return try await connection.query("DELETE FROM custom_fields WHERE id = \(id) RETURNING id", logger: logger).decode(Int64.self).all().count == 1
        }
    }
}

extension PostgresConnection {
    /// Holds field `id` against deletion until the transaction ends (`FOR KEY SHARE`, what the
    /// foreign key's own check takes), or refuses with `fieldDeleted` when it is gone: a value
    /// then never meets a foreign-key violation (a 500) nor outlives its field.
    func holdField(_ id: Int64, logger: Logger) async throws {
        let held = try await query("SELECT id FROM custom_fields WHERE id = \(id) FOR KEY SHARE", logger: logger).decode(Int64.self).all()
        guard !held.isEmpty else { throw InboxError.fieldDeleted(id) }
    }
}
