import ArgumentParser
@testable import BridgeServer
import Foundation
import GRDB
import PlatformStandIns
import Synchronization
import Testing
import UniversalInbox

/// `bridge backup` and `bridge restore` on real SQLite files next to a bridge serving real HTTP.
@Suite(.enabled(if: TestDatabase.isSQLite, "bridge backup and restore are for SQLite")) struct BackupTests {
    /// Texts of LINE events the bridge answered 200, from posters running side by side.
    final class Load: Sendable {
        private let state = Mutex((next: 0, acknowledged: [String](), stopped: false))

        var acknowledged: [String] { state.withLock { $0.acknowledged } }
        func stop() { state.withLock { $0.stopped = true } }

        /// The next event's text, or nil once stopped.
        func next() -> String? {
            state.withLock { s in
                guard !s.stopped else { return nil }
                s.next += 1
                return "load \(s.next)"
            }
        }

        func acknowledge(_ text: String) { state.withLock { $0.acknowledged.append(text) } }

        /// Posts signed LINE text events from four customers until stopped.
        func run(_ t: TestBridge) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for poster in 0..<4 {
                    group.addTask {
                        let user = String(format: "Ubac%029d", poster)
                        while let text = self.next() {
                            let eventId = "01" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)
                            let reply = try await t.postLINE(Payloads.lineText(String(eventId), text, user: user))
                            if reply.status == 200 { self.acknowledge(text) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    static func temporaryDirectory(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(label)-\(UUID().uuidString)").path
    }

    /// The configuration `bridge backup`/`restore` would read for a bridge keeping its data in `directory`.
    static func config(_ directory: String) -> BridgeConfig {
        var config = BridgeConfig()
        config.databasePath = directory + "/bridge.sqlite"
        return config
    }

    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func aBackupTakenUnderLoadRestoresEveryAcknowledgedEvent() async throws {
        let backup = Self.temporaryDirectory("backup")
        var acknowledgedBefore: Set<String> = []
        var attachmentURL = ""
        var manifest: BackupManifest?
        var original = ""

        try await TestBridge.with(standIns: [.line]) { t in
            original = t.dataDirectory
            // A customer's image, so there is a file the database names.
            #expect(try await t.postLINE(Payloads.lineImage("01BACKUPIMG")).status == 200)
            try await t.eventually("the image stored") {
                let ticket = try await t.get("/api/v1/tickets").items.first?["id"] as? Int
                let attachment = try await ticket.asyncMap { (try await t.messages(ticket: $0).first?["attachments"] as? [[String: Any]])?.first }
                attachmentURL = attachment?["url"] as? String ?? ""
                return attachment?["status"] as? String == "stored"
            }

            let load = Load()
            let posting = Task { try await load.run(t) }
            try await t.eventually("events acknowledged under load") { load.acknowledged.count >= 40 }
            acknowledgedBefore = Set(load.acknowledged)
            manifest = try await BridgeBackup.take(config: Self.config(t.dataDirectory), to: backup) {
                // Between the database copy and the file copy the bridge keeps acknowledging.
                let seen = load.acknowledged.count
                try await t.eventually("events acknowledged while the backup runs") { load.acknowledged.count >= seen + 20 }
            }
            load.stop()
            try await posting.value
        }

        #expect(PrivateFiles.mode(backup) == 0o700)
        for file in ["bridge.sqlite", "manifest.json", "attachments"] {
            #expect(FileManager.default.fileExists(atPath: backup + "/" + file), "\(file) in the backup")
        }
        #expect(PrivateFiles.mode(backup + "/bridge.sqlite") == 0o600)
        #expect(PrivateFiles.mode(backup + "/manifest.json") == 0o600)
        let taken = try #require(manifest)
        #expect(taken.counts.messages >= acknowledgedBefore.count + 1)
        #expect(taken.counts.files == 1)
        #expect(taken.missingFiles.isEmpty)
        #expect(taken.schema.version == DatabaseBackup.knownMigrations.last)

        // The machine is lost; the backup is restored somewhere else entirely, and a bridge started on it.
        // (Moved away, then removed: the stopped bridge's last database connection may still be
        // closing, and deleting its WAL, while a removal walks the directory.)
        let gone = original + "-lost"
        try FileManager.default.moveItem(atPath: original, toPath: gone)
        try? FileManager.default.removeItem(atPath: gone)
        let restored = Self.temporaryDirectory("restored")
        _ = try BridgeRestore.run(config: Self.config(restored), from: backup)
        try await TestBridge.with(standIns: [.line], configure: { $0.databasePath = restored + "/bridge.sqlite" }) { t in
            let pool = try t.bridge.inbox.database.pool
            let (check, inbound) = try await pool.read { db in
                (try String.fetchAll(db, sql: "PRAGMA integrity_check"), try String.fetchAll(db, sql: "SELECT text FROM messages WHERE direction = 'in'"))
            }
            #expect(check == ["ok"])
            let texts = Set(inbound)
            let lost = acknowledgedBefore.subtracting(texts)
            #expect(lost.isEmpty, "acknowledged before the backup, missing after the restore: \(lost.sorted())")

            // The attachment's file came along and the database points at its new place.
            let file = try await t.get(attachmentURL)
            #expect(file.status == 200)
            #expect(file.body == StandInPlatforms.sampleMedia)
        }
    }

    @Test func aBackupRefusesANonEmptyDirectory() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.customerWrites("Ubac00000000000000000000000000001", "hello")
            let target = Self.temporaryDirectory("taken")
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try Data("mine".utf8).write(to: URL(fileURLWithPath: target + "/notes.txt"))

            await #expect { try await BridgeBackup.take(config: Self.config(t.dataDirectory), to: target) } throws: { error in
                "\(error)".contains("is not empty")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["notes.txt"])
            #expect(FileManager.default.contents(atPath: target + "/notes.txt") == Data("mine".utf8))

            // The command fails the same way, with a non-zero exit code.
            let yaml = Self.temporaryDirectory("config") + ".yaml"
            try Data("database:\n  url: sqlite:\(t.dataDirectory)/bridge.sqlite\n".utf8).write(to: URL(fileURLWithPath: yaml))
            var command = try #require(try Bridge.parseAsRoot(["backup", "--config", yaml, target]) as? any AsyncParsableCommand)
            do {
                try await command.run()
                Issue.record("bridge backup wrote into a non-empty directory")
            } catch {
                #expect(Bridge.exitCode(for: error) != .success)
                #expect(Bridge.message(for: error).contains("is not empty"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["notes.txt"])
        }
    }

    @Test func restoreIsRefusedWhileABridgeServesTheDatabase() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let ticket = try await t.customerWrites("Ubac00000000000000000000000000002", "before the backup")
            let backup = Self.temporaryDirectory("backup")
            _ = try await BridgeBackup.take(config: Self.config(t.dataDirectory), to: backup)
            _ = try await t.customerWrites("Ubac00000000000000000000000000002", "after the backup")

            #expect { try BridgeRestore.run(config: Self.config(t.dataDirectory), from: backup) } throws: { error in
                "\(error)".contains("a bridge is serving")
            }
            // Nothing changed: the message after the backup is still there, nothing staged is left.
            let texts = try await t.messages(ticket: ticket).compactMap { $0["text"] as? String }
            #expect(texts.contains("after the backup"))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: t.dataDirectory).filter { $0.contains(".restoring-") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test func restoreRefusesATamperedOrUnknownBackup() async throws {
        let backup = Self.temporaryDirectory("backup")
        try await TestBridge.with(standIns: [.line]) { t in
            _ = try await t.customerWrites("Ubac00000000000000000000000000003", "the original words")
            _ = try await BridgeBackup.take(config: Self.config(t.dataDirectory), to: backup)
        }
        let restored = Self.temporaryDirectory("restored")

        // The database edited after the backup: its hash no longer matches.
        let original = try #require(FileManager.default.contents(atPath: backup + "/bridge.sqlite"))
        let edited = try DatabaseQueue(path: backup + "/bridge.sqlite")
        try await edited.write { try $0.execute(sql: "UPDATE contacts SET display_name = 'Forged Name'") }
        try edited.close()
        #expect { try BridgeRestore.run(config: Self.config(restored), from: backup) } throws: { error in
            "\(error)".contains("does not match the SHA-256")
        }
        #expect(!FileManager.default.fileExists(atPath: restored + "/bridge.sqlite"))
        try original.write(to: URL(fileURLWithPath: backup + "/bridge.sqlite"))

        // A manifest from a newer bridge.
        let manifestPath = backup + "/manifest.json"
        let manifestData = try #require(FileManager.default.contents(atPath: manifestPath))
        var newer = try BackupManifest.decode(manifestData)
        newer.schema.migrations.append("v99-from-the-future")
        try newer.encoded().write(to: URL(fileURLWithPath: manifestPath))
        #expect { try BridgeRestore.run(config: Self.config(restored), from: backup) } throws: { error in
            "\(error)".contains("newer than this bridge")
        }
        #expect(!FileManager.default.fileExists(atPath: restored + "/bridge.sqlite"))

        // No manifest: an unfinished backup.
        try FileManager.default.removeItem(atPath: manifestPath)
        #expect { try BridgeRestore.run(config: Self.config(restored), from: backup) } throws: { error in
            "\(error)".contains("has no manifest.json")
        }
        #expect(!FileManager.default.fileExists(atPath: restored + "/bridge.sqlite"))

        // The untouched backup restores.
        try manifestData.write(to: URL(fileURLWithPath: manifestPath))
        _ = try BridgeRestore.run(config: Self.config(restored), from: backup)
        let queue = try DatabaseQueue(path: restored + "/bridge.sqlite")
        #expect(try await queue.read { try String.fetchAll($0, sql: "SELECT text FROM messages WHERE direction = 'in'") } == ["the original words"])
        try queue.close()
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

