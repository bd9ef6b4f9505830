import Foundation
import UniversalInbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `bridge restore PATH`: puts a backup made by `bridge backup` in place of the configured
/// database and file directories, then migrates it to this binary's schema.
///
/// It refuses, changing nothing, when: PATH has no manifest (not a backup, or an unfinished one);
/// the database's SHA-256 differs from the manifest's; SQLite finds the copy damaged; its schema
/// is newer than this binary; or a bridge is serving the database (`ServingLock`). Everything is
/// first written beside its destination and checked, then renamed into place, so an interruption
/// leaves either the old database or the new one, never a mix of the two files.
enum BridgeRestore {
    struct Outcome {
        var manifest: BackupManifest
        /// The newest migration after migrating.
        var schemaVersion: String
    }

    static func run(config: BridgeConfig, from source: String) throws -> Outcome {
        let manifest = try readManifest(source)
        let backupDatabase = source + "/" + BackupManifest.databaseFileName
        guard try PrivateCopy.sha256(of: backupDatabase) == manifest.database.sha256 else {
            throw BackupError("\(backupDatabase) does not match the SHA-256 in its manifest: it was changed or damaged after the backup; nothing restored")
        }
        let unknown = manifest.schema.migrations.filter { !DatabaseBackup.knownMigrations.contains($0) }
        guard unknown.isEmpty else {
            throw BackupError(
                "the backup's schema is newer than this bridge (migrations it does not know: \(unknown.joined(separator: ", "))); restore it with a newer bridge")
        }
        let databasePath = try config.sqliteDatabasePath(for: "`bridge restore`")
        guard let lock = try ServingLock.exclusive(databasePath: databasePath) else {
            throw BackupError("a bridge is serving \(databasePath); stop it before restoring (nothing restored)")
        }
        defer { lock.release() }

        let token = UUID().uuidString.prefix(8)
        var staged: [String] = []
        do {
            // 1. Stage the database beside the live one, check it, point its attachments at this configuration's directories.
            let stagedDatabase = databasePath + ".restoring-\(token)"
            staged.append(stagedDatabase)
            guard try PrivateCopy.file(backupDatabase, to: stagedDatabase) == manifest.database.sha256 else {
                throw BackupError("\(backupDatabase) changed while it was being read; nothing restored")
            }
            let destinations = Dictionary(config.fileDirectories.map { ($0.name, $0.path) }, uniquingKeysWith: { first, _ in first })
            var moves: [(from: String, to: String)] = []
            for directory in manifest.directories {
                guard let destination = destinations[directory.name] else {
                    throw BackupError("the backup holds files in \"\(directory.name)\", which this bridge does not keep; restore it with a newer bridge")
                }
                moves.append((directory.path, destination))
            }
            do {
                _ = try DatabaseBackup.prepareForRestore(at: stagedDatabase, moves: moves)
            } catch let error as SnapshotError {
                throw BackupError(error.description)
            }

            // 2. Stage the file directories beside theirs.
            var swaps: [(staged: String, destination: String)] = []
            for directory in manifest.directories {
                let destination = destinations[directory.name]!
                try PrivateFiles.createDirectory(URL(fileURLWithPath: destination).deletingLastPathComponent().path)
                let stagedDirectory = destination + ".restoring-\(token)"
                staged.append(stagedDirectory)
                _ = try PrivateCopy.tree(source + "/" + directory.name, to: stagedDirectory)
                swaps.append((stagedDirectory, destination))
            }

            // 3. Swap. The old database's WAL and shared memory go first: left beside the new file,
            // SQLite would replay the old WAL's pages into it.
            for suffix in ["-wal", "-shm", "-journal"] { try removeIfPresent(databasePath + suffix) }
            try move(stagedDatabase, to: databasePath)
            staged.removeFirst()
            for swap in swaps {
                let old = swap.destination + ".replaced-\(token)"
                let hadOld = FileManager.default.fileExists(atPath: swap.destination)
                if hadOld { try move(swap.destination, to: old) }
                try move(swap.staged, to: swap.destination)
                staged.removeAll { $0 == swap.staged }
                if hadOld { try? FileManager.default.removeItem(atPath: old) }
            }
        } catch {
            for path in staged { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }

        // 4. Bring an older backup up to this binary's schema.
        _ = try AppDatabase(path: databasePath)
        return Outcome(manifest: manifest, schemaVersion: DatabaseBackup.knownMigrations.last ?? "")
    }

    private static func readManifest(_ source: String) throws -> BackupManifest {
        let path = source + "/" + BackupManifest.fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError("\(source) is not a finished bridge backup: it has no \(BackupManifest.fileName)")
        }
        let manifest: BackupManifest
        do {
            manifest = try BackupManifest.decode(data)
        } catch {
            throw BackupError("\(path) cannot be read: \(error)")
        }
        guard manifest.format == BackupManifest.currentFormat else {
            throw BackupError("\(path) has format \(manifest.format); this bridge reads format \(BackupManifest.currentFormat)")
        }
        for directory in manifest.directories where directory.name.contains("/") || directory.name.hasPrefix(".") || directory.name.isEmpty {
            throw BackupError("\(path) names a directory \"\(directory.name)\" outside the backup")
        }
        return manifest
    }

    private static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw BackupError("cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    private static func removeIfPresent(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.removeItem(atPath: path)
    }
}
