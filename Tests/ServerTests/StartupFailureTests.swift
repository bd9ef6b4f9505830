@testable import BridgeServer
import Foundation
import Logging
import Testing

/// A bridge whose server cannot start ends with the reason. The service group then cancels every
/// background service; before their loops ended on cancellation they spun on `CancellationError`,
/// logging it without pause, and the process never exited, not even on SIGTERM.
@Suite struct StartupFailureTests {
    /// The time limit only turns a hang into a failure; the test waits for nothing else.
    @Test(.timeLimit(.minutes(1)))
    func aBridgeWhosePortIsTakenEndsWithTheReason() async throws {
        let holder = try PortHolder()
        defer { holder.close() }
        var config = BridgeConfig()
        config.server.host = "127.0.0.1"
        config.server.port = holder.port
        config.databasePath = SecretsAndFilesTests.temporaryDirectory() + "/bridge.sqlite"
        config.adminToken = String(repeating: "a", count: 32)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let error = await #expect(throws: (any Error).self) { _ = try await RunningBridge.start(config: config, logger: logger) }
        #expect(String(describing: error).contains("Address already in use"), "\(String(describing: error))")
    }
}

/// A TCP port on 127.0.0.1 held by a listening socket of this process.
private struct PortHolder {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && listen(descriptor, 1) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            _ = Glibc.close(descriptor)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
