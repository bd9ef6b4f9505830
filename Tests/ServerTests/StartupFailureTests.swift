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
