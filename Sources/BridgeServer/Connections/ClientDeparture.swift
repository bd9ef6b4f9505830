import Hummingbird
import NIOCore
import Synchronization

/// Whether the client of one connection went away (closed its side, or the connection ended),
/// and what to do when it does.
final class ClientDeparture: Sendable {
    private struct State {
        var gone = false
        var nextKey = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Runs every action registered, once.
    func signal() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.gone else { return [] }
            state.gone = true
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    /// Runs `action` when the client goes away (now, if it has); the key withdraws it.
    func onDeparture(_ action: @escaping @Sendable () -> Void) -> Int? {
        let key = state.withLock { state -> Int? in
            guard !state.gone else { return nil }
            state.nextKey += 1
            state.actions[state.nextKey] = action
            return state.nextKey
        }
        if key == nil { action() }
        return key
    }

    func withdraw(_ key: Int?) {
        guard let key else { return }
        _ = state.withLock { $0.actions.removeValue(forKey: key) }
    }
}

extension BridgeRequestContext {
    /// Runs `work` in a task of its own that is cancelled when the client goes away. A database
    /// read honours cancellation (GRDB interrupts the running SQLite statement), so a search
    /// nobody waits for any more stops and frees its connection.
    func untilClientLeaves<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let departure = await clientDeparture() else { return try await work() }
        let task = Task { try await work() }
        let key = departure.onDeparture { task.cancel() }
        defer { departure.withdraw(key) }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// The departure signal of this request's connection (none on a connection the bridge's own
    /// server did not accept, such as a test router's).
    private func clientDeparture() async -> ClientDeparture? {
        let channel = self.channel
        return try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionGuard.self).departure
        }.get()
    }
}
