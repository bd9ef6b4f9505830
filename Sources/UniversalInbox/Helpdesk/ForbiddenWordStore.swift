import Foundation
import GRDB

/// Where the forbidden words a reply is checked against are kept. Words are unique regardless of
/// case. One implementation per database (`SQLiteForbiddenWordStore` below,
/// `PostgresForbiddenWordStore` in PostgresStore), held to one contract (Tests/StoreTests).
public protocol ForbiddenWordStore: Sendable {
    /// Adds a word; one already there in any case is kept as it was.
    func add(_ word: String, at: Date) async throws

    /// Removes a word, matched regardless of case; false when there was none.
    func remove(_ word: String) async throws -> Bool

    /// Every word, in alphabetical order regardless of case.
    func words() async throws -> [String]
}

/// `ForbiddenWordStore` on SQLite, where the column is `COLLATE NOCASE`.
public struct SQLiteForbiddenWordStore: ForbiddenWordStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func add(_ word: String, at: Date) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO forbidden_words (word, created_at) VALUES (?, ?)", arguments: [word, at.ms])
        }
    }

    public func remove(_ word: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM forbidden_words WHERE word = ?", arguments: [word])
            return db.changesCount == 1
        }
    }

    public func words() async throws -> [String] {
        try await database.pool.read { db in try String.fetchAll(db, sql: "SELECT word FROM forbidden_words ORDER BY word COLLATE NOCASE") }
    }
}
