/// Lets a few tests at a time through an expensive step. Swift Testing starts every test at once:
/// a couple of hundred bridges migrating together keep the process's threads busy for seconds, and
/// a hundred fresh PostgreSQL databases with their clients' connections exceed the server's
/// `max_connections`.
public actor TestGate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) { free = limit }

    /// Waits for a free place; give it back with `leave()` whatever happens.
    public func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    public func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
