import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `ForbiddenWordStore` on PostgreSQL: words are unique by `lower(word)` (SQLite's `COLLATE NOCASE`).
public struct PostgresForbiddenWordStore: ForbiddenWordStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func add(_ word: String, at: Date) async throws {
        try await client.query("INSERT INTO forbidden_words (word, created_at) VALUES (\(word), \(at.ms)) ON CONFLICT ((lower(word))) DO NOTHING", logger: logger)
    }

    public func remove(_ word: String) async throws -> Bool {
        try await client.query("DELETE FROM forbidden_words WHERE lower(word) = lower(\(word)) RETURNING id", logger: logger)
            .decode(Int64.self).all().count == 1
    }

    public func words() async throws -> [String] {
        try await client.query(#"SELECT word FROM forbidden_words ORDER BY lower(word) COLLATE "C", word COLLATE "C""#, logger: logger)
            .decode(String.self).all()
    }
}
