import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `bridge` executable (built next to this one) running as a child process on a free port.
/// Sendable: the child process handle is only touched under `lock`.
final class BridgeProcess: @unchecked Sendable {
    let directory: URL
    let port: Int
    private let lock = NSLock()
    private var process: Process?

    init(directory: URL, lineAPI: String) throws {
        self.directory = directory
        self.port = try Self.freePort()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            server: { host: 127.0.0.1, port: \(port) }
            database: { url: "sqlite:\(directory.path)/bridge.sqlite" }
            auth: { adminToken: bench-admin-token }
            channels:
              - kind: line
                id: bench
                channelSecret: \(LoadPlan.lineSecret)
                accessToken: bench-line-token
                apiBaseURL: \(lineAPI)
            """
        try config.write(to: directory.appendingPathComponent("bridge.yaml"), atomically: true, encoding: .utf8)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var databasePath: String { directory.appendingPathComponent("bridge.sqlite").path }

    /// The `bridge` binary beside this executable.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("bridge")
    }

    func start() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--config", directory.appendingPathComponent("bridge.yaml").path]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "error"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// SIGKILL: no shutdown code runs.
    func kill() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for the graceful shutdown.
    func stop() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchmarkError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
