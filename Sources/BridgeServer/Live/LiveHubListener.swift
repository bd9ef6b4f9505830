import Logging
import PostgresStore
import ServiceLifecycle

/// On PostgreSQL: wakes the live hub (and the website visitors' `VisitorLog`) when another bridge
/// process appends to the event log or changes presence, so its agents (and visitors) see it at
/// once rather than at the next one-second round.
/// A `PostgresLogListener` on its own connection; a bridge on SQLite has no other process and runs
/// none.
struct LiveHubListener: Service {
    let listener: PostgresLogListener

    init(hub: LiveHub, visitorLog: VisitorLog, settings: PostgresSettings, logger: Logger) {
        listener = PostgresLogListener(settings: settings, logger: logger) { channel in
            if channel == PostgresSchema.presenceChannel {
                hub.wake(.presence)
            } else {
                hub.wake(.log)
                visitorLog.moved()
            }
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await listener.run() }
    }
}
