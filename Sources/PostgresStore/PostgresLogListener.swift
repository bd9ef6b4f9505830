import Logging
import PostgresNIO

/// Wakes this process's followers when another process on the database writes: one dedicated
/// connection `LISTEN`s on `channels` (the event log's and presence's) and calls `wake` with the
/// channel of each notification. A notification is only a hint (its payload is ignored): the
/// follower then reads the log, or the presence changes, from its own position, so a lost or
/// coalesced notification loses nothing.
///
/// When the connection drops (the server restarted, the backend was terminated, the network
/// failed) it connects again after `retryDelay`, and once listening again wakes every channel
/// once, since notifications sent meanwhile were missed; the first connection wakes them too.
/// `run()` returns when its task is cancelled, closing the connection.
public struct PostgresLogListener: Sendable {
    let settings: PostgresSettings
    let channels: [String]
    let retryDelay: Duration
    let logger: Logger
    let wake: @Sendable (String) -> Void

    public init(
        settings: PostgresSettings, channels: [String] = [PostgresSchema.eventChannel, PostgresSchema.presenceChannel],
        retryDelay: Duration = .seconds(1), logger: Logger, wake: @escaping @Sendable (_ channel: String) -> Void
    ) {
        self.settings = settings
        self.channels = channels
        self.retryDelay = retryDelay
        self.logger = logger
        self.wake = wake
    }

    /// Listens until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnector.connect(settings, logger: logger)
                do {
                    try await listen(connection, to: channels[...], sequences: [])
                } catch where !Task.isCancelled {
                    logger.warning("event listener lost its connection; reconnecting", metadata: ["error": "\(PostgresStoreError.reason(error))"])
                } catch {}
                try? await connection.close()
            } catch {
                logger.warning("event listener cannot connect; retrying", metadata: ["error": "\(error)"])
            }
            if Task.isCancelled { break }
            try? await Task.sleep(for: retryDelay)
        }
    }

    /// `LISTEN`s on each of `remaining` in turn (each `listen(on:)` sends `UNLISTEN` when its body
    /// ends), then wakes every channel once and follows the notifications until one sequence ends
    /// (the connection dropped, or the task was cancelled).
    private func listen(_ connection: PostgresConnection, to remaining: ArraySlice<String>, sequences: [PostgresNotificationSequence]) async throws {
        if let channel = remaining.first {
            try await connection.listen(on: channel) { sequence in
                try await listen(connection, to: remaining.dropFirst(), sequences: sequences + [sequence])
            }
            return
        }
        for channel in channels { wake(channel) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (channel, sequence) in zip(channels, sequences) {
                group.addTask { [wake] in
                    for try await _ in sequence { wake(channel) }
                    throw Ended()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// A notification sequence ended without an error (its task was cancelled).
    private struct Ended: Error {}
}
