import Foundation

extension Inbox {
    /// Adds up to `limit` messages committed since the last call to the full-text index and
    /// returns how many. Run after commits (SearchIndexer), so webhooks never wait for indexing;
    /// on PostgreSQL the index is kept in the writing transaction and this returns 0.
    @discardableResult
    public func indexNewMessages(limit: Int = 2000) async throws -> Int {
        try await stores.ticketQueries.indexNewMessages(limit: limit)
    }
}
