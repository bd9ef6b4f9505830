import Foundation
import GRDB

/// Which department a channel account's new tickets go to (`account_departments`): set on the
/// People page, read by ingest when it opens a ticket, so the ticket waits in that department's
/// queue and the distributor gives it only to that department's agents. An account without one
/// opens tickets without a department (any online agent), as before; a rule may still move a
/// ticket afterwards. Kept beside departments (`AgentStore`) because a department's routes are
/// part of what `departments()` answers, and removed with it.
extension Schema {
    /// `v31-account-departments`.
    static let accountDepartments = """
        CREATE TABLE account_departments (
            account TEXT PRIMARY KEY,
            department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX account_departments_department ON account_departments(department_id);
        """

    /// The department of a new ticket on the account bound to the statement's parameter (NULL
    /// without one): a subquery in the ingest's `INSERT INTO tickets`, so routing costs no round trip.
    static let newTicketDepartment = "(SELECT department_id FROM account_departments WHERE account = ?)"
}

extension SQLiteAgentStore {
    public func routeAccount(_ account: String, toDepartment departmentId: Int64?, at: Date) async throws {
        try await database.pool.write { db in
            guard let departmentId else {
                try db.execute(sql: "DELETE FROM account_departments WHERE account = ?", arguments: [account])
                return
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [departmentId]) != nil else {
                throw InboxError.noSuchDepartment(departmentId)
            }
            try db.execute(sql: """
                INSERT INTO account_departments (account, department_id, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (account) DO UPDATE SET department_id = excluded.department_id, updated_at = excluded.updated_at
                """, arguments: [account, departmentId, at.ms])
        }
    }
}
