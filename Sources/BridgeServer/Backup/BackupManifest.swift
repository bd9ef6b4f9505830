import Foundation

/// `manifest.json` in a backup directory, written last: a directory without one is an unfinished
/// backup. The hash lets `bridge restore` refuse a database changed or damaged since.
struct BackupManifest: Codable, Equatable {
    static let fileName = "manifest.json"
    static let databaseFileName = "bridge.sqlite"
    static let currentFormat = 1

    struct Schema: Codable, Equatable {
        /// The newest migration applied; `migrations` lists them all.
        var version: String
        var migrations: [String]
    }

    struct Counts: Codable, Equatable {
        var tickets: Int
        var messages: Int
        /// Files copied from all the file directories.
        var files: Int
    }

    struct Database: Codable, Equatable {
        var file: String
        var sha256: String
        var bytes: Int
    }

    /// One copied file directory: `name` is its folder in the backup, `path` where the backed-up
    /// bridge kept it (attachment paths in the database start with it).
    struct Directory: Codable, Equatable {
        var name: String
        var path: String
        var files: Int
    }

    var format = currentFormat
    var createdAt: Date
    var schema: Schema
    var counts: Counts
    var database: Database
    var directories: [Directory]
    /// Stored attachments the database names whose file was not on disk when copied.
    var missingFiles: [String]

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    static func decode(_ data: Data) throws -> BackupManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(BackupManifest.self, from: data)
    }
}

/// Why a backup or restore did not happen, printed as `Error: …`; nothing was changed.
struct BackupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
