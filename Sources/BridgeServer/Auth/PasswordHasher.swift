import NIOPosix
import ServiceLifecycle
import Synchronization

/// Runs bcrypt (logins, password changes) on a few threads of its own. A bcrypt at cost 12 holds a
/// core for a quarter of a second; on Swift's cooperative pool, eight concurrent logins starved
/// every other request (`/health` went from 2 ms to 750 ms and webhook acknowledgements past a
/// second). Here they wait for these threads instead, and when `threads + maxWaiting` are already
/// taken the caller is refused at once (`PasswordHasherBusy`, answered 503) rather than piling up.
final class PasswordHasher: Sendable {
    let threads: Int
    let maxWaiting: Int
    private let pool: NIOThreadPool
    /// Jobs running or waiting.
    private let taken = Atomic<Int>(0)

    init(threads: Int, maxWaiting: Int) {
        self.threads = threads
        self.maxWaiting = maxWaiting
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func hash(_ password: String, cost: Int) async throws -> String {
        try Passwords.check(password)
        return try await run { try Passwords.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await run { Passwords.verify(password, hash: hash) }
    }

    /// Jobs running or waiting now.
    var load: Int { taken.load(ordering: .relaxed) }

    /// Runs `body` on one of the pool's threads, or throws `PasswordHasherBusy` when the pool and its
    /// queue are full.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let (before, _) = taken.add(1, ordering: .acquiringAndReleasing)
        defer { taken.subtract(1, ordering: .acquiringAndReleasing) }
        guard before < threads + maxWaiting else { throw PasswordHasherBusy() }
        return try await pool.runIfActive(body)
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// Every password thread is busy and the queue is full.
struct PasswordHasherBusy: Error {}

/// Stops the password threads when the bridge stops.
struct PasswordHasherOwner: Service {
    let hasher: PasswordHasher

    func run() async throws {
        try? await gracefulShutdown()
        await hasher.shutdown()
    }
}
