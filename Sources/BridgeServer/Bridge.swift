import ArgumentParser
import Foundation
import Logging
import PostgresStore
import UnixSignals
import UniversalInbox

/// `bridge`: the omnichannel messaging bridge.
@main
struct Bridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "One inbox for LINE, WhatsApp and more: webhooks in, tickets, replies out.",
        subcommands: [Serve.self, Migrate.self, Backup.self, Restore.self, Demo.self, AgentCommand.self, BroadcastCommand.self, MessageCommand.self],
        defaultSubcommand: Serve.self)
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to bridge.yaml (default: $BRIDGE_CONFIG, then ./bridge.yaml, then built-in defaults).")
    var config: String?

    func load() throws -> BridgeConfig {
        do {
            return try ConfigLoader.load(path: config)
        } catch let error as ConfigError {
            throw StartupError(description: "configuration: \(error)")
        }
    }
}

/// A reason the bridge cannot start, printed as `Error: …` without the usage text.
struct StartupError: Error, CustomStringConvertible {
    var description: String
}

enum Logs {
    /// Logs go to stderr; `LOG_LEVEL` sets the level (default `info`).
    static func bootstrap() -> Logger {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LogOutput(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        return Logger(label: "bridge")
    }
}

extension Bridge {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the bridge server.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try options.load()
            let logger = Logs.bootstrap()
            let bridge = try await RunningBridge.start(
                config: config, logger: logger, clock: TestClockFile.clock(), shutdownSignals: [.sigterm, .sigint])
            logger.info(
                "bridge listening",
                metadata: [
                    "http.address": "\(config.server.host):\(bridge.port)", "database": "\(config.database)",
                    "channels": "\(bridge.parts.registry.accounts.map { $0.key }.joined(separator: ","))",
                ])
            try await bridge.wait()
            logger.info("bridge stopped")
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or upgrade the database (SQLite or PostgreSQL), then exit.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try options.load()
            switch config.database {
            case .sqlite(let path):
                _ = try AppDatabase(path: path)
                print("database ready at \(path)")
            case .postgres(let settings):
                let logger = Logs.bootstrap()
                do {
                    let outcome = try await PostgresMigrator.migrate(settings, logger: logger)
                    let applied = outcome.applied.isEmpty ? "already current" : "applied \(outcome.applied.map(String.init).joined(separator: ", "))"
                    print("database ready at \(settings): PostgreSQL schema version \(outcome.version) (\(applied))")
                } catch let error as PostgresStoreError {
                    throw StartupError(description: error.description)
                }
            }
        }
    }
}
