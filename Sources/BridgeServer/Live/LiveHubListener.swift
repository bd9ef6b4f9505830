import Logging
import PostgresStore
import ServiceLifecycle

/// On PostgreSQL: wakes the live hub when another bridge process appends to the event log or
/// changes presence, so its agents see it at once rather than at the hub's next one-second round.
/// A `PostgresLogListener` on its own connection; a bridge on SQLite has no other process and runs
/// none.
struct LiveHubListener: Service {
    let listener: PostgresLogListener

    init(hub: LiveHub, settings: PostgresSettings, logger: Logger) {
        listener = PostgresLogListener(settings: settings, logger: logger) { channel in
            hub.wake(channel == PostgresSchema.presenceChannel ? .presence : .log)
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await listener.run() }
    }
}
