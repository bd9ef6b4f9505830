import Foundation
import PostgresNIO
import UniversalInbox

extension PostgresSchema {
    /// Version 17 (`account-departments`): which department a channel account's new tickets go to
    /// (the twin of SQLite's `v31-account-departments`; see `AccountDepartments.swift`).
    static let accountDepartments = [
        """
        CREATE TABLE account_departments (
            account TEXT PRIMARY KEY,
            department_id BIGINT NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX account_departments_department ON account_departments (department_id)",
    ]
}

extension PostgresAgentStore {
    public func routeAccount(_ account: String, toDepartment departmentId: Int64?, at: Date) async throws {
        guard let departmentId else {
            try await client.query("DELETE FROM account_departments WHERE account = \(account)", logger: logger)
            return
        }
        // One statement: the department is read in the INSERT itself, so one deleted meanwhile
        // inserts nothing (and the foreign key guards the rest).
        let rows = try await client.query("""
            INSERT INTO account_departments (account, department_id, updated_at)
            SELECT \(account), id, \(at.ms) FROM departments WHERE id = \(departmentId)
            ON CONFLICT (account) DO UPDATE SET department_id = excluded.department_id, updated_at = excluded.updated_at
            RETURNING department_id
            """, logger: logger).decode(Int64.self).all()
        guard !rows.isEmpty else { throw InboxError.noSuchDepartment(departmentId) }
    }
}
