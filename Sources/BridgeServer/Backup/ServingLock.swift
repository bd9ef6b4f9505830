import Foundation
import Synchronization
import UniversalInbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory `flock` on `<database>.lock` that says who is using a SQLite database: every
/// serving bridge holds it shared, `bridge restore` takes it exclusively. So a restore never swaps
/// a database out from under a running bridge, and a bridge does not start on a database being
/// restored. The kernel drops the lock when its process dies, so a crashed bridge leaves nothing
/// stale behind (the file itself stays, empty, and is harmless).
final class ServingLock: Sendable {
    private let descriptor: Mutex<Int32?>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    static func path(forDatabase databasePath: String) -> String { databasePath + ".lock" }

    /// The serving bridge's lock; fails while a restore holds the database.
    static func serving(databasePath: String) throws -> ServingLock {
        guard let lock = try take(databasePath: databasePath, operation: LOCK_SH) else {
            throw StartupError(description: "\(databasePath) is being restored (bridge restore holds \(path(forDatabase: databasePath))); start the bridge when it has finished")
        }
        return lock
    }

    /// The restore's lock, or nil when a bridge is serving the database.
    static func exclusive(databasePath: String) throws -> ServingLock? {
        try take(databasePath: databasePath, operation: LOCK_EX)
    }

    private static func take(databasePath: String, operation: Int32) throws -> ServingLock? {
        try PrivateFiles.createDirectory(URL(fileURLWithPath: databasePath).deletingLastPathComponent().path)
        let file = path(forDatabase: databasePath)
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, PrivateFiles.fileMode)
        guard fd >= 0 else {
            throw StartupError(description: "cannot open \(file): \(String(cString: strerror(errno)))")
        }
        while flock(fd, operation | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(fd)
            if busy { return nil }
            throw StartupError(description: "cannot lock \(file): \(reason)")
        }
        return ServingLock(descriptor: fd)
    }

    /// Lets go of the lock (closing the file drops it); later calls do nothing.
    func release() {
        descriptor.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}
