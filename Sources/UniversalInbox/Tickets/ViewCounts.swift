import Foundation

extension Inbox {
    /// How many tickets each query matches, each under its own actor's access policy (the
    /// query's `actor`, as the list applies it), all read in one snapshot so the counts agree with
    /// each other. `cursor` and `limit` do not narrow a count. Full-text words (`text`) are not
    /// counted: that would read every matching message (`uncountable_filter`).
    public func countTickets(_ queries: [String: TicketQuery]) async throws -> [String: Int] {
        var filters: [String: TicketFilter] = [:]
        for (key, query) in queries {
            guard SearchLimits.terms(query.text).isEmpty else {
                throw InboxError.unprocessable(code: "uncountable_filter", message: "\(key): words to search for (q) cannot be counted")
            }
            do {
                filters[key] = try Self.filter(query)
            } catch InboxError.invalid(let code, let message), InboxError.unprocessable(let code, let message) {
                // Inside a filter string (typed as a string by the API), what is wrong is 422.
                throw InboxError.unprocessable(code: code, message: "\(key): \(message)")
            }
        }
        return try await stores.ticketQueries.count(filters)
    }
}
