import ArgumentParser
import Foundation

extension Bridge {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the database and its files into a new directory, while the bridge keeps running.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "A new or empty directory to write the backup into.") var path: String

        func run() async throws {
            let config = try options.load()
            let manifest = try await BridgeBackup.take(config: config, to: path)
            print(
                "backup written to \(path): \(manifest.counts.tickets) tickets, \(manifest.counts.messages) messages, "
                    + "\(manifest.counts.files) files, schema \(manifest.schema.version)")
            if !manifest.missingFiles.isEmpty {
                FileHandle.standardError.write(
                    Data("warning: \(manifest.missingFiles.count) stored attachments had no file on disk (listed in manifest.json)\n".utf8))
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the database and its files with a backup made by `bridge backup` (the bridge must be stopped).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The backup directory.") var path: String

        func run() async throws {
            let config = try options.load()
            let outcome = try BridgeRestore.run(config: config, from: path)
            print(
                "restored \(config.databasePath) from the backup of \(ISO8601DateFormatter().string(from: outcome.manifest.createdAt)) "
                    + "(\(outcome.manifest.counts.tickets) tickets, \(outcome.manifest.counts.messages) messages, \(outcome.manifest.counts.files) files); "
                    + "schema \(outcome.schemaVersion)")
        }
    }
}
