import Foundation
import GRDB

extension Inbox {
    /// How many tickets each query matches, each under its own actor's access policy (the
    /// query's `actor`, as the list applies it), all read in one snapshot so the counts agree with
    /// each other. `cursor` and `limit` do not narrow a count. Full-text words (`text`) are not
    /// counted: that would read every matching message (`uncountable_filter`).
    ///
    /// Each count is one `count(*)` over `tickets` answered from an index where the filter has one
    /// (status, agent, department, tag, queue), without reading the contacts unless the filter
    /// names one.
    public func countTickets(_ queries: [String: TicketQuery]) async throws -> [String: Int] {
        var statements: [(key: String, sql: String, arguments: StatementArguments)] = []
        for (key, query) in queries {
            guard SearchLimits.terms(query.text).isEmpty else {
                throw InboxError.unprocessable(code: "uncountable_filter", message: "\(key): words to search for (q) cannot be counted")
            }
            var query = query
            query.cursor = nil
            let (conditions, arguments): ([String], StatementArguments)
            do {
                (conditions, arguments) = try Self.filters(query, counting: true)
            } catch InboxError.invalid(let code, let message), InboxError.unprocessable(let code, let message) {
                // Inside a filter string (typed as a string by the API), what is wrong is 422.
                throw InboxError.unprocessable(code: code, message: "\(key): \(message)")
            }
            let join = query.contact == nil ? "" : " JOIN contacts c ON c.id = t.contact_id"
            let sql = "SELECT count(*) FROM tickets t\(join)" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            statements.append((key, sql, arguments))
        }
        let prepared = statements
        return try await database.pool.read { db in
            var counts: [String: Int] = [:]
            for statement in prepared {
                counts[statement.key] = try Int.fetchOne(db, sql: statement.sql, arguments: statement.arguments) ?? 0
            }
            return counts
        }
    }
}
