import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on loopback that accepts connections and never says a word: a relay that holds
/// a connection open. `stop()` closes it and every connection it took.
final class SilentListener: Sendable {
    let port: Int
    private let listener: Int32
    private let state = Mutex((accepted: [Int32](), stopped: false))

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, address, &length) == 0
            }
        }
        guard listener >= 0, bound else {
            close(listener)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "could not listen on loopback"])
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                let kept = state.withLock { state in
                    guard !state.stopped else { return false }
                    state.accepted.append(connection)
                    return true
                }
                if !kept { close(connection) }
            }
        }
    }

    /// Returns once a connection has been taken.
    func waitForConnection() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while state.withLock({ $0.accepted.isEmpty }) {
            guard ContinuousClock.now < deadline else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "nobody connected"]) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() {
        let connections: [Int32]? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            defer { state.accepted = [] }
            return state.accepted
        }
        guard let connections else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for connection in connections { close(connection) }
    }
}
