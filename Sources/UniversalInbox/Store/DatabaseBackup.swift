import Foundation
import GRDB

/// The database side of `bridge backup` and `bridge restore`: a consistent copy of a live database
/// taken with SQLite's online backup, and the checks a copy passes before it replaces a database.
public enum DatabaseBackup {
    /// What a snapshot holds, read from the copy itself (so it describes exactly what was saved).
    public struct Summary: Sendable, Equatable {
        /// Applied migrations, in the order this binary knows them; unknown ones (a newer bridge's) last.
        public var migrations: [String]
        public var tickets: Int
        public var messages: Int
        /// `path` of every attachment stored on disk, as the database has it.
        public var attachmentPaths: [String]
    }

    /// The migrations this binary knows, oldest first.
    public static var knownMigrations: [String] { AppDatabase.migrator.migrations }

    /// Copies the database at `source` into a new file at `destination` (created 0600; it must not
    /// exist) while other connections, in this process or another, keep writing. The copy is taken
    /// in one backup step inside one read transaction, so it is the database as of one commit:
    /// writes committed later are not in it, and none is half in it. The source is opened without
    /// migrating (a backup never changes the database it copies). The copy is left in rollback-journal
    /// mode, a single self-contained file whose bytes a hash can vouch for.
    public static func take(from source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else {
            throw SnapshotError("there is no database at \(source)")
        }
        guard try PrivateFiles.createExclusively(Data(), at: destination) else {
            throw SnapshotError("\(destination) already exists")
        }
        var sourceConfig = Configuration()
        sourceConfig.busyMode = .timeout(10)
        let pool = try DatabasePool(path: source, configuration: sourceConfig)
        let copy = try DatabaseQueue(path: destination)
        try pool.backup(to: copy)
        try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        let summary = try copy.read(summary)
        try copy.close()
        try pool.close()
        return summary
    }

    /// Checks a copy about to replace the database: SQLite finds it intact, and it has no migration
    /// this binary does not know. Then rewrites the paths of stored attachments that lay under one
    /// of `moves`' old directories to the same file under the new one (the restored bridge may keep
    /// its files elsewhere than the one backed up).
    public static func prepareForRestore(at path: String, moves: [(from: String, to: String)]) throws -> Summary {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        let check = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard check == ["ok"] else {
            throw SnapshotError("the backup's database is damaged (integrity_check: \(check.prefix(3).joined(separator: "; ")))")
        }
        let unknown = try queue.read { db in try AppDatabase.migrator.appliedIdentifiers(db).subtracting(knownMigrations) }
        guard unknown.isEmpty else {
            throw SnapshotError(
                "the backup's schema is newer than this bridge (migrations it does not know: \(unknown.sorted().joined(separator: ", "))); restore it with a newer bridge")
        }
        try queue.write { db in
            for move in moves where move.from != move.to {
                let prefix = move.from.hasSuffix("/") ? move.from : move.from + "/"
                let target = move.to.hasSuffix("/") ? move.to : move.to + "/"
                try db.execute(
                    sql: "UPDATE attachments SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                    arguments: [target, prefix.utf8.count + 1, prefix.utf8.count, prefix])
            }
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        return try queue.read(summary)
    }

    private static func summary(_ db: Database) throws -> Summary {
        let applied = try AppDatabase.migrator.appliedIdentifiers(db)
        let known = knownMigrations
        return Summary(
            migrations: known.filter(applied.contains) + applied.subtracting(known).sorted(),
            tickets: try Int.fetchOne(db, sql: "SELECT count(*) FROM tickets") ?? 0,
            messages: try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0,
            attachmentPaths: try String.fetchAll(db, sql: "SELECT path FROM attachments WHERE status = 'stored' AND path IS NOT NULL ORDER BY id"))
    }
}

/// Why a snapshot could not be taken or restored, in words for the operator.
public struct SnapshotError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
