import Foundation
import UniversalInbox

/// `bridge backup PATH`: a consistent copy of a SQLite bridge, running or not, into the new
/// directory PATH (0700): `bridge.sqlite`, one folder per file directory (`attachments/`,
/// `uploads/`, see `BridgeConfig.fileDirectories`) and `manifest.json` (0600 each).
///
/// Order matters. The database is copied first, as of one commit, and the files after it. The
/// bridge writes a file before it commits the row that names it (a download is saved, then its
/// attachment marked stored), so every file the snapshot names was on disk when the snapshot was
/// taken and is there when the copy of the files runs later. Copying files first would miss those
/// written between the two copies while the database named them. Files written after the snapshot
/// may be copied too; nothing refers to them, which is harmless.
enum BridgeBackup {
    /// Takes the backup; `afterSnapshot` runs between the database copy and the file copy (tests
    /// keep the bridge busy there). Refuses an existing non-empty PATH without touching it; on a
    /// failure part-way removes what it wrote.
    static func take(
        config: BridgeConfig, to target: String, now: Date = Date(), afterSnapshot: () async throws -> Void = {}
    ) async throws -> BackupManifest {
        _ = try config.sqliteDatabasePath(for: "`bridge backup`")  // PostgreSQL: refused before anything is written
        let createdDirectory = try prepareTarget(target)
        do {
            return try await write(config: config, to: target, now: now, afterSnapshot: afterSnapshot)
        } catch {
            if createdDirectory {
                try? FileManager.default.removeItem(atPath: target)
            } else {
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? [] {
                    try? FileManager.default.removeItem(atPath: target + "/" + entry)
                }
            }
            throw error
        }
    }

    /// Returns whether it created the directory (an existing empty one is used as it is, narrowed to 0700).
    private static func prepareTarget(_ target: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
            try PrivateFiles.createDirectory(target)
            return true
        }
        guard isDirectory.boolValue else { throw BackupError("\(target) exists and is not a directory; give a new or empty directory") }
        guard try FileManager.default.contentsOfDirectory(atPath: target).isEmpty else {
            throw BackupError("\(target) is not empty; give a new or empty directory (a backup never overwrites one)")
        }
        chmod(target, PrivateFiles.directoryMode)
        return false
    }

    private static func write(
        config: BridgeConfig, to target: String, now: Date, afterSnapshot: () async throws -> Void
    ) async throws -> BackupManifest {
        let databaseCopy = target + "/" + BackupManifest.databaseFileName
        let snapshot: DatabaseBackup.Summary
        do {
            snapshot = try DatabaseBackup.take(from: config.databasePath, to: databaseCopy)
        } catch let error as SnapshotError {
            throw BackupError(error.description)
        }
        try await afterSnapshot()

        var directories: [BackupManifest.Directory] = []
        for (name, path) in config.fileDirectories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let files = try PrivateCopy.tree(path, to: target + "/" + name)
            directories.append(.init(name: name, path: path, files: files))
        }
        let missing = snapshot.attachmentPaths.filter { path in
            guard let copied = copiedPath(of: path, directories: directories, target: target) else { return true }
            return !FileManager.default.fileExists(atPath: copied)
        }

        let manifest = BackupManifest(
            createdAt: now,
            schema: .init(version: snapshot.migrations.last ?? "", migrations: snapshot.migrations),
            counts: .init(tickets: snapshot.tickets, messages: snapshot.messages, files: directories.reduce(0) { $0 + $1.files }),
            database: .init(
                file: BackupManifest.databaseFileName, sha256: try PrivateCopy.sha256(of: databaseCopy),
                bytes: (try FileManager.default.attributesOfItem(atPath: databaseCopy)[.size] as? NSNumber)?.intValue ?? 0),
            directories: directories, missingFiles: missing)
        try PrivateFiles.save(try manifest.encoded(), to: target + "/" + BackupManifest.fileName)
        return manifest
    }

    /// Where a stored attachment's file is in the backup, or nil when it lies in none of the copied directories.
    static func copiedPath(of path: String, directories: [BackupManifest.Directory], target: String) -> String? {
        for directory in directories {
            let prefix = directory.path.hasSuffix("/") ? directory.path : directory.path + "/"
            if path.hasPrefix(prefix) { return target + "/" + directory.name + "/" + path.dropFirst(prefix.count) }
        }
        return nil
    }
}
